"""Publish a local model version to the S3 registry the handlers read.

Order matters to readers: the version's files go up first, its manifest next (a version without a
manifest is incomplete and skipped by readers), and ``models/latest.json`` is rewritten last, so
no reader ever follows the pointer to a half-uploaded version. Versions are immutable: a version
already in the bucket with a different manifest is refused.
"""

import json
import logging
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rossmann_core.errors import ArtifactIntegrityError, RossmannError
from rossmann_core.models.version import LATEST_FILE, MANIFEST_FILE, read_verified
from rossmann_core.storage import s3_client, s3_key

log = logging.getLogger(__name__)


class PublishError(RossmannError):
    """The version cannot be published as asked (the CLI prints the message and exits 2)."""


def _remote_bytes(client: Any, bucket: str, key: str) -> bytes | None:
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None


def publish_version(
    artifacts_dir: Path, bucket: str, prefix: str = "models", version: str | None = None, client: Any = None
) -> str:
    """Upload ``<artifacts_dir>/models/<version>`` (default: the local latest) and point latest.json at it.

    Every file is checked against the manifest's sha256 before upload. Returns the version's S3 URI.
    """
    models_dir = Path(artifacts_dir) / "models"
    if version is None:
        latest = models_dir / LATEST_FILE
        if not latest.is_file():
            raise PublishError(f"{latest} does not exist: train first or pass --version")
        version = json.loads(latest.read_text())["version"]
    return publish_folder(models_dir / version, bucket, prefix, client)


def publish_folder(version_dir: Path, bucket: str, prefix: str = "models", client: Any = None) -> str:
    """Upload the version folder ``version_dir`` (any parent; its name is the version) and point latest.json
    at it. Every file is checked against the manifest's sha256 before upload. Returns the version's S3 URI."""
    version = version_dir.name
    if not (version_dir / MANIFEST_FILE).is_file():
        raise PublishError(f"{version_dir} holds no {MANIFEST_FILE}")
    manifest_bytes = (version_dir / MANIFEST_FILE).read_bytes()
    manifest = json.loads(manifest_bytes)
    try:
        files = {name: read_verified(version_dir, manifest["files"], name) for name in manifest["files"]}
    except ArtifactIntegrityError as error:
        raise PublishError(f"refusing to publish a damaged version: {error}") from None
    client = client or s3_client()
    try:
        _upload(client, bucket, prefix, version, files, manifest_bytes)
    except (BotoCoreError, ClientError) as error:
        raise PublishError(f"cannot publish to s3://{bucket}/{s3_key(prefix)}: {error}") from None
    uri = f"s3://{bucket}/{s3_key(prefix, version)}"
    log.info("published %s; s3://%s/%s points at it", uri, bucket, s3_key(prefix, LATEST_FILE))
    return uri


def _upload(client: Any, bucket: str, prefix: str, version: str, files: dict[str, bytes], manifest: bytes) -> None:
    """Files, then manifest, then latest.json; refuses to change an existing version."""
    existing = _remote_bytes(client, bucket, s3_key(prefix, version, MANIFEST_FILE))
    if existing is not None and existing != manifest:
        where = f"s3://{bucket}/{s3_key(prefix, version)}"
        raise PublishError(f"{where} exists with another manifest; versions are immutable")
    for name, data in files.items():
        client.put_object(Bucket=bucket, Key=s3_key(prefix, version, name), Body=data)
        log.info("uploaded %s (%.1f MB)", s3_key(prefix, version, name), len(data) / 1e6)
    client.put_object(
        Bucket=bucket, Key=s3_key(prefix, version, MANIFEST_FILE), Body=manifest, ContentType="application/json"
    )
    client.put_object(
        Bucket=bucket, Key=s3_key(prefix, LATEST_FILE), Body=json.dumps({"version": version}).encode(),
        ContentType="application/json",
    )
