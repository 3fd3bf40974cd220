"""Load one immutable model version (a folder with ``manifest.json``), verifying every checksum."""

import hashlib
import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
STATE_FILE = "store_state.npz"
LATEST_FILE = "latest.json"


class ArtifactIntegrityError(RuntimeError):
    """A model file is missing or its sha256 differs from the manifest."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelVersion:
    """A verified model version: manifest, ONNX sessions by model name (models with a file), per-store state."""

    version: str
    manifest: dict[str, Any]
    sessions: dict[str, ort.InferenceSession]
    history: Panel
    stores: StoreTable

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.manifest["models"])

    @property
    def best_model(self) -> str:
        """The model with the lowest calibration (validation) RMSPE: the default everywhere."""
        models = self.manifest["models"]
        return min(models, key=lambda name: models[name].get("metrics", {}).get("calibration_rmspe", math.inf))


def read_verified(directory: Path, manifest: dict[str, Any], name: str) -> bytes:
    """Bytes of a file listed in the manifest; raises ArtifactIntegrityError on a mismatch."""
    expected = manifest["files"].get(name)
    if expected is None:
        raise ArtifactIntegrityError(f"{name} is not listed in the manifest of {directory}")
    path = directory / name
    if not path.is_file():
        raise ArtifactIntegrityError(f"{path} is listed in the manifest but missing")
    data = path.read_bytes()
    actual = sha256_bytes(data)
    if actual != expected:
        raise ArtifactIntegrityError(f"{path}: sha256 {actual} does not match the manifest's {expected}")
    return data


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return options


def load_version(directory: Path, threads: int | None = None) -> ModelVersion:
    """Verify and load the version in ``directory``. Files not in the manifest are ignored."""
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    sessions = {}
    for name, entry in manifest["models"].items():
        if "file" not in entry:
            continue  # e.g. a blend of other models: no graph of its own
        model_bytes = read_verified(directory, manifest, entry["file"])
        sessions[name] = ort.InferenceSession(
            model_bytes, session_options(threads), providers=["CPUExecutionProvider"]
        )
    state_bytes = read_verified(directory, manifest, STATE_FILE)
    with np.load(io.BytesIO(state_bytes), allow_pickle=False) as arrays:
        state = {key: arrays[key] for key in arrays.files}
    log.info(
        "loaded model version %s (%s), %d bytes of state", manifest["version"], ", ".join(sessions), len(state_bytes)
    )
    return ModelVersion(
        version=manifest["version"],
        manifest=manifest,
        sessions=sessions,
        history=Panel.from_arrays(state),
        stores=StoreTable.from_arrays(state),
    )
