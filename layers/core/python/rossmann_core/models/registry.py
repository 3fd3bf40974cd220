"""Model registry: a local folder or ``s3://bucket/prefix`` holding ``<version>/...`` and ``latest.json``.

Serving resolves the version (pinned, else ``latest.json``), copies its files into a local cache
folder (``/tmp`` on Lambda), and loads it with :func:`load_version`, which verifies every sha256.
boto3 is imported only for S3 registries; it honours ``AWS_ENDPOINT_URL`` for local S3 servers.
"""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rossmann_core.errors import RegistryError
from rossmann_core.models.manifest import read_manifest
from rossmann_core.models.version import LATEST_FILE, MANIFEST_FILE, ModelVersion, load_version
from rossmann_core.storage import is_s3_uri, s3_client, s3_key, sha256_hex, split_s3_uri

log = logging.getLogger(__name__)


def read_json(registry: str, *parts: str) -> dict[str, Any]:
    """A JSON document of the registry, e.g. ``read_json(r, "latest.json")``."""
    if is_s3_uri(registry):
        bucket, prefix = split_s3_uri(registry)
        client = s3_client()
        try:
            body = client.get_object(Bucket=bucket, Key=s3_key(prefix, *parts))["Body"].read()
        except client.exceptions.NoSuchKey:
            raise RegistryError(f"{registry}/{'/'.join(parts)} does not exist") from None
        return json.loads(body)
    path = Path(registry, *parts)
    if not path.is_file():
        raise RegistryError(f"{path} does not exist")
    return json.loads(path.read_text())


def latest_version(registry: str) -> str:
    return read_json(registry, LATEST_FILE)["version"]


def list_versions(registry: str) -> list[str]:
    """Version names in the registry, oldest first."""
    if is_s3_uri(registry):
        bucket, prefix = split_s3_uri(registry)
        paginator = s3_client().get_paginator("list_objects_v2")
        names = set()
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", Delimiter="/"):
            names.update(p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in page.get("CommonPrefixes", []))
        return sorted(names)
    return sorted(p.name for p in Path(registry).iterdir() if p.is_dir() and not p.name.startswith("."))


def fetch_version(registry: str, version: str, cache_dir: Path) -> Path:
    """A local folder holding ``version``'s manifest and files (copied from S3 once, cached per registry)."""
    if not is_s3_uri(registry):
        local = Path(registry, version)
        if not (local / MANIFEST_FILE).is_file():
            raise RegistryError(f"{local} has no {MANIFEST_FILE}")
        return local
    registry_cache = cache_dir / sha256_hex(registry.encode())[:16]  # two registries may hold one version name
    target = registry_cache / version
    if (target / MANIFEST_FILE).is_file():
        return target
    bucket, prefix = split_s3_uri(registry)
    client = s3_client()
    registry_cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=registry_cache))
    try:
        manifest_key = s3_key(prefix, version, MANIFEST_FILE)
        try:
            client.download_file(bucket, manifest_key, str(staging / MANIFEST_FILE))
        except Exception as error:
            raise RegistryError(f"cannot read s3://{bucket}/{manifest_key}: {error}") from error
        for name in read_manifest(staging / MANIFEST_FILE, f"s3://{bucket}/{manifest_key}").files:
            client.download_file(bucket, s3_key(prefix, version, name), str(staging / name))
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_from_registry(registry: str, version: str | None, cache_dir: Path) -> ModelVersion:
    """Resolve ``version`` (default: latest), fetch it into ``cache_dir`` and load it verified."""
    chosen = version or latest_version(registry)
    log.info("loading model version %s from %s", chosen, registry)
    return load_version(fetch_version(registry, chosen, cache_dir))
