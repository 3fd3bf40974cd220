"""Write a model version, whatever its models: their files, per-store state and manifest, atomically.

A version is ``<out>/models/<UTC timestamp>/``; it is assembled in a hidden temporary folder and
renamed into place, then ``<out>/models/latest.json`` is replaced to point at it, so readers see a
whole version or none.
"""

import json
import logging
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rossmann_core.models.manifest import Manifest
from rossmann_core.models.version import LATEST_FILE, MANIFEST_FILE
from rossmann_core.storage import sha256_hex

from .config import REPO_ROOT

log = logging.getLogger(__name__)


def new_version_name(now: datetime | None = None) -> str:
    """UTC timestamp like ``20260101T120000Z``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def write_version(out_dir: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write ``files`` and the manifest (with their sha256 added) as a new version; return its folder.

    The manifest is first validated as serving reads it (:meth:`Manifest.from_dict`): a ManifestError
    leaves nothing written, so training never writes a version serving cannot load.
    """
    models_dir = out_dir / "models"
    sha256 = {name: sha256_hex(data) for name, data in files.items()}
    checked = Manifest.from_dict({**manifest, "files": sha256}, f"the version to write under {models_dir}")
    models_dir.mkdir(parents=True, exist_ok=True)
    version = checked.version
    final = models_dir / version
    if final.exists():
        raise FileExistsError(f"model version {final} already exists; versions are immutable")
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        (staging / MANIFEST_FILE).write_text(json.dumps(checked.to_dict(), indent=2, sort_keys=True))
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    point_latest(models_dir, version)
    log.info("wrote model version %s (%s)", final, ", ".join(f"{n} {len(d) / 1e6:.1f} MB" for n, d in files.items()))
    return final


def point_latest(models_dir: Path, version: str) -> None:
    """Atomically replace ``latest.json`` with a pointer to ``version``."""
    temporary = models_dir / f".{LATEST_FILE}.tmp"
    temporary.write_text(json.dumps({"version": version}))
    os.replace(temporary, models_dir / LATEST_FILE)
