"""Faults an unlucky operator or an attacker causes, against a real S3-API server (moto) on 127.0.0.1, the
real app and the real batch handler: a damaged cache, damaged or missing objects, a hostile pointer, an
S3 outage. Each must answer a clear 503 (or a failed batch that writes nothing) naming the object and
the reason without local paths, and recover once the fault is gone, without a restart."""

import gzip
import hashlib
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_support import batch_context, s3_stack, serve_from, serving
from batch_lambda import handler
from conftest import HOLDOUT_CUTOFF, TinyForest
from forecast_api import model_state
from forecast_api.application import create_app
from nightly_batch import handler as batch_handler
from synthetic import SyntheticData

BUCKETS = {"models": "faults-models", "data": "faults-data", "forecasts": "faults-forecasts"}
REGISTRY = f"s3://{BUCKETS['models']}/models"



@pytest.fixture(scope="module")
def version_dir(tiny_forest: TinyForest) -> Path:
    return tiny_forest(HOLDOUT_CUTOFF)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str, version_dir: Path, synthetic: SyntheticData) -> Iterator[Any]:
    """The session's S3 server holding a published model and the data."""
    with s3_stack(s3_endpoint, BUCKETS, version_dir, {"AWS_MAX_ATTEMPTS": "1"}, synthetic.files) as client:
        yield client


