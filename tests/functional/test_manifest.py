"""The typed manifest: a trained version round-trips; a missing key, a wrong type or a model this code cannot
feed fails once, at load, naming the key path and the version; the API and the batch refuse such a version."""

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import serve_from
from forecast_api.application import create_app
from nightly_batch import handler as batch_handler
from rossmann_core.errors import ManifestError
from rossmann_core.features.sequences import FUTURE_CHANNELS, INPUT_NAMES, PAST_CHANNELS, STATIC_FEATURES
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.lstm_runtime import ChannelRange, SequenceScaler
from rossmann_core.models.manifest import LstmEntry, Manifest, TreeEntry
from rossmann_core.models.version import MANIFEST_FILE, load_version
from training.export import write_version

Change = Callable[[dict[str, Any]], Any]


def read(directory: Path) -> dict[str, Any]:
    return json.loads((directory / MANIFEST_FILE).read_text())


def copy_version(version_dir: Path, registry: Path, change: Change | None = None, name: str | None = None) -> Path:
    """A copy of the version in ``registry`` (as ``name``, default its own), its manifest edited by ``change``."""
    name = name or version_dir.name
    copy = registry / name
    shutil.copytree(version_dir, copy)
    manifest = {**read(copy), "version": name}
    if change is not None:
        change(manifest)
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    (registry / "latest.json").write_text(json.dumps({"version": name}))
    return copy


def lstm_entry(manifest: dict[str, Any]) -> dict[str, Any]:
    """A well-formed LSTM entry (reusing the forest's file and calibration): enough to parse, not to forecast."""
    scaler = SequenceScaler(*(ChannelRange(names, np.zeros(len(names)), np.ones(len(names)))
                              for names in (PAST_CHANNELS, FUTURE_CHANNELS, STATIC_FEATURES)))
    rf = manifest["models"]["rf"]
    return {"kind": "lstm", "file": rf["file"], "correction": 1.0, "interval": rf["interval"], "metrics": {},
            "horizon_days": 42, "lookback_weeks": 8, "embedding_store_ids": list(range(1, 9)),
            "input_names": list(INPUT_NAMES), "scaler": scaler.to_manifest()}


def with_lstm(change: Change | None = None) -> Change:
    def add(manifest: dict[str, Any]) -> None:
        manifest["models"]["lstm"] = lstm_entry(manifest)
        if change is not None:
            change(manifest["models"]["lstm"])
    return add


def test_a_trained_version_reads_typed_and_writes_back_the_same_json(synthetic_version_dir: Path) -> None:
    manifest = load_version(synthetic_version_dir).manifest
    assert manifest.to_dict() == read(synthetic_version_dir)
    assert (manifest.version, manifest.origin, manifest.horizon_days) == (synthetic_version_dir.name, "2015-01-31", 42)
    assert manifest.feature_names == FEATURE_NAMES
    assert set(manifest.files) == {"rf.onnx", "rf_paths.npz", "store_state.npz", "totals_pool.npz"}
    rf = manifest.models["rf"]
    assert isinstance(rf, TreeEntry) and manifest.model_files == {"rf": "rf.onnx"} and manifest.best_model == "rf"
    assert rf.paths_file == "rf_paths.npz"
    assert rf.interval.level == 0.9 and len(rf.interval.lower_log) == len(rf.interval.upper_log) == 6
    assert 0 < rf.calibration_rmspe < 0.2 and rf.correction > 0
    assert manifest.details["windows"]["calibration"] == ("2014-12-21", "2015-01-31")
    with pytest.raises(TypeError):
        manifest.details["rows"]["train"] = 0  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        rf.correction = 1.0  # type: ignore[misc]


def test_an_lstm_entry_reads_as_typed_inputs(synthetic_version_dir: Path) -> None:
    raw = read(synthetic_version_dir)
    with_lstm()(raw)
    manifest = Manifest.from_dict(raw, "a test")
    lstm = manifest.models["lstm"]
    assert isinstance(lstm, LstmEntry) and lstm.sequence.lookback_weeks == 8
    assert lstm.sequence.scaler.static.names == STATIC_FEATURES
    assert lstm.sequence.embedding_store_ids == tuple(range(1, 9))
    assert manifest.to_dict() == raw


