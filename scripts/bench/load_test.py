"""Bounded load test of the forecast API under uvicorn, loopback only; stops by itself and stops what it started.

Starts uvicorn with ``forecast_api.application:create_app`` on 127.0.0.1 (a free port, ``--workers`` processes)
serving ``MODEL_REGISTRY``, then runs, with a minimal asyncio HTTP/1.1 client in this process (one keep-alive
connection per client):

0. a warm-up of ``--warmup-seconds`` of the first phase's requests, not measured (every worker's first forecast);
1. ``one_store``: ``--clients`` concurrent clients, each sending one-store 42-day ``POST /forecasts``
   back to back for ``--seconds``;
2. ``mixed``: ``--mixed-clients`` clients drawing one store (60 %), 50 stores (15 %), all stores (5 %)
   and ``GET /health`` (20 %) for ``--mixed-seconds``;
3. ``all_stores_burst``: ``--burst`` concurrent all-stores requests, ``--burst-rounds`` times.

Every phase is also capped at ``--max-requests`` requests; a phase of 0 seconds (or 0 burst rounds) is
skipped. The server's resident memory (the uvicorn process tree, from /proc) is sampled every second.
Prints JSON: per phase and request type the count, errors (any status but 200, or a transport error),
requests/s, p50/p90/p99/max latency in ms, the 1-minute load average at its start and end (the machine
is shared) and the CPU time the server and this load generator spent (both share the machine's cores);
memory after each phase, the first minute and the end.

    MODEL_REGISTRY=artifacts/models .venv/bin/python scripts/bench/load_test.py [--workers 2] [--clients 20]
        [--seconds 60] [--source DIR]   # DIR: a tree whose functions/api and layers/core/python are served
        [--s3-data-dir D]               # D: train.csv + store.csv; the S3 registry and a published state serve
"""

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import resource
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