@pytest.fixture()
def api(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app serving the S3 registry through a fresh cache folder, as a new container would."""
    monkeypatch.delenv("FORECAST_BUCKET", raising=False)
    with serving(monkeypatch, REGISTRY, tmp_path / "cache") as client:
        yield client


@pytest.fixture()
def batch(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"DATA_BUCKET": BUCKETS["data"], "FORECAST_BUCKET": BUCKETS["forecasts"],
                        "MODEL_REGISTRY": REGISTRY, "MODEL_CACHE_DIR": str(tmp_path / "batch-cache")}.items():
        monkeypatch.setenv(name, value)
    batch_handler.reset()
    yield
    batch_handler.reset()


def model_key(version_dir: Path, name: str) -> str:
    return f"models/{version_dir.name}/{name}"


def replaced(s3: Any, key: str, body: bytes) -> bytes:
    """Put ``body`` at ``key`` of the model bucket; return what was there."""
    before = s3.get_object(Bucket=BUCKETS["models"], Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKETS["models"], Key=key, Body=body)
    return before


def forecast_objects(s3: Any) -> dict[str, str]:
    listing = s3.list_objects_v2(Bucket=BUCKETS["forecasts"])
    return {item["Key"]: item["ETag"] for item in listing.get("Contents", [])}


def assert_no_local_path(text: str, *paths: Path) -> None:
    for path in paths:
        assert str(path) not in text, f"a local path leaks into {text!r}"


def flip_last_byte(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


DAMAGES = {
    "a model file altered": lambda folder: flip_last_byte(folder / "rf.onnx"),
    "the node values altered": lambda folder: flip_last_byte(folder / "rf_paths.npz"),
    "the state file missing": lambda folder: (folder / "store_state.npz").unlink(),
    "the manifest truncated": lambda folder: (folder / "manifest.json").write_bytes(
        (folder / "manifest.json").read_bytes()[:100]),
    "the manifest missing": lambda folder: (folder / "manifest.json").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_cached_copy_is_evicted_and_fetched_again(api: TestClient, tmp_path: Path, version_dir: Path,
                                                            damage: Any) -> None:
    # GIVEN a container that cached the version in /tmp, whose copy is then damaged
    assert api.get("/health").status_code == 200
    cached = next((tmp_path / "cache").glob(f"*/{version_dir.name}"))
    damage(cached)
    # WHEN a new container starts on the same /tmp THEN it serves, from a fresh verified copy
    model_state.reset()
    response = api.get("/stores/1/forecast?horizon_days=3")
    assert response.status_code == 200, response.text
    assert {p.name: p.read_bytes() for p in cached.iterdir()} == {p.name: p.read_bytes() for p in version_dir.iterdir()}


def test_the_batch_also_recovers_from_a_damaged_cache(s3: Any, batch: None, tmp_path: Path, version_dir: Path) -> None:
    assert handler({"run_date": "2015-06-20"}, batch_context())["status"] == "ok"
    cached = next((tmp_path / "batch-cache").glob(f"*/{version_dir.name}"))
    flip_last_byte(cached / "store_state.npz")
    batch_handler.reset()
    assert handler({"run_date": "2015-06-20"}, batch_context())["status"] == "ok"


def test_a_damaged_object_in_s3_is_never_cached_and_its_repair_is_picked_up(
    s3: Any, api: TestClient, tmp_path: Path, version_dir: Path
) -> None:
    key = model_key(version_dir, "rf.onnx")
    good = replaced(s3, key, b"truncated")
    try:
        response = api.get("/health")
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert f"{version_dir.name}/rf.onnx: sha256" in detail and "does not match the manifest" in detail
        assert_no_local_path(detail, tmp_path, version_dir)
        assert not list((tmp_path / "cache").glob(f"*/{version_dir.name}")), "an unverified copy was cached"
    finally:
        s3.put_object(Bucket=BUCKETS["models"], Key=key, Body=good)
    assert api.get("/health").status_code == 200, "the repaired object is served without a restart"


def test_models_skips_an_unreadable_older_manifest(s3: Any, api: TestClient, version_dir: Path) -> None:
    broken = {"models/20000101T000000Z/manifest.json": b'{"version": "2000',
              "models/20000102T000000Z/manifest.json": b"[]", "models/scratch/manifest.json": b"{}"}
    for key, body in broken.items():
        s3.put_object(Bucket=BUCKETS["models"], Key=key, Body=body)
    try:
        response = api.get("/models")
        assert response.status_code == 200, response.text
        assert [v["version"] for v in response.json()["versions"]] == [version_dir.name]
    finally:
        for key in broken:
            s3.delete_object(Bucket=BUCKETS["models"], Key=key)


POINTERS = {
    "outside the registry": (b'{"version": "../elsewhere/20150131T000000Z"}', "is not a version name"),
    "an empty object": (b"{}", 'latest.json has no "version"'),
    "truncated": (b'{"version": "2015', "latest.json is not valid JSON"),
    "not an object": (b'["20150131T000000Z"]', "latest.json is not a JSON object"),
    "a missing version": (b'{"version": "20990101T000000Z"}', "20990101T000000Z/manifest.json: 404"),
}


@pytest.mark.parametrize(("pointer", "reason"), POINTERS.values(), ids=POINTERS.keys())
def test_a_bad_latest_pointer_is_a_clear_503_and_its_repair_is_picked_up(
    s3: Any, api: TestClient, tmp_path: Path, pointer: bytes, reason: str
) -> None:
    good = replaced(s3, "models/latest.json", pointer)
    try:
        response = api.get("/health")
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert reason in detail and f"s3://{BUCKETS['models']}/models/" in detail
        assert_no_local_path(detail, tmp_path)
        assert not (tmp_path / "elsewhere").exists() and not list(tmp_path.rglob("elsewhere"))
    finally:
        s3.put_object(Bucket=BUCKETS["models"], Key="models/latest.json", Body=good)
    assert api.get("/health").status_code == 200


@pytest.mark.parametrize(("pointer", "reason"), [POINTERS["outside the registry"], POINTERS["a missing version"]],
                         ids=["outside the registry", "a missing version"])
def test_a_bad_latest_pointer_fails_the_batch_which_writes_nothing(s3: Any, batch: None, pointer: bytes,
                                                                   reason: str) -> None:
    before = forecast_objects(s3)
    good = replaced(s3, "models/latest.json", pointer)
    try:
        result = handler({"run_date": "2015-06-21"}, batch_context())
    finally:
        s3.put_object(Bucket=BUCKETS["models"], Key="models/latest.json", Body=good)
    assert result["status"] == "failed" and reason in result["error"]
    assert forecast_objects(s3) == before
    assert handler({"run_date": "2015-06-21"}, batch_context())["status"] == "ok"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_s3_outage_is_a_clear_503_and_a_failed_batch_then_both_recover(
    s3: Any, api: TestClient, batch: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    before = forecast_objects(s3)
    with monkeypatch.context() as outage:
        outage.setenv("AWS_ENDPOINT_URL", endpoint)
        response = api.get("/health")
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert f"cannot read s3://{BUCKETS['models']}/models/latest.json: Could not connect" in detail
        result = handler({"run_date": "2015-06-22"}, batch_context())
        assert result["status"] == "failed" and "Could not connect" in result["error"]
    assert forecast_objects(s3) == before
    assert api.get("/health").status_code == 200
    assert handler({"run_date": "2015-06-22"}, batch_context())["status"] == "ok"


def test_a_loaded_model_keeps_serving_through_an_outage(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.get("/health").status_code == 200
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    assert api.get("/stores/1/forecast?horizon_days=3").status_code == 200


@pytest.mark.parametrize(("run_date", "reason"), [
    ("1900-01-01", "run_date 1900-01-01 is before the history's first day"),
    ("2031-01-01", "run_date 2031-01-01 is more than 366 days after the data's last day"),
])
def test_a_run_date_outside_the_data_fails_and_writes_nothing(s3: Any, batch: None, run_date: str,
                                                              reason: str) -> None:
    before = forecast_objects(s3)
    result = handler({"run_date": run_date}, batch_context())
    assert result["status"] == "failed" and reason in result["error"]
    assert forecast_objects(s3) == before


def test_the_batch_reads_gzip_and_a_bom_and_names_the_line_of_a_byte_that_is_not_utf8(s3: Any, batch: None) -> None:
    # GIVEN the night's train.csv delivered gzip-compressed, and store.csv with Excel's byte-order mark
    train = s3.get_object(Bucket=BUCKETS["data"], Key="train.csv")["Body"].read()
    stores = s3.get_object(Bucket=BUCKETS["data"], Key="store.csv")["Body"].read()
    zipped = gzip.compress(train)
    try:
        s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=zipped)
        s3.put_object(Bucket=BUCKETS["data"], Key="store.csv", Body=b"\xef\xbb\xbf" + stores)
        # WHEN the night runs THEN it forecasts as from the plain files
        result = handler({"run_date": "2015-06-23"}, batch_context())
        assert result["status"] == "ok", result
        assert result["data"]["sha256"]["train.csv"] == hashlib.sha256(zipped).hexdigest()
        # AND a byte that is not UTF-8 fails the night, naming the file and the line, and writes nothing
        lines = train.split(b"\n")
        lines[4] = lines[4] + b"\xe9"
        s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=b"\n".join(lines))
        before = forecast_objects(s3)
        failed = handler({"run_date": "2015-06-24"}, batch_context())
        assert failed["status"] == "failed" and "train.csv line 5" in failed["error"], failed
        assert "0xe9 is not UTF-8" in failed["error"] and forecast_objects(s3) == before
    finally:
        s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=train)
        s3.put_object(Bucket=BUCKETS["data"], Key="store.csv", Body=stores)


def test_a_local_registry_names_the_damaged_file_without_its_path(synthetic_version_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "models"
    shutil.copytree(synthetic_version_dir.parent, registry)
    version = registry / synthetic_version_dir.name
    (version / "rf.onnx").unlink()
    serve_from(monkeypatch, registry)
    try:
        with TestClient(create_app()) as client:
            response = client.get("/health")
            assert response.status_code == 503
            detail = response.json()["detail"]
            assert f"{version.name}/rf.onnx is listed in the manifest but missing" in detail
            assert_no_local_path(detail, tmp_path)
            (version / "manifest.json").write_text("{")
            detail = client.get("/health").json()["detail"]
            assert f"{version.name}/manifest.json is not valid JSON" in detail
            assert_no_local_path(detail, tmp_path)
    finally:
        serve_from(monkeypatch, None)


def test_the_local_stack_publishes_a_model_folder_of_any_name(s3: Any, version_dir: Path, tmp_path: Path) -> None:
    from scripts.stack.publish import publish, resolve_version_dir

    folder = tmp_path / "my-models"
    shutil.copytree(version_dir, folder / version_dir.name)
    (folder / "latest.json").write_text(json.dumps({"version": version_dir.name}))
    for model_dir in (folder, folder / version_dir.name):
        resolved = resolve_version_dir(model_dir, tmp_path, tmp_path / "unused")
        uri = publish(s3, resolved, BUCKETS["models"], "local-stack")
        assert uri == f"s3://{BUCKETS['models']}/local-stack/{version_dir.name}"


def test_the_local_stack_refuses_a_bad_model_dir_with_a_message(synthetic: SyntheticData, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.stack.local import main

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "latest.json").write_text('{"version": "../../etc"}')
    for model_dir in (tmp_path / "empty", tmp_path / "models"):
        model_dir.mkdir(exist_ok=True)
        code = main(["up", "--state-dir", str(tmp_path / "state"), "--data-dir", str(synthetic.directory),
                     "--model-dir", str(model_dir), "--moto-port", str(closed_port()),
                     "--api-port", str(closed_port())])
        error = capsys.readouterr().err
        assert code == 1 and error.startswith("local stack not started: ") and "Traceback" not in error
        assert not list((tmp_path / "state").glob("*.pid")), "what was started is stopped"
    assert "is not a version name" in error