OTHER_FEATURES = (f"feature_names differ: model version 20000101T000000Z was trained on other features than this "
                  f"code builds (differences: a_feature_this_code_lacks, {FEATURE_NAMES[-1]}); "
                  "retrain or pin a compatible MODEL_VERSION")


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["models"]["rf"]["interval"].pop("lower_log"), "models.rf.interval.lower_log is missing"),
    (lambda m: m.pop("origin"), "origin is missing"),
    (lambda m: m.update(horizon_days="42"), "horizon_days must be an integer >= 1, got str '42'"),
    (lambda m: m.update(origin="31.01.2015"), "origin must be a YYYY-MM-DD date, got '31.01.2015'"),
    (lambda m: m["models"]["rf"].update(correction=None), "models.rf.correction must be a finite positive number"),
    (lambda m: m["models"]["rf"]["interval"]["upper_log"].pop(), "models.rf.interval.upper_log must hold 6 values"),
    (lambda m: m["models"]["rf"]["metrics"].update(calibration_rmspe="low"),
     "models.rf.metrics.calibration_rmspe must be a finite number, got str 'low'"),
    (lambda m: m["models"]["rf"].update(file="forest.onnx"), "models.rf.file 'forest.onnx' is not listed in files"),
    (lambda m: m["feature_names"].__setitem__(-1, "a_feature_this_code_lacks"), OTHER_FEATURES),
    (with_lstm(lambda e: e["scaler"]["static"].update(channels=list(STATIC_FEATURES[::-1]))),
     "models.lstm.scaler.static.channels differ from the LSTM inputs this code builds (differences: their order)"),
    (with_lstm(lambda e: e.update(horizon_days=28)), "models.lstm.horizon_days is 28"),
    (with_lstm(lambda e: e["input_names"].remove("calendar")),
     "models.lstm.input_names differ from the LSTM inputs this code feeds (differences: calendar); retrain"),
    (with_lstm(lambda e: e["embedding_store_ids"].__setitem__(2, 3.0)),
     "models.lstm.embedding_store_ids[2] must be an integer, got float 3.0"),
    (lambda m: m["models"].update(ensemble={**m["models"]["rf"], "kind": "blend", "weights": {"rf": 0.5, "lstm": 0.5}}),
     "models.ensemble.weights.lstm is not another model of the version"),
    (lambda m: m.update(default_model="ensemble"), "default_model 'ensemble' is not a model of the version (rf)"),
])
def test_a_bad_manifest_fails_at_load_with_one_error_naming_key_and_version(
    synthetic_version_dir: Path, tmp_path: Path, change: Change, message: str
) -> None:
    copy = copy_version(synthetic_version_dir, tmp_path, change, name="20000101T000000Z")
    with pytest.raises(ManifestError) as caught:
        load_version(copy)
    assert str(caught.value).startswith(f"manifest of version 20000101T000000Z: {message}")
    assert str(caught.value).endswith(f"(in {copy.name}/{MANIFEST_FILE})")  # no local absolute path


def test_a_manifest_without_a_version_or_not_json_is_refused(synthetic_version_dir: Path, tmp_path: Path) -> None:
    copy = copy_version(synthetic_version_dir, tmp_path, lambda m: m.pop("version"))
    with pytest.raises(ManifestError, match="has no version name"):
        load_version(copy)
    (copy / MANIFEST_FILE).write_text("{")
    with pytest.raises(ManifestError, match="is not valid JSON"):
        load_version(copy)


def test_training_cannot_write_a_manifest_serving_cannot_read(synthetic_version_dir: Path, tmp_path: Path) -> None:
    manifest = read(synthetic_version_dir)
    del manifest["models"]["rf"]["interval"]
    files = {name: (synthetic_version_dir / name).read_bytes() for name in manifest.pop("files")}
    with pytest.raises(ManifestError, match=r"models\.rf\.interval is missing"):
        write_version(tmp_path, files, manifest)
    assert not (tmp_path / "models").exists(), "nothing is written"


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client
    serve_from(monkeypatch, None)


def test_the_api_reports_the_interval_level_of_the_manifest(
    client: TestClient, synthetic_version_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_version(synthetic_version_dir, tmp_path, lambda m: m["models"]["rf"]["interval"].update(level=0.8))
    serve_from(monkeypatch, tmp_path)
    response = client.get("/stores/1/forecast", params={"horizon_days": 7})
    assert response.status_code == 200 and response.json()["interval_level"] == 0.8


def test_models_skips_a_version_whose_manifest_fails_with_a_warning(
    client: TestClient, synthetic_version_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    copy_version(synthetic_version_dir, tmp_path, lambda m: m.pop("created_at"), name="20000101T000000Z")
    copy_version(synthetic_version_dir, tmp_path)
    serve_from(monkeypatch, tmp_path)
    with caplog.at_level(logging.WARNING):
        response = client.get("/models")
    assert response.status_code == 200
    assert [v["version"] for v in response.json()["versions"]] == [synthetic_version_dir.name]
    assert any(getattr(r, "event", None) == "invalid_manifest" and "created_at is missing" in r.getMessage()
               for r in caplog.records)


def test_the_batch_reports_a_model_built_for_other_features_as_failed(
    synthetic_version_dir: Path, tmp_path: Path, s3_env: str
) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    copy_version(synthetic_version_dir, registry, lambda m: m["feature_names"].reverse())
    environ = {"MODEL_REGISTRY": str(registry), "DATA_BUCKET": "no-data", "FORECAST_BUCKET": "no-forecasts"}
    batch_handler.reset()
    result = batch_handler.handle({"run_date": "2015-02-01"}, environ=environ)
    batch_handler.reset()
    assert result["status"] == "failed"
    assert result["error"].startswith(f"ManifestError: manifest of version {synthetic_version_dir.name}: "
                                      "feature_names differ")
