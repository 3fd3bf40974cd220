"""Bounded load test of the forecast API under uvicorn, loopback only; stops by itself and stops what it started.

Starts ``uvicorn app:app`` on 127.0.0.1 (a free port, ``--workers`` processes) serving ``MODEL_REGISTRY``,
then runs, with an asyncio httpx client in this process:

1. ``one_store``: ``--clients`` concurrent clients, each sending one-store 42-day ``POST /forecasts``
   back to back for ``--seconds``;
2. ``mixed``: ``--mixed-clients`` clients drawing one store (60 %), 50 stores (15 %), all stores (5 %)
   and ``GET /health`` (20 %) for ``--mixed-seconds``;
3. ``all_stores_burst``: ``--burst`` concurrent all-stores requests, ``--burst-rounds`` times.

Every phase is also capped at ``--max-requests`` requests. The server's resident memory (the uvicorn
process tree, from /proc) is sampled every second. Prints JSON: per phase and request type the count,
errors (any status but 200, or a transport error), requests/s, p50/p90/p99/max latency in ms, and the
1-minute load average at its start and end (the machine is shared); memory after each phase, the
first minute and the end.

    MODEL_REGISTRY=artifacts/models .venv/bin/python scripts/load_test.py [--workers 2] [--clients 20]
        [--seconds 60] [--source DIR]   # DIR: a tree whose functions/api and layers/core/python are served
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
UVICORN = REPO / ".venv" / "bin" / "uvicorn"
HOST = "127.0.0.1"
MIXED_WEIGHTS = {"one_store": 0.60, "fifty_stores": 0.15, "all_stores": 0.05, "health": 0.20}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (from /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return round(total / 1024, 1)


def start_server(source: Path, workers: int, port: int, log_file: Path) -> subprocess.Popen:
    """uvicorn serving ``source``'s app on 127.0.0.1:``port`` in its own process group."""
    env = dict(os.environ)
    if source != REPO:
        env["PYTHONPATH"] = os.pathsep.join([str(source / "layers" / "core" / "python"), env.get("PYTHONPATH", "")])
    argv = [str(UVICORN), "app:app", "--app-dir", str(source / "functions" / "api"), "--host", HOST,
            "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    with open(log_file, "ab") as log:
        return subprocess.Popen(argv, cwd=source, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the process group this script started (then SIGKILL after 15 s)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_serving(url: str, process: subprocess.Popen, log_file: Path, timeout: float = 180.0) -> dict:
    """``GET /health`` once it answers 200 (the model is loaded); raise if the server dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited with {process.returncode}: {log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url}/health did not answer 200 within {timeout:.0f} s; see {log_file}")


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": round(1000 * ordered[-1], 1),
            "mean_ms": round(1000 * statistics.fmean(ordered), 1)}


class Phase:
    """Latencies and errors of one phase, by request type."""

    def __init__(self, name: str, max_requests: int) -> None:
        self.name = name
        self.max_requests = max_requests
        self.sent = 0
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def take(self) -> bool:
        """Whether one more request may be sent."""
        self.sent += 1
        return self.sent <= self.max_requests


async def send(client: httpx.AsyncClient, phase: Phase, kind: str, store_ids: list[int]) -> None:
    if kind == "health":
        request = client.build_request("GET", "/health")
    else:
        stores: list[int] | str = {"one_store": lambda: [random.choice(store_ids)],
                                   "fifty_stores": lambda: random.sample(store_ids, 50),
                                   "all_stores": lambda: "all"}[kind]()
        request = client.build_request("POST", "/forecasts", json={"stores": stores, "horizon_days": 42})
    started = time.perf_counter()
    try:
        response = await client.send(request)
        await response.aread()
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            phase.errors[kind].append(f"{response.status_code}: {response.text[:200]}")
            return
        phase.latencies[kind].append(elapsed)
    except httpx.HTTPError as error:
        phase.errors[kind].append(f"{type(error).__name__}: {error}")


async def run_phase(url: str, phase: Phase, clients: int, seconds: float, kinds: dict[str, float],
                    store_ids: list[int]) -> dict[str, Any]:
    """``clients`` loops sending requests of ``kinds`` (weights) until ``seconds`` pass or the cap is hit."""
    load_before = os.getloadavg()[0]
    deadline = time.monotonic() + seconds
    names, weights = list(kinds), list(kinds.values())
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def loop() -> None:
            while time.monotonic() < deadline and phase.take():
                await send(client, phase, random.choices(names, weights)[0], store_ids)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        wall = time.perf_counter() - started
    done = sum(len(v) for v in phase.latencies.values()) + sum(len(v) for v in phase.errors.values())
    return {
        "clients": clients, "seconds": round(wall, 1), "requests": done,
        "requests_per_s": round(done / wall, 1), "errors": sum(len(v) for v in phase.errors.values()),
        "by_type": {kind: {"count": len(phase.latencies[kind]), "errors": len(phase.errors[kind]),
                           **percentiles(phase.latencies[kind]),
                           **({"first_error": phase.errors[kind][0]} if phase.errors[kind] else {})}
                    for kind in names if phase.latencies[kind] or phase.errors[kind]},
        "load_avg_1m": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
    }


async def sample_memory(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        samples.append((round(time.monotonic() - started, 1), tree_rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def measure(url: str, pid: int, args: argparse.Namespace, store_ids: list[int]) -> dict[str, Any]:
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(pid, samples, stop))
    results: dict[str, Any] = {"rss_mb_loaded": tree_rss_mb(pid)}
    phases = [
        ("one_store", args.clients, args.seconds, {"one_store": 1.0}),
        ("mixed", args.mixed_clients, args.mixed_seconds, MIXED_WEIGHTS),
    ]
    for name, clients, seconds, kinds in phases:
        results[name] = await run_phase(url, Phase(name, args.max_requests), clients, seconds, kinds, store_ids)
        results[name]["rss_mb_after"] = tree_rss_mb(pid)
    burst = Phase("all_stores_burst", args.burst * args.burst_rounds)
    results["all_stores_burst"] = await run_phase(url, burst, args.burst, 3600, {"all_stores": 1.0}, store_ids)
    results["all_stores_burst"]["rss_mb_after"] = tree_rss_mb(pid)
    stop.set()
    await sampler
    after_first_minute = next((rss for t, rss in samples if t >= 60), samples[-1][1])
    results["memory"] = {
        "rss_mb_after_first_minute": after_first_minute, "rss_mb_end": samples[-1][1],
        "rss_mb_max": max(rss for _, rss in samples), "samples": len(samples),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2: one per core)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--mixed-clients", type=int, default=8)
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--burst", type=int, default=8, help="concurrent all-stores requests in the last phase")
    parser.add_argument("--burst-rounds", type=int, default=3)
    parser.add_argument("--max-requests", type=int, default=30_000, help="cap per phase")
    parser.add_argument("--source", type=Path, default=REPO, help="tree to serve (default: this repository)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if not os.environ.get("MODEL_REGISTRY"):
        parser.error("set MODEL_REGISTRY (a models/ folder or s3://bucket/prefix)")
    port = free_port()
    url = f"http://{HOST}:{port}"
    log_file = Path(tempfile.mkstemp(prefix="load_test_uvicorn.", suffix=".log")[1])
    process = start_server(args.source.resolve(), args.workers, port, log_file)
    try:
        started = time.perf_counter()
        health = wait_until_serving(url, process, log_file)
        ready_s = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/stores", timeout=60) as response:
            store_ids = [s["store"] for s in json.loads(response.read())["stores"]]
        results = asyncio.run(measure(url, process.pid, args, store_ids))
    finally:
        stop_server(process)
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "workers": args.workers,
        "model_version": health["model_version"], "models": health["models"], "stores": len(store_ids),
        "server_ready_s": round(ready_s, 1), "cpus": os.cpu_count(), "server_log": str(log_file), **results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    failed = sum(report[p]["errors"] for p in ("one_store", "mixed", "all_stores_burst"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
