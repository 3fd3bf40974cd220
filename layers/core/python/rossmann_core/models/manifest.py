"""The typed, frozen manifest of a model version (``manifest.json``), validated once when read.

:meth:`Manifest.from_dict` checks every key serving reads and that this code can feed the models (the
forest's feature names, the LSTM's input channels and horizon): anything else raises one
:class:`~rossmann_core.errors.ManifestError` naming the version and the key path, so a version serving
cannot use is refused at load, never mid-forecast. Keys serving never reads (training settings,
importance, data windows, ...) are kept read-only, as written, in each object's ``details``, and
:meth:`Manifest.to_dict` gives the JSON back unchanged. Training validates through the same class
before it writes a version (``training.export.write_version``).
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.errors import ManifestError
from rossmann_core.features.sequences import FUTURE_CHANNELS, INPUT_NAMES, PAST_CHANNELS, STATIC_FEATURES
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.lstm_runtime import ChannelRange, SequenceScaler, SequenceSpec
from rossmann_core.models.manifest_fields import Fields, differences, frozen, plain
from rossmann_core.models.tree_target import TREE_TARGETS, TreeTarget

RETRAIN = "retrain or pin a compatible MODEL_VERSION"


@dataclass(frozen=True)
class Interval:
    """Conformal interval per lead week (1..n): a forecast f spans [f * exp(lower_log[w]), f * exp(upper_log[w])]."""

    level: float
    lower_log: tuple[float, ...]
    upper_log: tuple[float, ...]

    @classmethod
    def from_fields(cls, fields: Fields) -> "Interval":
        level = fields.number("level")
        if not 0 < level < 1:
            raise fields.error("level", f"must lie between 0 and 1, got {level}")
        lower = fields.numbers("lower_log")
        return cls(level, lower, fields.numbers("upper_log", length=len(lower)))

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "lower_log": list(self.lower_log), "upper_log": list(self.upper_log)}


@dataclass(frozen=True)
class Calibrated:
    """What every model entry holds: RMSPE correction factor, interval, calibration metrics, other keys."""

    correction: float
    interval: Interval
    metrics: Mapping[str, float]
    details: Mapping[str, Any]

    TYPED = ("correction", "interval", "metrics")

    @staticmethod
    def read(fields: Fields, *typed: str) -> dict[str, Any]:
        """Constructor arguments of the calibrated part; ``typed`` are the subclass's own keys."""
        metrics = fields.child("metrics")
        return {
            "correction": fields.number("correction", positive=True),
            "interval": Interval.from_fields(fields.child("interval")),
            "metrics": frozen({name: metrics.number(name) for name in metrics.raw}),
            "details": fields.rest(*Calibrated.TYPED, *typed),
        }

    @property
    def calibration_rmspe(self) -> float:
        """RMSPE on the calibration rows after correction (infinite when not recorded)."""
        return self.metrics.get("calibration_rmspe", math.inf)

    def to_dict(self) -> dict[str, Any]:
        return {**plain(self.details), "correction": self.correction, "interval": self.interval.to_dict(),
                "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class TreeEntry(Calibrated):
    """A tree model (the Random Forest, the gradient boosting, the direct model): an ONNX graph of (n, n_features)
    float32 features to its target (:mod:`rossmann_core.models.tree_target`)."""

    file: str
    target: TreeTarget
    paths_file: str | None = None
    """The trees with every node's value (:mod:`rossmann_core.explain.tree_paths`); None in versions written before
    explanations."""

    @classmethod
    def from_fields(cls, fields: Fields) -> "TreeEntry":
        paths_file = fields.text("paths_file") if "paths_file" in fields.raw else None
        target = fields.text("target")
        if target not in TREE_TARGETS:
            raise fields.error("target", f"must be one of {sorted(TREE_TARGETS)}, got {target!r}; {RETRAIN}")
        return cls(**Calibrated.read(fields, "file", "target", "paths_file"), file=fields.text("file"),
                   target=TREE_TARGETS[target], paths_file=paths_file)

    def to_dict(self) -> dict[str, Any]:
        paths = {} if self.paths_file is None else {"paths_file": self.paths_file}
        return {**super().to_dict(), "file": self.file, "target": self.target.description, **paths}


@dataclass(frozen=True)
class LstmEntry(Calibrated):
    """The LSTM: an ONNX graph forecasting ``horizon_days`` days per store, fed as ``sequence`` says."""

    file: str
    horizon_days: int
    sequence: SequenceSpec

    OWN = ("file", "horizon_days", "lookback_weeks", "embedding_store_ids", "scaler", "input_names")

    @classmethod
    def from_fields(cls, fields: Fields) -> "LstmEntry":
        horizon = fields.integer("horizon_days")
        if horizon != HORIZON_DAYS:
            raise fields.error("horizon_days", f"is {horizon}, but this code builds {HORIZON_DAYS}-day LSTM windows")
        names = fields.texts("input_names")
        if names != INPUT_NAMES:
            raise fields.error("input_names", (
                f"differ from the LSTM inputs this code feeds (differences: {differences(names, INPUT_NAMES)}); "
                f"{RETRAIN}"
            ))
        scaler = fields.child("scaler")
        sequence = SequenceSpec(
            lookback_weeks=fields.integer("lookback_weeks"),
            embedding_store_ids=fields.integers("embedding_store_ids"),
            scaler=SequenceScaler(
                past=channel_range(scaler.child("past"), PAST_CHANNELS),
                future=channel_range(scaler.child("future"), FUTURE_CHANNELS),
                static=channel_range(scaler.child("static"), STATIC_FEATURES),
            ),
        )
        return cls(**Calibrated.read(fields, *cls.OWN), file=fields.text("file"), horizon_days=horizon,
                   sequence=sequence)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "file": self.file, "horizon_days": self.horizon_days,
                "input_names": list(INPUT_NAMES), **self.sequence.to_manifest()}


