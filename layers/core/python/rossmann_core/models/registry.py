"""Model registry: a local folder or ``s3://bucket/prefix`` holding ``<version>/...`` and ``latest.json``.

Serving resolves the version (pinned, else ``latest.json``); a version name must be a UTC timestamp
(``YYYYMMDDTHHMMSSZ``) before it is used as a path or key, so a pointer cannot lead outside the
registry. An S3 version is downloaded into a staging folder, loaded with :func:`load_version` (which
verifies every sha256 and the manifest) and only then renamed into the cache folder (``/tmp`` on
Lambda). A cached copy that later fails its checks is evicted and fetched again, so a damaged
``/tmp`` never outlives one load. Errors name the object (``s3://bucket/key`` or ``<registry
folder name>/...``) and the reason, never a local absolute path. boto3 is imported only for S3
registries; it honours ``AWS_ENDPOINT_URL`` for local S3 servers.
"""

import json
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rossmann_core.errors import ModelError, RegistryError
from rossmann_core.models.manifest import read_manifest
from rossmann_core.models.version import LATEST_FILE, MANIFEST_FILE, ModelVersion, load_version
from rossmann_core.storage import is_s3_uri, s3_client, s3_key, sha256_hex, split_s3_uri

log = logging.getLogger(__name__)

VERSION_PATTERN = re.compile(r"\d{8}T\d{6}Z")
"""A version name: the UTC time it was exported, e.g. 20261130T092903Z (``training.export.new_version_name``)."""


def object_name(registry: str, *parts: str) -> str:
    """How errors name a registry object: its S3 URI, or the registry folder's name and the parts."""
    if is_s3_uri(registry):
        bucket, prefix = split_s3_uri(registry)
        return f"s3://{bucket}/{s3_key(prefix, *parts)}"
    return "/".join((Path(registry).name or registry, *parts))


def checked_version(name: Any, source: str) -> str:
    """``name`` if it is a version name; RegistryError naming ``source`` otherwise."""
    if not isinstance(name, str) or not VERSION_PATTERN.fullmatch(name):
        raise RegistryError(f"{source}: {name!r} is not a version name (YYYYMMDDTHHMMSSZ)")
    return name


def _s3_reason(error: Exception) -> str:
    """A short reason for a failed S3 call: the error code and message, or the connection problem."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return str(error) or type(error).__name__


def read_object(registry: str, *parts: str) -> bytes:
    """The bytes of one registry object; RegistryError naming it if it is missing or unreadable."""
    name = object_name(registry, *parts)
    if is_s3_uri(registry):
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3_uri(registry)
        client = s3_client()
        try:
            return client.get_object(Bucket=bucket, Key=s3_key(prefix, *parts))["Body"].read()
        except client.exceptions.NoSuchKey:
            raise RegistryError(f"{name} does not exist") from None
        except (BotoCoreError, ClientError) as error:
            raise RegistryError(f"cannot read {name}: {_s3_reason(error)}") from None
    path = Path(registry, *parts)
    if not path.is_file():
        raise RegistryError(f"{name} does not exist")
    try:
        return path.read_bytes()
    except OSError as error:
        raise RegistryError(f"cannot read {name}: {error.strerror}") from None


def read_json(registry: str, *parts: str) -> dict[str, Any]:
    """A JSON object of the registry, e.g. ``read_json(r, "latest.json")``; RegistryError if it is not one."""
    name = object_name(registry, *parts)
    try:
        document = json.loads(read_object(registry, *parts))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RegistryError(f"{name} is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise RegistryError(f"{name} is not a JSON object")
    return document


def latest_version(registry: str) -> str:
    """The version ``latest.json`` names; RegistryError if it names none or not a version name."""
    pointer = read_json(registry, LATEST_FILE)
    source = object_name(registry, LATEST_FILE)
    if "version" not in pointer:
        raise RegistryError(f"{source} has no \"version\"")
    return checked_version(pointer["version"], f"{source} \"version\"")


def list_versions(registry: str) -> list[str]:
    """Version names in the registry, oldest first (other folders are ignored)."""
    if is_s3_uri(registry):
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, prefix = split_s3_uri(registry)
        paginator = s3_client().get_paginator("list_objects_v2")
        names = set()
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", Delimiter="/"):
                names.update(p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in page.get("CommonPrefixes", []))
        except (BotoCoreError, ClientError) as error:
            raise RegistryError(f"cannot list {object_name(registry)}: {_s3_reason(error)}") from None
    else:
        folder = Path(registry)
        if not folder.is_dir():
            raise RegistryError(f"registry folder {object_name(registry)} does not exist")
        names = {p.name for p in folder.iterdir() if p.is_dir()}
    return sorted(name for name in names if VERSION_PATTERN.fullmatch(name))


def _download(registry: str, version: str, folder: Path) -> None:
    """Copy ``version``'s manifest and the files it lists from an S3 registry into ``folder`` (unverified)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3_uri(registry)
    client = s3_client()

    def download(name: str) -> None:
        try:
            client.download_file(bucket, s3_key(prefix, version, name), str(folder / name))
        except (BotoCoreError, ClientError) as error:
            raise RegistryError(f"cannot read {object_name(registry, version, name)}: {_s3_reason(error)}") from None

    download(MANIFEST_FILE)
    for name in read_manifest(folder / MANIFEST_FILE, object_name(registry, version, MANIFEST_FILE)).files:
        if name in ("", ".", "..") or "/" in name or "\\" in name:
            raise RegistryError(f"{object_name(registry, version, MANIFEST_FILE)} lists {name!r}, not a file name")
        download(name)


def _fetch_and_load(registry: str, version: str, target: Path, threads: int | None = None) -> ModelVersion:
    """Download ``version`` into a staging folder beside ``target``, verify it by loading it, then rename it
    to ``target``: the cache only ever holds verified copies."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_root = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=target.parent))
    try:
        staging = staging_root / version  # named like the version, so load errors name it, not the staging path
        staging.mkdir()
        _download(registry, version, staging)
        loaded = load_version(staging, threads)
        try:
            staging.rename(target)
        except OSError:  # another process cached it meanwhile; what is loaded is verified either way
            log.info("version %s was cached meanwhile by another process", version)
        return loaded
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def load_from_registry(registry: str, version: str | None, cache_dir: Path, threads: int | None = None) -> ModelVersion:
    """Resolve ``version`` (default: latest), fetch it into ``cache_dir`` (S3) and load it verified, its ONNX
    sessions with ``threads`` intra-op threads (default onnxruntime's: one per core).

    A cached copy that fails a check (a file missing, altered or truncated) is removed and the version
    fetched again from S3 once; the error stands only if the fresh copy fails too.
    """
    chosen = checked_version(version, "MODEL_VERSION") if version else latest_version(registry)
    log.info("loading model version %s from %s", chosen, object_name(registry))
    if not is_s3_uri(registry):
        if not Path(registry, chosen, MANIFEST_FILE).is_file():
            raise RegistryError(f"{object_name(registry, chosen)} has no {MANIFEST_FILE}")
        return load_version(Path(registry, chosen), threads)
    target = cache_dir / sha256_hex(registry.encode())[:16] / chosen  # two registries may hold one version name
    if target.is_dir():
        try:
            return load_version(target, threads)
        except (ModelError, OSError) as error:
            log.warning("cached copy of version %s failed its checks, fetching it again: %s", chosen, error,
                        extra={"event": "cache_evicted", "model_version": chosen})
            shutil.rmtree(target, ignore_errors=True)
    return _fetch_and_load(registry, chosen, target, threads)
