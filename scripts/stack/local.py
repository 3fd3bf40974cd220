"""Local emulation of the stack on 127.0.0.1, no Docker: ``python -m scripts.stack.local up|down``.

``up``: an S3-API server (moto) in the background, the buckets of ``template.yaml`` (names read from
its parameter defaults), ``train.csv`` without its last ``--hold-back-days`` days and ``store.csv``
uploaded to the data bucket, a trained model version published to the registry, the API served by
uvicorn from ``forecast_api.application:create_app``, and the nightly batch (``batch_lambda.handler``) invoked with
the genuine scheduled event in ``events/``; then the held-back tail is appended (the whole file
uploaded) and the batch runs for the next day. After each run the API's origin (``GET /health``)
moves to the newest data's last day without a restart: ``stack.json`` lists the steps.
``down``: stops the processes ``up`` started, by their saved PIDs only.

State lives in ``--state-dir`` (default ``.local/``): ``<name>.pid`` (JSON: pid and command line),
``<name>.log``, ``env`` (``source`` it to point the AWS CLI or boto3 at the local server),
``sam-env.json`` (``sam local ... --env-vars``: the same settings for SAM's containers) and
``stack.json`` (what is where).
"""

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core.errors import RossmannError

from .publish import publish, resolve_version_dir
from .template import REPO_ROOT, bucket_names, load_template

REGION = "eu-central-1"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
SCHEDULED_EVENT = REPO_ROOT / "events" / "batch_scheduled.json"
DEFAULT_MOTO_PORT = 5310
DEFAULT_API_PORT = 8310
DEFAULT_HOLD_BACK_DAYS = 7
REGISTRY_PREFIX = "models"
STATE_REFRESH_SECONDS = "1"
"""Locally the API checks the state pointer every second, so the demo need not wait (AWS: 300)."""


class LocalStackError(RossmannError):
    """The local stack cannot be brought up; the message says which step failed and why."""


