"""Which model version the local stack publishes, and publishing it with ``training.publish``."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rossmann_core.errors import RegistryError
from rossmann_core.models.registry import checked_version
from rossmann_core.models.version import LATEST_FILE, MANIFEST_FILE
from training.publish import PublishError, publish_folder

from .template import REPO_ROOT


def publish(client: Any, version_dir: Path, bucket: str, prefix: str) -> str:
    """Upload the version folder ``version_dir`` (checksums verified) and point ``latest.json`` at it."""
    return publish_folder(version_dir, bucket, prefix, client)


def _latest_in(models_dir: Path) -> Path | None:
    """The version folder ``models_dir/latest.json`` names, None without one; PublishError if it is unusable."""
    pointer = models_dir / LATEST_FILE
    if not pointer.is_file():
        return None
    try:
        return models_dir / checked_version(json.loads(pointer.read_text()).get("version"), str(pointer))
    except (ValueError, AttributeError, RegistryError) as error:
        raise PublishError(f"{pointer} does not name a model version: {error}") from None


def resolve_version_dir(model_dir: Path | None, data_dir: Path, train_out: Path) -> Path:
    """``model_dir`` (a version folder or a ``models/`` folder), else ``artifacts/models``'s latest,
    else a version trained now on ``data_dir`` into ``train_out``."""
    if model_dir is not None:
        if (model_dir / MANIFEST_FILE).is_file():
            return model_dir
        latest = _latest_in(model_dir)
        if latest is None:
            raise PublishError(f"{model_dir} is neither a model version nor a folder with {LATEST_FILE}")
        return latest
    existing = _latest_in(REPO_ROOT / "artifacts" / "models")
    if existing is not None:
        return existing
    print(f"no model in artifacts/models: training one on {data_dir} (minutes on the full data)", file=sys.stderr)
    result = subprocess.run([sys.executable, "-m", "training", "train", "--data-dir", str(data_dir), "--out",
                             str(train_out)], cwd=REPO_ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1])
