"""Load one immutable model version (a folder with ``manifest.json``), verifying every checksum."""

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort

from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable
from rossmann_core.errors import ArtifactIntegrityError
from rossmann_core.explain.tree_paths import TreePaths
from rossmann_core.models.manifest import Manifest, TreeEntry, read_manifest
from rossmann_core.models.on_first_use import OnFirstUse
from rossmann_core.storage import sha256_hex
from rossmann_core.totals.pool import TotalsPool

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
STORE_STATE_FILE = "store_state.npz"
LATEST_FILE = "latest.json"


@dataclass(frozen=True)
class ModelVersion:
    """A verified model version: its name (the folder's UTC timestamp), manifest, ONNX sessions by model name
    (models with a file), per-store state."""

    name: str
    manifest: Manifest
    sessions: Mapping[str, ort.InferenceSession]
    """Built at load for the default model's graphs, the others on first use (verified at load all the same)."""
    history: Panel
    stores: StoreTable
    totals: Mapping[str, TotalsPool] = field(default_factory=dict)
    """Each model's totals pool (:mod:`rossmann_core.totals`); empty for a version written before totals."""
    paths: Mapping[str, TreePaths] = field(default_factory=dict)
    """Each tree model's nodes with their values (:mod:`rossmann_core.explain`), parsed on the first explanation;
    empty before explanations."""

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.manifest.models)

    @property
    def best_model(self) -> str:
        """The default everywhere: :attr:`Manifest.best_model` (the manifest's ``default_model``, else, for
        older versions, the model with the lowest calibration RMSPE)."""
        return self.manifest.best_model


def read_verified(directory: Path, files: Mapping[str, str], name: str) -> bytes:
    """Bytes of ``name`` in ``directory``; raises ArtifactIntegrityError unless its sha256 is ``files[name]``
    (errors name the file as ``<directory name>/<name>``, never a local absolute path)."""
    expected = files.get(name)
    if expected is None:
        raise ArtifactIntegrityError(f"{name} is not listed in the manifest of version {directory.name}")
    path = directory / name
    if not path.is_file():
        raise ArtifactIntegrityError(f"{directory.name}/{name} is listed in the manifest but missing")
    data = path.read_bytes()
    actual = sha256_hex(data)
    if actual != expected:
        raise ArtifactIntegrityError(
            f"{directory.name}/{name}: sha256 {actual} does not match the manifest's {expected}"
        )
    return data


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return options


def new_session(model_bytes: bytes, threads: int | None) -> ort.InferenceSession:
    """An onnxruntime CPU session of a verified graph, ``threads`` intra-op threads (None: one per core)."""
    return ort.InferenceSession(model_bytes, session_options(threads), providers=["CPUExecutionProvider"])


def parse_paths(paths_bytes: bytes, where: str) -> TreePaths:
    """A tree model's verified node-value file, parsed; ArtifactIntegrityError naming ``where`` if it is not one."""
    try:
        return TreePaths.from_bytes(paths_bytes, where)
    except ValueError as error:
        raise ArtifactIntegrityError(f"{error}; retrain") from None


def load_version(directory: Path, threads: int | None = None, with_totals: bool = True) -> ModelVersion:
    """Verify and load the version in ``directory``. Files not in the manifest are ignored; the totals pool is
    left out when ``with_totals`` is False (a study that rebuilds it from the pool's windows).

    Raises ManifestError for a manifest this code cannot serve, ArtifactIntegrityError for a bad file.
    """
    manifest = read_manifest(directory / MANIFEST_FILE, f"{directory.name}/{MANIFEST_FILE}")
    sessions = OnFirstUse({
        name: partial(new_session, read_verified(directory, manifest.files, file), threads)
        for name, file in manifest.model_files.items()
    })
    for name in manifest.graph_models(manifest.best_model):
        sessions[name]
    state_bytes = read_verified(directory, manifest.files, STORE_STATE_FILE)
    with np.load(io.BytesIO(state_bytes), allow_pickle=False) as arrays:
        state = {key: arrays[key] for key in arrays.files}
    log.info(
        "loaded model version %s (%s; sessions of %s built), %d bytes of state", manifest.version, ", ".join(sessions),
        ", ".join(sessions.built), len(state_bytes),
    )
    totals = {}
    if manifest.totals is not None and with_totals:
        with np.load(io.BytesIO(read_verified(directory, manifest.files, manifest.totals.file)),
                     allow_pickle=False) as arrays:
            pool_arrays = {key: arrays[key] for key in arrays.files if not key.startswith("windows/")}
        try:
            totals = {name: TotalsPool.from_arrays(pool_arrays, name) for name in manifest.totals.models}
        except ValueError as error:
            raise ArtifactIntegrityError(f"{directory.name}/{manifest.totals.file}: {error}; retrain") from None
    paths = OnFirstUse({
        name: partial(parse_paths, read_verified(directory, manifest.files, entry.paths_file),
                      f"{directory.name}/{entry.paths_file}")
        for name, entry in manifest.models.items() if isinstance(entry, TreeEntry) and entry.paths_file is not None
    })
    return ModelVersion(
        name=manifest.version,
        manifest=manifest,
        sessions=sessions,
        history=Panel.from_arrays(state),
        stores=StoreTable.from_arrays(state),
        totals=totals,
        paths=paths,
    )
