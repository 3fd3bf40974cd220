"""Run the ``sam build`` output under Lambda's own runtime locally, without Docker.

AWS's Runtime Interface Emulator (shipped in aws-sam-cli: ``samcli/local/rapid/aws-lambda-rie-x86_64``)
serves Lambda's invoke API on 127.0.0.1 and runs the function's bootstrap, ``python3.12 -m awslambdaric
api_lambda.handler`` (the Runtime Interface Client of Lambda's python3.12 runtime, pinned in
``requirements-rie.txt``, installed into ``.venv-rie/`` by ``scripts/setup_rie.sh``): an init phase,
then each invoke with a real context object, and Lambda's own ``REPORT`` lines (Init Duration, Duration,
Max Memory Used). As on Lambda, the function folder is the task root and each layer's ``python/`` is
on the path after it; ``/var/task`` and ``/opt`` are read-only there, so no ``.pyc`` is written
(``PYTHONDONTWRITEBYTECODE``): a cold start pays for compiling whatever the build does not ship compiled.

    .venv/bin/python -m scripts.stack.rie --build-dir .aws-sam/build --registry artifacts/models \\
        [--core-layer DIR] [--cold-runs 3] [--event events/api_http_health.json ...]

Prints JSON: per cold run, Lambda's figures of each invoke (init phase, handler duration, REPORT line),
and the client's wall time to the first answer. Starts the emulator on free loopback ports and stops it
(by its PID) after each run.
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .template import load_template

REPO = Path(__file__).resolve().parents[2]
RIE_VENV = REPO / ".venv-rie"
HOST = "127.0.0.1"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
REPORT = re.compile(r"REPORT RequestId: (?P<id>\S+)\s+(?:Init Duration: (?P<init>[\d.]+) ms\s+)?"
                    r"Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: (?P<billed>\d+) ms\s+"
                    r"Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB")
INIT_REPORT = re.compile(r"\(rapid\) INIT REPORT\(durationMs: (?P<ms>[\d.]+)\)")
INVOKE_DONE = re.compile(r"\(rapid\) INVOKE RTDONE\(status: (?P<status>\w+).*?duration: (?P<ms>[\d.]+)ms\)")
DEFAULT_API_EVENTS = ("api_http_health.json", "api_http_store_forecast.json")


class RieError(RuntimeError):
    """The emulator or the function could not be run; the message carries the emulator's log tail."""