@dataclass(frozen=True)
class BlendEntry(Calibrated):
    """A weighted mean of other models' corrected log forecasts, then its own correction; no graph."""

    weights: Mapping[str, float]

    @classmethod
    def from_fields(cls, fields: Fields) -> "BlendEntry":
        weights = fields.child("weights")
        if not weights.raw:
            raise fields.error("weights", "must name at least one model")
        return cls(**Calibrated.read(fields, "weights"),
                   weights=frozen({name: weights.number(name) for name in weights.raw}))

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "weights": dict(self.weights)}


ModelEntry = TreeEntry | LstmEntry | BlendEntry
ENTRY_KINDS = {"lstm": LstmEntry, "blend": BlendEntry}
"""Entries by ``kind``; any other kind (a description of the pipeline) is a tree model."""


def channel_range(fields: Fields, expected: tuple[str, ...]) -> ChannelRange:
    """One scaler block (``channels``, ``lo``, ``hi``); its channels must be the ones this code builds."""
    channels = fields.texts("channels")
    if channels != expected:
        raise fields.error("channels", (
            f"differ from the LSTM inputs this code builds (differences: {differences(channels, expected)}); {RETRAIN}"
        ))
    lo = fields.numbers("lo", length=len(expected), finite=False)
    hi = fields.numbers("hi", length=len(expected), finite=False)
    return ChannelRange(expected, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))


def model_entry(fields: Fields) -> ModelEntry:
    kind = fields.raw.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise fields.error("kind", f"must be a string, got {type(kind).__name__}")
    return ENTRY_KINDS.get(kind or "", TreeEntry).from_fields(fields)


@dataclass(frozen=True)
class TotalsEntry:
    """Where the version's totals pool is (``file``, an ``.npz`` of :class:`~rossmann_core.totals.pool.TotalsPool`
    arrays) and for which ``models``; ``level`` is the band's nominal coverage."""

    file: str
    models: tuple[str, ...]
    level: float
    details: Mapping[str, Any]

    TYPED = ("file", "models", "level")

    @classmethod
    def from_fields(cls, fields: Fields, files: Mapping[str, str], models: Mapping[str, Any]) -> "TotalsEntry":
        """Validated; the file must be listed in ``files`` and each model be one of ``models``."""
        level = fields.number("level")
        if not 0 < level < 1:
            raise fields.error("level", f"must lie between 0 and 1, got {level}")
        entry = cls(fields.text("file"), fields.texts("models"), level, fields.rest(*cls.TYPED))
        if entry.file not in files:
            raise fields.error("file", f"{entry.file!r} is not listed in files")
        unknown = [name for name in entry.models if name not in models]
        if unknown:
            raise fields.error("models", f"name(s) {', '.join(unknown)}, not models of the version")
        return entry

    def to_dict(self) -> dict[str, Any]:
        return {**plain(self.details), "file": self.file, "models": list(self.models), "level": self.level}