REPO = Path(__file__).resolve().parents[2]
UVICORN = REPO / ".venv" / "bin" / "uvicorn"
HOST = "127.0.0.1"
MIXED_WEIGHTS = {"one_store": 0.60, "fifty_stores": 0.15, "all_stores": 0.05, "health": 0.20}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (from /proc)."""
    total = 0
    for current in tree_pids(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return round(total / 1024, 1)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants (from /proc)."""
    ticks = 0
    for current in tree_pids(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds used so far by this process (the load generator), all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_server(source: Path, workers: int, port: int, log_file: Path, http: str, loop: str) -> subprocess.Popen:
    """uvicorn serving ``source``'s app on 127.0.0.1:``port`` in its own process group."""
    env = dict(os.environ)
    if source != REPO:
        env["PYTHONPATH"] = os.pathsep.join([str(source / "layers" / "core" / "python"), env.get("PYTHONPATH", "")])
    argv = [str(UVICORN), "--factory", "forecast_api.application:create_app",
            "--app-dir", str(source / "functions" / "api"), "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--http", http, "--loop", loop,
            "--log-level", "warning", "--no-access-log"]
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


def wait_for_workers(url: str, log_file: Path, workers: int, event: str, timeout: float = 180.0) -> None:
    """Send ``GET /health`` on new connections until ``workers`` processes have logged ``event`` (each loaded its
    model or its history state on its first request). A worker still loading cannot accept, and the clients'
    keep-alive connections would all stay on the ready one, which then serves all of them on one core (runs
    measured so gave 170-186 requests/s instead of 450-540)."""
    deadline = time.monotonic() + timeout
    while log_file.read_text(errors="replace").count(f'"event":"{event}"') < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"fewer than {workers} workers logged {event} within {timeout:.0f} s; see {log_file}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=60):
            pass
        time.sleep(0.1)


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


class Connection:
    """One keep-alive HTTP/1.1 connection to the server: the load generator's own minimal client.

    It shares the two cores with the server, so it must cost little: httpx spent more than half the server's CPU
    per one-store request, this a tenth of httpx's. It sends a request
    and reads the status line, the headers and a Content-Length or chunked body; anything else is an error.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of one request; raises OSError, ValueError or EOFError (then the connection is closed)."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        try:
            writer.write(head.encode() + b"\r\n" + (body or b""))
            status = int((await reader.readline()).split(b" ", 2)[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                return status, await self._chunks(reader)
            return status, await reader.readexactly(int(headers[b"content-length"]))
        except (OSError, ValueError, IndexError, KeyError, EOFError) as error:
            self.close()
            raise ValueError(f"{type(error).__name__}: {error}") from None

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readline()
        return b"".join(parts)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def send(connection: Connection, phase: Phase, kind: str, store_ids: list[int]) -> None:
    """One request of ``kind``; its latency, or an error (any status but 200, a transport error, 120 s)."""
    body = None
    if kind != "health":
        stores: list[int] | str = {"one_store": lambda: [random.choice(store_ids)],
                                   "fifty_stores": lambda: random.sample(store_ids, 50),
                                   "all_stores": lambda: "all"}[kind]()
        body = json.dumps({"stores": stores, "horizon_days": 42}).encode()
    started = time.perf_counter()
    try:
        status, content = await asyncio.wait_for(
            connection.request("GET" if body is None else "POST", "/health" if body is None else "/forecasts", body),
            timeout=120,
        )
    except (ValueError, TimeoutError) as error:
        connection.close()
        phase.errors[kind].append(f"{type(error).__name__}: {error}")
        return
    elapsed = time.perf_counter() - started
    if status != 200:
        phase.errors[kind].append(f"{status}: {content[:200].decode(errors='replace')}")
        return
    phase.latencies[kind].append(elapsed)


async def run_phase(url: str, server_pid: int, phase: Phase, clients: int, seconds: float,
                    kinds: dict[str, float], store_ids: list[int]) -> dict[str, Any]:
    """``clients`` loops sending requests of ``kinds`` (weights) until ``seconds`` pass or the cap is hit; also
    the CPU seconds the server (uvicorn's process tree) and this load generator spent meanwhile."""
    load_before = os.getloadavg()[0]
    server_cpu, client_cpu = tree_cpu_s(server_pid), own_cpu_s()
    deadline = time.monotonic() + seconds
    names, weights = list(kinds), list(kinds.values())
    port = int(url.rsplit(":", 1)[1])

    async def loop() -> None:
        connection = Connection(HOST, port)
        try:
            while time.monotonic() < deadline and phase.take():
                await send(connection, phase, random.choices(names, weights)[0], store_ids)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    wall = time.perf_counter() - started
    server_cpu, client_cpu = tree_cpu_s(server_pid) - server_cpu, own_cpu_s() - client_cpu
    done = sum(len(v) for v in phase.latencies.values()) + sum(len(v) for v in phase.errors.values())
    return {
        "clients": clients, "seconds": round(wall, 1), "requests": done,
        "requests_per_s": round(done / wall, 1), "errors": sum(len(v) for v in phase.errors.values()),
        "by_type": {kind: {"count": len(phase.latencies[kind]), "errors": len(phase.errors[kind]),
                           **percentiles(phase.latencies[kind]),
                           **({"first_error": phase.errors[kind][0]} if phase.errors[kind] else {})}
                    for kind in names if phase.latencies[kind] or phase.errors[kind]},
        "load_avg_1m": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "cpu_s": {"server": round(server_cpu, 1), "load_generator": round(client_cpu, 1)},
        "cpu_ms_per_request": {"server": round(1000 * server_cpu / max(done, 1), 2),
                               "load_generator": round(1000 * client_cpu / max(done, 1), 2)},
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
    if args.warmup_seconds > 0:
        warmup = await run_phase(url, pid, Phase("warmup", args.max_requests), args.clients, args.warmup_seconds,
                                 {"one_store": 1.0}, store_ids)
        results["warmup"] = {key: warmup[key] for key in ("seconds", "requests", "errors")}
    phases = [
        ("one_store", args.clients, args.seconds, {"one_store": 1.0}),
        ("mixed", args.mixed_clients, args.mixed_seconds, MIXED_WEIGHTS),
    ]
    for name, clients, seconds, kinds in phases:
        if seconds <= 0:
            continue
        results[name] = await run_phase(url, pid, Phase(name, args.max_requests), clients, seconds, kinds, store_ids)
        results[name]["rss_mb_after"] = tree_rss_mb(pid)
    if args.burst_rounds > 0:
        burst = Phase("all_stores_burst", args.burst * args.burst_rounds)
        results["all_stores_burst"] = await run_phase(url, pid, burst, args.burst, 3600, {"all_stores": 1.0},
                                                      store_ids)
        results["all_stores_burst"]["rss_mb_after"] = tree_rss_mb(pid)
    stop.set()
    await sampler
    after_first_minute = next((rss for t, rss in samples if t >= 60), samples[-1][1])
    results["memory"] = {
        "rss_mb_after_first_minute": after_first_minute, "rss_mb_end": samples[-1][1],
        "rss_mb_max": max(rss for _, rss in samples), "samples": len(samples),
    }
    return results


def serve_from_s3(data_dir: Path) -> dict[str, Any]:
    """Start the S3-API server, publish the model version to it and run one night on ``data_dir`` (this process's
    environment then points the server at the S3 registry and the forecast bucket); the night's summary fields."""
    from scripts.bench.bench_api import publish_model, publish_state, start_s3

    client = start_s3()
    publish_model(client)
    night = publish_state(client, data_dir)(1)
    return {"run_date": night["run_date"], "origin": night["origin"], "model_version": night["model_version"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2: one per core)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup-seconds", type=float, default=5,
                        help="one-store requests first, not measured: each worker's first forecast computes the "
                             "history's statistics (about a second) and the requests queued behind it would weigh "
                             "on a short phase's p99")
    parser.add_argument("--mixed-clients", type=int, default=8)
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--burst", type=int, default=8, help="concurrent all-stores requests in the last phase")
    parser.add_argument("--burst-rounds", type=int, default=3)
    parser.add_argument("--max-requests", type=int, default=30_000, help="cap per phase")
    parser.add_argument("--source", type=Path, default=REPO, help="tree to serve (default: this repository)")
    parser.add_argument("--http", default="auto", help="uvicorn's --http (auto: httptools, installed by setup.sh)")
    parser.add_argument("--loop", default="auto", help="uvicorn's --loop (auto: uvloop, installed by setup.sh)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--s3-data-dir", type=Path,
                        help="serve as in AWS: an S3-API server (moto) on 127.0.0.1 holding MODEL_REGISTRY's version "
                             "and this data folder's files; the nightly batch publishes its history state there and "
                             "the server forecasts from it")
    args = parser.parse_args(argv)
    if not os.environ.get("MODEL_REGISTRY"):
        parser.error("set MODEL_REGISTRY (a models/ folder or s3://bucket/prefix)")
    history = serve_from_s3(args.s3_data_dir.resolve()) if args.s3_data_dir else None
    port = free_port()
    url = f"http://{HOST}:{port}"
    log_file = Path(tempfile.mkstemp(prefix="load_test_uvicorn.", suffix=".log")[1])
    process = start_server(args.source.resolve(), args.workers, port, log_file, args.http, args.loop)
    try:
        started = time.perf_counter()
        health = wait_until_serving(url, process, log_file)
        wait_for_workers(url, log_file, args.workers, "state_loaded" if history else "model_loaded")
        ready_s = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/stores", timeout=60) as response:
            store_ids = [s["store"] for s in json.loads(response.read())["stores"]]
        results = asyncio.run(measure(url, process.pid, args, store_ids))
    finally:
        stop_server(process)
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "workers": args.workers,
        "uvicorn": {"http": args.http, "loop": args.loop,
                    **{name: importlib.util.find_spec(name) is not None for name in ("httptools", "uvloop")}},
        "model_version": health["model_version"], "models": health["models"], "stores": len(store_ids),
        "server_ready_s": round(ready_s, 1), "cpus": os.cpu_count(), "server_log": str(log_file),
        "registry": os.environ["MODEL_REGISTRY"], "history": health.get("history_source"),
        "history_run_date": health.get("history_run_date"), "published_state": history, **results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    failed = sum(report[p]["errors"] for p in ("one_store", "mixed", "all_stores_burst") if p in report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