def rie_binary() -> Path:
    found = sorted(REPO.glob(".venv-sam/lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"))
    if not found:
        raise RieError("aws-lambda-rie-x86_64 not found: run scripts/setup_sam.sh")
    return found[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Function:
    """A built function: its folder (the task root), the layers' python folders, its environment."""

    task_root: Path
    layers: tuple[Path, ...]
    environment: dict[str, str]
    handler: str
    memory_mb: int = 2048
    timeout_s: int = 60


class Emulator:
    """The emulator running one function on loopback; a context manager that stops it by PID."""

    def __init__(self, function: Function) -> None:
        self.function = function
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="rie.", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Emulator":
        fn = self.function
        python = RIE_VENV / "bin" / "python"
        if not python.exists():
            raise RieError(f"{python} missing: run scripts/setup_rie.sh")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_LAMBDA_", "PYTHON"))}
        env.update(fn.environment)
        env.update({
            "PYTHONPATH": os.pathsep.join(str(p) for p in (fn.task_root, *fn.layers)),
            "PYTHONDONTWRITEBYTECODE": "1", "LAMBDA_TASK_ROOT": str(fn.task_root), "_HANDLER": fn.handler,
            "AWS_LAMBDA_FUNCTION_NAME": fn.task_root.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout_s), "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        })
        argv = [str(rie_binary()), "--runtime-interface-emulator-address", f"{HOST}:{self.port}",
                "--runtime-api-address", f"{HOST}:{free_port()}", "--log-level", "info",
                str(python), "-m", "awslambdaric", fn.handler]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(argv, cwd=fn.task_root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RieError(f"the emulator exited with {self.process.returncode}: {self.tail()}")
            with socket.socket() as probe:
                if probe.connect_ex((HOST, self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RieError(f"the emulator did not listen on {HOST}:{self.port} within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def invoke(self, event: dict[str, Any], timeout: float = 120.0) -> tuple[dict[str, Any], float]:
        """The function's answer to ``event`` and the client's wall time in seconds."""
        request = urllib.request.Request(f"http://{HOST}:{self.port}{INVOKE_PATH}", data=json.dumps(event).encode(),
                                         headers={"content-type": "application/json"}, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = json.loads(response.read())
        except OSError as error:
            raise RieError(f"invoke failed ({error}): {self.tail()}") from None
        return body, time.perf_counter() - started

    def reports(self) -> list[dict[str, Any]]:
        """Lambda's figures so far, one per invoke in order (ms): the emulator's ``REPORT`` line (its Duration
        includes the init phase, which the emulator runs when the first invoke arrives, and its Init Duration
        is a placeholder), the init phase's own duration (``INIT REPORT``, first invoke only) and the
        handler's (``INVOKE RTDONE``)."""
        text = self.log.read_text(errors="replace")
        inits = [float(m["ms"]) for m in INIT_REPORT.finditer(text)]
        invokes = [(m["status"], float(m["ms"])) for m in INVOKE_DONE.finditer(text)]
        found = []
        for index, match in enumerate(REPORT.finditer(text)):
            status, invoke_ms = invokes[index] if index < len(invokes) else (None, None)
            found.append({"init_ms": inits[0] if index == 0 and inits else None, "invoke_ms": invoke_ms,
                          "status": status, "report_duration_ms": float(match["duration"]),
                          "billed_ms": int(match["billed"])})
        return found

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.unlink(missing_ok=True)


def template_handler(logical_id: str) -> str:
    """The ``Handler`` template.yaml gives the function ``logical_id``."""
    return load_template()["Resources"][logical_id]["Properties"]["Handler"]


def api_function(build_dir: Path, core_layer: Path, environment: dict[str, str]) -> Function:
    return Function(build_dir / "ApiFunction", (core_layer, build_dir / "RuntimeLayer" / "python"), environment,
                    handler=template_handler("ApiFunction"))


def batch_function(build_dir: Path, core_layer: Path, environment: dict[str, str]) -> Function:
    return Function(build_dir / "BatchFunction", (core_layer, build_dir / "RuntimeLayer" / "python"), environment,
                    handler=template_handler("BatchFunction"), timeout_s=900)


def cold_run(function: Function, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A fresh emulator (a new execution environment): invoke each event once; REPORT figures and answers."""
    with Emulator(function) as emulator:
        answers, walls = [], []
        for event in events:
            answer, wall = emulator.invoke(event)
            answers.append(answer)
            walls.append(wall)
        time.sleep(0.2)  # the emulator writes REPORT just after the answer
        reports = emulator.reports()
        if len(reports) != len(events):
            raise RieError(f"expected {len(events)} REPORT lines, found {len(reports)}: {emulator.tail()}")
    first = reports[0]
    return {
        "init_ms": first["init_ms"], "first_invoke_ms": first["invoke_ms"],
        "first_answer_ms": first["report_duration_ms"],
        "client_first_answer_ms": round(1000 * walls[0], 1),
        "invokes": reports, "status_codes": [a.get("statusCode") for a in answers], "answers": answers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=REPO / ".aws-sam" / "build")
    parser.add_argument("--core-layer", type=Path,
                        help="the core layer's python/ folder (default: the build's CoreLayer/python)")
    parser.add_argument("--registry", required=True, help="MODEL_REGISTRY of the API function")
    parser.add_argument("--version", help="MODEL_VERSION (default: latest.json)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--event", type=Path, action="append",
                        help="event files to invoke in order (default: the API's health, forecasts, store forecast)")
    args = parser.parse_args(argv)
    events = [json.loads(p.read_text()) for p in (args.event or [REPO / "events" / n for n in DEFAULT_API_EVENTS])]
    cache = Path(tempfile.mkdtemp(prefix="rie-cache."))
    environment = {"MODEL_REGISTRY": str(Path(args.registry).resolve()) if "://" not in args.registry
                   else args.registry, "MODEL_CACHE_DIR": str(cache)}
    if args.version:
        environment["MODEL_VERSION"] = args.version
    core_layer = args.core_layer or args.build_dir / "CoreLayer" / "python"
    function = api_function(args.build_dir.resolve(), core_layer.resolve(), environment)
    runs = []
    for _ in range(args.cold_runs):
        load = os.getloadavg()[0]
        run = cold_run(function, events)
        run.pop("answers")
        runs.append({**run, "load_avg_1m": round(load, 2)})
    firsts = [r["first_answer_ms"] for r in runs]
    print(json.dumps({"function": "ApiFunction", "registry": environment["MODEL_REGISTRY"],
                      "first_answer_ms_median": statistics.median(firsts), "runs": runs}, indent=2))
    bad = [r for r in runs if any(not isinstance(code, int) or code >= 500 for code in r["status_codes"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