@dataclass(frozen=True)
class Manifest:
    """A version's manifest: what serving reads, typed; ``details`` holds the rest (git_commit, data, windows,
    rows, target, feature_dtype) read-only, as written. ``origin`` is the last history day (ISO date)."""

    version: str
    created_at: str
    origin: str
    horizon_days: int
    feature_names: tuple[str, ...]
    files: Mapping[str, str]
    models: Mapping[str, ModelEntry]
    details: Mapping[str, Any]
    totals: TotalsEntry | None = None

    TYPED = ("version", "created_at", "origin", "horizon_days", "feature_names", "files", "models", "totals")

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> "Manifest":
        """Validate ``raw`` (the parsed JSON read from ``source``, named in errors); raises ManifestError."""
        version = raw.get("version") if isinstance(raw, Mapping) else None
        if not isinstance(version, str) or not version:
            raise ManifestError(f"manifest {source} has no version name")
        fields = Fields(raw, "", version, source)
        names = fields.texts("feature_names")
        if names != FEATURE_NAMES:
            raise fields.error("feature_names", (
                f"differ: model version {version} was trained on other features than this code builds "
                f"(differences: {differences(names, FEATURE_NAMES)}); {RETRAIN}"
            ))
        files = fields.child("files")
        manifest = cls(
            version=version,
            created_at=fields.text("created_at"),
            origin=iso_date(fields, "origin"),
            horizon_days=fields.integer("horizon_days"),
            feature_names=names,
            files=frozen({name: files.text(name) for name in files.raw}),
            models=frozen({name: model_entry(entry) for name, entry in fields.children("models").items()}),
            details=fields.rest(*cls.TYPED),
        )
        if "totals" in raw:
            totals = TotalsEntry.from_fields(fields.child("totals"), manifest.files, manifest.models)
            manifest = replace(manifest, totals=totals)
        manifest.check_references(fields.child("models"))
        default = raw.get("default_model")
        if default is not None and (not isinstance(default, str) or default not in manifest.models):
            models = ", ".join(manifest.models)
            raise fields.error("default_model", f"{default!r} is not a model of the version ({models})")
        return manifest

    def check_references(self, models: Fields) -> None:
        """Every model file is listed in ``files``; every blend member is another model of the version."""
        for name, entry in self.models.items():
            if isinstance(entry, TreeEntry | LstmEntry) and entry.file not in self.files:
                raise models.child(name).error("file", f"{entry.file!r} is not listed in files")
            if isinstance(entry, BlendEntry):
                for member in entry.weights:
                    if member == name or member not in self.models:
                        raise models.child(name).child("weights").error(member, "is not another model of the version")

    @property
    def model_files(self) -> dict[str, str]:
        """ONNX file of each model that has a graph of its own."""
        return {name: entry.file for name, entry in self.models.items() if isinstance(entry, TreeEntry | LstmEntry)}

    def graph_models(self, model: str) -> tuple[str, ...]:
        """The models whose ONNX graphs forecasting ``model`` runs: itself, or a blend's members (every one its
        weights name, as :func:`rossmann_core.models.forecast.corrected_log_sales` runs them)."""
        entry = self.models[model]
        return tuple(entry.weights) if isinstance(entry, BlendEntry) else (model,)

    @property
    def best_model(self) -> str:
        """The default everywhere: ``default_model`` as training chose it (the ensemble, whose weights were chosen
        on several backtest windows), else (older versions) the model with the lowest calibration RMSPE."""
        default = self.details.get("default_model")
        if default is not None:
            return default
        return min(self.models, key=lambda name: self.models[name].calibration_rmspe)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this manifest was read from (keys as written; arrays as lists)."""
        return {
            **plain(self.details), "version": self.version, "created_at": self.created_at, "origin": self.origin,
            "horizon_days": self.horizon_days, "feature_names": list(self.feature_names), "files": dict(self.files),
            "models": {name: entry.to_dict() for name, entry in self.models.items()},
            **({} if self.totals is None else {"totals": self.totals.to_dict()}),
        }


def iso_date(fields: Fields, key: str) -> str:
    text = fields.text(key)
    try:
        if len(text) != 10:
            raise ValueError
        np.datetime64(text, "D")
    except ValueError:
        raise fields.error(key, f"must be a YYYY-MM-DD date, got {text!r}") from None
    return text


def read_manifest(path: Path, source: str | None = None) -> Manifest:
    """The validated manifest in the file ``path`` (named ``source`` in errors, default the path);
    ManifestError if it is not JSON or not valid."""
    source = source or str(path)
    try:
        raw = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"manifest {source} is not valid JSON: {error}") from None
    return Manifest.from_dict(raw, source)
