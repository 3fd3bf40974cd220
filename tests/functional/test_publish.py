"""``python -m training publish`` against a real S3 API server on 127.0.0.1 (moto)."""

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from training.__main__ import main
from training.publish import PublishError, publish_version


def new_bucket() -> tuple[Any, str]:
    client = boto3.client("s3")
    name = f"models-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    return client, name


def artifacts_with(version_dir: Path, target: Path) -> Path:
    """An artifacts folder holding a copy of ``version_dir`` and a latest.json pointing at it."""
    models = target / "models"
    shutil.copytree(version_dir, models / version_dir.name)
    (models / "latest.json").write_text(json.dumps({"version": version_dir.name}))
    return target


def test_publish_uploads_the_version_then_points_latest_at_it(
    s3_env: str, synthetic_version_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a local artifacts folder and an empty bucket, watching the order of writes
    artifacts = artifacts_with(synthetic_version_dir, tmp_path)
    client, bucket = new_bucket()
    writes: list[str] = []
    client.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: writes.append(params["Key"]))
    # WHEN the local latest version is published
    uri = publish_version(artifacts, bucket, client=client)
    # THEN every manifest file and the manifest are there, and latest.json was written last
    version = synthetic_version_dir.name
    assert uri == f"s3://{bucket}/models/{version}"
    manifest = json.loads((synthetic_version_dir / "manifest.json").read_text())
    expected = {f"models/{version}/{name}" for name in [*manifest["files"], "manifest.json"]} | {"models/latest.json"}
    assert {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]} == expected
    assert writes[-2:] == [f"models/{version}/manifest.json", "models/latest.json"]
    latest = json.loads(client.get_object(Bucket=bucket, Key="models/latest.json")["Body"].read())
    assert latest == {"version": version}
    for name in manifest["files"]:
        remote = client.get_object(Bucket=bucket, Key=f"models/{version}/{name}")["Body"].read()
        assert remote == (synthetic_version_dir / name).read_bytes()


def test_the_cli_publishes_under_a_prefix_and_republishing_is_idempotent(
    s3_env: str, synthetic_version_dir: Path, tmp_path: Path
) -> None:
    artifacts = artifacts_with(synthetic_version_dir, tmp_path)
    client, bucket = new_bucket()
    args = ["publish", "--bucket", bucket, "--prefix", "registry/models", "--artifacts", str(artifacts),
            "--version", synthetic_version_dir.name]
    assert main(args) == 0
    assert main(args) == 0
    latest = client.get_object(Bucket=bucket, Key="registry/models/latest.json")["Body"].read()
    assert json.loads(latest)["version"] == synthetic_version_dir.name


def test_a_published_version_is_immutable(s3_env: str, synthetic_version_dir: Path, tmp_path: Path) -> None:
    artifacts = artifacts_with(synthetic_version_dir, tmp_path)
    client, bucket = new_bucket()
    publish_version(artifacts, bucket, client=client)
    manifest_path = artifacts / "models" / synthetic_version_dir.name / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["created_at"] = "2000-01-01T00:00:00+00:00"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match="versions are immutable"):
        publish_version(artifacts, bucket, client=client)


def test_a_damaged_local_version_or_missing_bucket_is_refused_before_latest_moves(
    s3_env: str, synthetic_version_dir: Path, tmp_path: Path
) -> None:
    artifacts = artifacts_with(synthetic_version_dir, tmp_path)
    client, bucket = new_bucket()
    model = artifacts / "models" / synthetic_version_dir.name / "rf.onnx"
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(PublishError, match="damaged version"):
        publish_version(artifacts, bucket, client=client)
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)
    fresh = artifacts_with(synthetic_version_dir, tmp_path / "fresh")
    assert main(["publish", "--bucket", "no-such-bucket-here", "--artifacts", str(fresh)]) == 2
