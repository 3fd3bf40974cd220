"""Packaging: `sam build` output fits the 150 MB budget and its handlers run on Lambda's Python 3.12."""

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from scripts.stack import rie
from scripts.stack.template import REPO_ROOT
from synthetic import SyntheticData
from training.publish import publish_version


def python312() -> str:
    found = subprocess.run(["scripts/find_python312.sh"], cwd=REPO_ROOT, capture_output=True, text=True)
    if found.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(found.stderr)
        pytest.skip(found.stderr.strip())
    return found.stdout.strip()


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python312()
    build = tmp_path_factory.mktemp("sam") / "build"
    result = subprocess.run(["scripts/build_package.sh"], cwd=REPO_ROOT, env={**os.environ, "BUILD_DIR": str(build)},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    build.joinpath("size.txt").write_text(result.stdout)
    return build


def test_api_function_and_layers_fit_150_mb_unzipped(build_dir: Path) -> None:
    report = build_dir.joinpath("size.txt").read_text()
    total = float(re.search(r"ApiFunction \+ layers, unzipped: ([\d.]+) MB", report).group(1))
    assert total <= 150
    runtime = build_dir / "RuntimeLayer" / "python"
    assert (runtime / "onnxruntime").is_dir() and not list(runtime.rglob("tests"))
    # every layer ships compiled: Lambda's /opt is read-only, so source alone is compiled at every cold start
    for layer, package in (("CoreLayer", "rossmann_core"), ("RuntimeLayer", "numpy")):
        assert (build_dir / layer / "python" / package / "__pycache__" / "__init__.cpython-312.pyc").is_file(), layer


def lambda_runtime_boto3(target: Path) -> Path:
    """boto3 + botocore (requirements-dev.txt's pin) in ``target``: what Lambda's python3.12 runtime provides."""
    pin = next(line.strip() for line in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
               if line.startswith("boto3=="))
    subprocess.run([str(REPO_ROOT / ".venv/bin/python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "--only-binary=:all:", "--python-version", "3.12",
                    "--target", str(target), pin],
                   check=True, capture_output=True, timeout=300)
    return target


def test_built_handlers_serve_a_forecast_on_python_312(build_dir: Path, synthetic_version_dir: Path) -> None:
    models = synthetic_version_dir.parent
    runtime = lambda_runtime_boto3(build_dir.parent / "lambda-runtime")
    result = subprocess.run([python312(), "-I", "scripts/stack/smoke_lambda.py", str(build_dir), str(models),
                             str(runtime)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert '"python": "3.12' in result.stdout.splitlines()[-1]


@pytest.fixture(scope="module")
def lambda_runtime() -> None:
    """Lambda's python3.12 runtime (awslambdaric + the SDK) in .venv-rie/, for the runtime emulator."""
    python312()
    result = subprocess.run(["scripts/setup_rie.sh"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_built_functions_answer_under_lambdas_runtime_emulator(
    build_dir: Path, lambda_runtime: None, synthetic_version_dir: Path, synthetic: SyntheticData, s3_env: str,
    tmp_path: Path,
) -> None:
    # GIVEN the built API function, its layers and a model, run by the emulator as Lambda's python3.12 runtime
    core = build_dir / "CoreLayer" / "python"
    api = rie.api_function(build_dir, core, {"MODEL_REGISTRY": str(synthetic_version_dir.parent),
                                             "MODEL_CACHE_DIR": str(tmp_path / "api-cache")})
    events = [json.loads((REPO_ROOT / "events" / name).read_text())
              for name in ("api_http_health.json", "api_http_forecasts.json", "api_rest_store_forecast.json")]
    run = rie.cold_run(api, events)
    # THEN every event is answered, and Lambda reports its init phase and each invoke
    assert run["status_codes"] == [200, 200, 200], run["answers"]
    assert json.loads(run["answers"][0]["body"])["model_version"] == synthetic_version_dir.name
    assert run["init_ms"] > 0 and all(r["status"] == "success" for r in run["invokes"])
    # AND the built batch function runs the genuine manual event against the S3 server on 127.0.0.1
    client = boto3.client("s3")
    buckets = {name: f"rie-{name}-{uuid.uuid4().hex[:8]}" for name in ("models", "data", "forecasts")}
    for bucket in buckets.values():
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    publish_version(synthetic_version_dir.parent.parent, buckets["models"], client=client)
    for name in ("train.csv", "store.csv"):
        client.upload_file(str(synthetic.directory / name), buckets["data"], name)
    aws = {name: os.environ[name] for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                "AWS_DEFAULT_REGION")}
    batch = rie.batch_function(build_dir, core, {
        **aws, "MODEL_REGISTRY": f"s3://{buckets['models']}/models", "MODEL_CACHE_DIR": str(tmp_path / "batch-cache"),
        "DATA_BUCKET": buckets["data"], "FORECAST_BUCKET": buckets["forecasts"],
    })
    result = rie.cold_run(batch, [json.loads((REPO_ROOT / "events" / "batch_run_date.json").read_text())])
    assert result["answers"][0]["status"] == "ok", result["answers"][0]
    assert client.list_objects_v2(Bucket=buckets["forecasts"], Prefix="forecasts/state/")["KeyCount"] == 1
