"""The S3 model registry through a real S3 API server on 127.0.0.1 (moto): fetch, cache, verify, serve."""

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import serve_from
from conftest import HOLDOUT_CUTOFF
from forecast_api.application import create_app
from rossmann_core.errors import ArtifactIntegrityError, RegistryError
from rossmann_core.models.registry import latest_version, list_versions, load_from_registry
from rossmann_core.serving.settings import model_settings
from training.publish import publish_version


@pytest.fixture()
def registry(s3_env: str, synthetic_version_dir: Path) -> tuple[Any, str]:
    """(client, "s3://bucket/models") holding the synthetic version, published like production."""
    client = boto3.client("s3")
    bucket = f"registry-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    publish_version(synthetic_version_dir.parent.parent, bucket, client=client)
    return client, f"s3://{bucket}/models"


def test_latest_version_is_fetched_into_the_cache_and_loaded(registry: tuple[Any, str], tmp_path: Path,
                                                             synthetic_version_dir: Path) -> None:
    client, uri = registry
    assert list_versions(uri) == [synthetic_version_dir.name] == [latest_version(uri)]
    version = load_from_registry(uri, None, tmp_path)
    assert version.name == synthetic_version_dir.name and version.models == ("rf",)
    cached = next(tmp_path.glob(f"*/{synthetic_version_dir.name}"))  # one folder per registry
    assert sorted(p.name for p in cached.iterdir()) == sorted(p.name for p in synthetic_version_dir.iterdir())
    # a second container start on the same /tmp reads the cache, not S3
    bucket = uri.removeprefix("s3://").split("/")[0]
    for item in client.list_objects_v2(Bucket=bucket)["Contents"]:
        client.delete_object(Bucket=bucket, Key=item["Key"])
    assert load_from_registry(uri, synthetic_version_dir.name, tmp_path).name == synthetic_version_dir.name


def test_a_tampered_object_in_s3_is_refused(registry: tuple[Any, str], tmp_path: Path,
                                            synthetic_version_dir: Path) -> None:
    client, uri = registry
    bucket = uri.removeprefix("s3://").split("/")[0]
    key = f"models/{synthetic_version_dir.name}/store_state.npz"
    data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    client.put_object(Bucket=bucket, Key=key, Body=data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ArtifactIntegrityError, match=r"store_state\.npz: sha256"):
        load_from_registry(uri, None, tmp_path)


def test_a_missing_pointer_or_version_is_a_registry_error(s3_env: str, registry: tuple[Any, str],
                                                          tmp_path: Path) -> None:
    client, uri = registry
    with pytest.raises(RegistryError):
        load_from_registry(uri, "20000101T000000Z", tmp_path)
    client.delete_object(Bucket=uri.removeprefix("s3://").split("/")[0], Key="models/latest.json")
    with pytest.raises(RegistryError, match=r"latest\.json does not exist"):
        latest_version(uri)


def test_the_api_serves_from_an_s3_registry(registry: tuple[Any, str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, synthetic_version_dir: Path) -> None:
    _, uri = registry
    serve_from(monkeypatch, uri, cache_dir=tmp_path / "cache", version=synthetic_version_dir.name)
    try:
        with TestClient(create_app()) as client:
            assert client.get("/health").json()["model_version"] == synthetic_version_dir.name
            versions = client.get("/models").json()["versions"]
            assert [(v["version"], v["latest"], v["loaded"]) for v in versions] == [
                (synthetic_version_dir.name, True, True)
            ]
            body = client.get("/stores/5/forecast?horizon_days=7").json()
            assert len(body["stores"][0]["sales"]) == 7
    finally:
        serve_from(monkeypatch, None)
    cached = next((tmp_path / "cache").glob(f"*/{synthetic_version_dir.name}"))  # one folder per registry
    assert json.loads((cached / "manifest.json").read_text())["files"]


def test_two_registries_holding_one_version_name_are_cached_apart(
    s3_env: str, synthetic_version_dir: Path, tiny_forest: Any, tmp_path: Path
) -> None:
    # GIVEN two registries whose versions share a name (trained in the same second) but not their files
    client = boto3.client("s3")
    bucket = f"registry-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    name = synthetic_version_dir.name
    other = tiny_forest(HOLDOUT_CUTOFF)
    for prefix, version_dir in (("first", synthetic_version_dir), ("second", other)):
        for path in version_dir.iterdir():
            body = path.read_bytes()
            if path.name == "manifest.json":
                body = json.dumps({**json.loads(body), "version": name}).encode()
            client.put_object(Bucket=bucket, Key=f"{prefix}/{name}/{path.name}", Body=body)
    # WHEN both are loaded through one cache folder THEN each registry's own files are served
    first = load_from_registry(f"s3://{bucket}/first", name, tmp_path)
    second = load_from_registry(f"s3://{bucket}/second", name, tmp_path)
    assert first.history.dates[-1] == np.datetime64("2015-01-31")
    assert second.history.dates[-1] == HOLDOUT_CUTOFF


def test_the_served_sessions_run_on_one_thread_each(synthetic_version_dir: Path, tmp_path: Path) -> None:
    # the handlers' setting: one intra-op thread per session (serving.settings.SERVING_ONNX_THREADS)
    threads = model_settings(registry=str(synthetic_version_dir.parent)).onnx_threads
    version = load_from_registry(str(synthetic_version_dir.parent), None, tmp_path, threads)
    assert threads == 1
    assert [s.get_session_options().intra_op_num_threads for s in version.sessions.values()] == [1]
