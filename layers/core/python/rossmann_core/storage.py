"""Where bytes live: sha256 checksums, S3 URIs and keys, and the one boto3 S3 client per process.

boto3 is imported only when an S3 client is first asked for (a local registry needs none); it
honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, so the same code talks to a local S3-API
server in tests and emulation.
"""

import hashlib
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

S3_SCHEME = "s3://"
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION")
"""The settings a client is built from: a client is reused while they stay the same."""
_CLIENT_LOCK = threading.Lock()


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_s3_uri(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ("bucket", "some/prefix")."""
    bucket, _, prefix = uri.removeprefix(S3_SCHEME).partition("/")
    return bucket, prefix.strip("/")


def s3_key(*parts: str) -> str:
    """Parts joined by "/", empty parts and outer slashes dropped: s3_key("", "models/", "v1") == "models/v1"."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def object_bytes(client: Any, bucket: str, key: str, unreadable: type[Exception]) -> bytes | None:
    """The bytes of ``s3://bucket/key``, None when it does not exist; any other failure raises ``unreadable``
    naming the URI and the reason."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise unreadable(f"cannot read s3://{bucket}/{key}: {error}") from None
    except BotoCoreError as error:
        raise unreadable(f"cannot read s3://{bucket}/{key}: {error}") from None


def s3_client() -> Any:
    """The process's S3 client, rebuilt only when the endpoint settings change. boto3 clients are thread-safe,
    building them from its default session is not: the API builds one in a preload thread, hence the lock."""
    with _CLIENT_LOCK:
        return _client_for(tuple(os.environ.get(name) for name in ENDPOINT_ENVS))


@cache
def _client_for(_settings: tuple[str | None, ...]) -> Any:
    import boto3

    return boto3.client("s3")