@dataclass(frozen=True)
class LocalConfig:
    state_dir: Path
    data_dir: Path
    model_dir: Path | None
    moto_port: int
    api_port: int
    hold_back_days: int = DEFAULT_HOLD_BACK_DAYS

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def aws_env(endpoint: str) -> dict[str, str]:
    """Environment that sends every AWS SDK call to the local server with dummy credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION}


def start_process(state_dir: Path, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start ``argv`` in its own session, logging to ``<name>.log``; save its PID and command line."""
    log = open(state_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, closed below
    try:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    (state_dir / f"{name}.pid").write_text(json.dumps({"pid": process.pid, "argv": argv}))
    return process


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> int:
    """Poll ``url`` until it answers (any HTTP status); raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStackError(f"{process.args[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.2)
    raise LocalStackError(f"{url} did not answer within {timeout:.0f} s; see {log}")


def _alive_and_ours(pid: int, argv: list[str]) -> bool:
    """True if ``pid`` runs and its command line is the one saved (so a reused PID is left alone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    parts = [part.decode() for part in cmdline if part]
    return parts[-len(argv) :] == argv


def stop_process(pid_file: Path, timeout: float = 10.0) -> str:
    """SIGTERM (then SIGKILL) the process saved in ``pid_file``, if still ours; remove the file."""
    saved = json.loads(pid_file.read_text())
    pid, argv = saved["pid"], saved["argv"]
    name = pid_file.stem
    if not _alive_and_ours(pid, argv):
        pid_file.unlink()
        return f"{name}: pid {pid} not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive_and_ours(pid, argv):
        time.sleep(0.1)
    if _alive_and_ours(pid, argv):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink()
    return f"{name}: stopped pid {pid}"


def down(state_dir: Path) -> list[str]:
    """Stop every process ``up`` started (API first, then the S3 server)."""
    order = {"api": 0, "moto": 1}
    pid_files = sorted(state_dir.glob("*.pid"), key=lambda p: order.get(p.stem, -1))
    return [stop_process(p) for p in pid_files]


def invoke_batch(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Call ``batch_lambda.handler`` in this process with ``event``, as Lambda would."""
    os.environ.update(env)
    module = importlib.import_module("batch_lambda")

    class Context:
        aws_request_id = f"local-{int(time.time())}"
        function_name = "rossmann-forecast-batch"
        memory_limit_in_mb = 3538
        invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-batch"

    result = module.handler(event, Context())
    if result["status"] != "ok":
        raise LocalStackError(f"nightly batch failed: {result['error']}")
    return result


def hold_back(train_csv: bytes, days: int) -> bytes:
    """``train.csv`` without the rows of its last ``days`` days (Kaggle's ISO dates, any row order)."""
    lines = train_csv.splitlines(keepends=True)
    header = [name.strip().strip('"') for name in lines[0].decode().split(",")]
    column = header.index("Date")
    rows = [line for line in lines[1:] if line.strip()]
    dates = [line.split(b",")[column].strip().strip(b'"').decode() for line in rows]
    cutoff = str(max(np.array(dates, dtype="datetime64[D]")) - days)
    return b"".join([lines[0], *(line for line, date in zip(rows, dates, strict=True) if date <= cutoff)])


def api_health(api_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{api_url}/health", timeout=10) as response:
        return json.loads(response.read())


def wait_for_origin(api_url: str, origin: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll ``GET /health`` until the API forecasts from ``origin``; its answer, or LocalStackError."""
    deadline = time.monotonic() + timeout
    while True:
        health = api_health(api_url)
        if health["origin"] == origin and health["history_source"] == "nightly_batch":
            return health
        if time.monotonic() > deadline:
            raise LocalStackError(f"the API still forecasts from {health['origin']} ({health['history_source']}, "
                                  f"{health['history_note']}) {timeout:.0f} s after a batch published {origin}")
        time.sleep(0.2)


def origin_step(step: str, health: dict[str, Any]) -> dict[str, Any]:
    """One line of the demo: what the API said after ``step``."""
    return {"step": step, **{k: health[k] for k in ("origin", "model_origin", "history_source", "history_run_date")}}


def up(config: LocalConfig) -> dict[str, Any]:
    """Bring the stack up; on any failure stop what was started and raise LocalStackError."""
    state = config.state_dir
    state.mkdir(parents=True, exist_ok=True)
    if list(state.glob("*.pid")):
        raise LocalStackError(f"{state} holds PID files: already up? run scripts/local_down.sh first")
    try:
        return _up(config)
    except BaseException:
        down(state)
        raise


def _up(config: LocalConfig) -> dict[str, Any]:
    import boto3

    state = config.state_dir
    env = aws_env(config.endpoint)
    moto = start_process(state, "moto", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p",
                                         str(config.moto_port)], env)
    wait_for_http(f"{config.endpoint}/moto-api/", moto, state / "moto.log")
    client = boto3.client("s3", endpoint_url=config.endpoint, region_name=REGION,
                          aws_access_key_id="local", aws_secret_access_key="local")
    buckets = bucket_names(load_template())
    for bucket in buckets.values():
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    train = (config.data_dir / "train.csv").read_bytes()
    data = buckets["DataBucket"]
    client.put_object(Bucket=data, Key="train.csv", Body=hold_back(train, config.hold_back_days))
    client.upload_file(str(config.data_dir / "store.csv"), data, "store.csv")
    version_dir = resolve_version_dir(config.model_dir, config.data_dir, state / "artifacts")
    publish(client, version_dir, buckets["ModelBucket"], REGISTRY_PREFIX)
    registry = f"s3://{buckets['ModelBucket']}/{REGISTRY_PREFIX}"
    settings = {"MODEL_REGISTRY": registry, "DATA_BUCKET": data, "FORECAST_BUCKET": buckets["ForecastBucket"],
                "STATE_REFRESH_SECONDS": STATE_REFRESH_SECONDS}
    api_env = {**env, **settings, "MODEL_CACHE_DIR": str(state / "cache" / "api")}
    api = start_process(state, "api", [str(VENV_BIN / "uvicorn"), "--factory", "forecast_api.application:create_app",
                                       "--host", "127.0.0.1", "--port", str(config.api_port)], api_env)
    wait_for_http(f"{config.api_url}/health", api, state / "api.log")
    origins = [origin_step("model loaded, no batch run yet", api_health(config.api_url))]
    batch_env = {**env, **settings, "MODEL_CACHE_DIR": str(state / "cache" / "batch")}
    batch = invoke_batch(json.loads(SCHEDULED_EVENT.read_text()), batch_env)
    origins.append(origin_step(f"batch {batch['run_date']}, data to {batch['origin']}",
                               wait_for_origin(config.api_url, batch["origin"])))
    if config.hold_back_days:
        client.put_object(Bucket=data, Key="train.csv", Body=train)
        next_day = str(np.datetime64(batch["run_date"]) + 1)
        batch = invoke_batch({"run_date": next_day}, batch_env)
        step = f"{config.hold_back_days} held-back days appended, batch {next_day}, data to {batch['origin']}"
        origins.append(origin_step(step, wait_for_origin(config.api_url, batch["origin"])))
    exports = {k: env[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                   "AWS_DEFAULT_REGION")}
    exports.update(settings, API_URL=config.api_url)
    (state / "env").write_text("".join(f"export {k}={v}\n" for k, v in exports.items()))
    sam_env = {"AWS_ENDPOINT_URL_S3": config.endpoint, **settings}
    (state / "sam-env.json").write_text(json.dumps({"Parameters": sam_env}, indent=2))
    info = {"s3_endpoint": config.endpoint, "api_url": config.api_url, "buckets": buckets,
            "model_version": version_dir.name, "origins": origins,
            "batch": {k: batch[k] for k in ("run_date", "origin", "rows", "stores", "seconds", "output")},
            "pids": {p.stem: json.loads(p.read_text())["pid"] for p in state.glob("*.pid")}}
    (state / "stack.json").write_text(json.dumps(info, indent=2))
    return info


def main(argv: list[str] | None = None) -> int:
    from training.config import data_dir

    parser = argparse.ArgumentParser(prog="python -m scripts.stack.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("LOCAL_STATE_DIR", REPO_ROOT / ".local")))
    parser.add_argument("--data-dir", type=Path, help="train.csv + store.csv (default: the training data folder)")
    parser.add_argument("--model-dir", type=Path,
                        help="model version folder to publish (default: artifacts/models/latest, else train one)")
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", DEFAULT_MOTO_PORT)))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", DEFAULT_API_PORT)))
    parser.add_argument("--hold-back-days", type=int, default=DEFAULT_HOLD_BACK_DAYS,
                        help="upload train.csv without its last N days, append them before a second batch (0: one run)")
    args = parser.parse_args(argv)
    if args.hold_back_days < 0:
        parser.error("--hold-back-days must be 0 or more")
    if args.command == "down":
        print("\n".join(down(args.state_dir)) or f"nothing to stop in {args.state_dir}")
        return 0
    config = LocalConfig(args.state_dir.resolve(), data_dir(args.data_dir and str(args.data_dir)).resolve(),
                         args.model_dir and args.model_dir.resolve(), args.moto_port, args.api_port,
                         args.hold_back_days)
    try:
        info = up(config)
    except (RossmannError, OSError) as error:  # LocalStackError, PublishError, bad data: the message says why
        print(f"local stack not started: {error}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    print("API origin: " + " -> ".join(f"{o['origin']} ({o['step']})" for o in info["origins"]))
    forecasts = info["buckets"]["ForecastBucket"]
    print(f"source {config.state_dir / 'env'}  # then: curl $API_URL/health; aws s3 ls s3://{forecasts} --recursive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
