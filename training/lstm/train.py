"""Train the LSTM at a cutoff and export it: windows -> scaler -> Keras fit -> ONNX -> calibration forecast.

Timeline (T = last history day): training windows end (last target day) at or before T - 42, early
stopping watches the windows with origin T - 42 (targets T-41..T, the calibration window), and the
calibration forecast is made by the exported ONNX model through the serving code path.
"""

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable
from rossmann_core.features.sequences import (
    CALENDAR_PARTS,
    FUTURE_CHANNELS,
    INPUT_NAMES,
    OUTPUT_NAME,
    PAST_CHANNELS,
    STATIC_FEATURES,
    SequenceBuilder,
)
from rossmann_core.models.lstm_runtime import SequenceScaler, SequenceSpec, predict_log_sales

from ..config import LstmSettings
from ..metrics import rmspe
from . import export
from .fit import configure_tensorflow, fit, set_seed
from .model import average_of, build_model, compile_model
from .scaling import fit_scaler
from .windows import CHUNK_WINDOWS, Windows, all_stores, build_windows, subset, training_origins

log = logging.getLogger(__name__)

LSTM_FILE = "lstm.onnx"


@dataclass(frozen=True)
class LstmResult:
    """The exported model, its manifest entry (without calibration figures) and the calibration
    forecast: uncorrected log sales of days T-41..T for every store, (n_stores, HORIZON_DAYS) float64."""

    onnx_model: bytes
    entry: dict[str, Any]
    calibration_log: np.ndarray


def log_rmspe(windows: Windows, log_pred: np.ndarray) -> float:
    """RMSPE of log-sales forecasts (n, HORIZON_DAYS) against the windows' scored days."""
    scored = np.isfinite(windows.target)
    actual = np.exp(windows.target + windows.inputs.base)[scored]
    return rmspe(actual, np.exp(log_pred[scored]))


def train_lstm(history: Panel, stores: StoreTable, settings: LstmSettings) -> LstmResult:
    """Fit on windows of ``history`` ending by its last day - 42 and export to ONNX."""
    started = time.perf_counter()
    configure_tensorflow(settings)
    builder = SequenceBuilder(history, stores, settings.lookback_weeks)
    n_stores = len(history.store_ids)
    calib_origin = history.n_days - 1 - HORIZON_DAYS
    origins = training_origins(calib_origin, builder.lookback_days, settings.origin_stride_days)
    train = build_windows(builder, *all_stores(n_stores, origins), settings.min_known_share)
    calib = build_windows(builder, *all_stores(n_stores, np.array([calib_origin])))
    scaler = fit_scaler(train.inputs)
    train_data = (feed_in_chunks(scaler, train), scaler.scale_target(train.target))
    calib_feed = scaler.feed(calib.inputs)
    calib_data = (calib_feed, scaler.scale_target(calib.target))
    log.info("LSTM windows: %d training (%d origins from %s, %d without enough history dropped), "
             "%d calibration; %.1f s", len(train), len(origins), history.dates[origins[0]],
             len(origins) * n_stores - len(train), len(calib), time.perf_counter() - started)
    del train

    def validation_rmspe(keras_model) -> float:
        output = keras_model.predict(calib_feed, batch_size=4096, verbose=0)
        return log_rmspe(calib, calib.inputs.base + scaler.unscale_target(output))

    widths = (calib_feed["past"].shape[-1], len(FUTURE_CHANNELS), len(STATIC_FEATURES))
    steps_per_epoch = -(-len(train_data[1]) // settings.batch_size)
    members, fits = [], []
    for seed in range(settings.seed, settings.seed + settings.seeds):
        set_seed(seed)
        member = compile_model(build_model(settings.lookback_weeks, *widths, n_stores, settings, name=f"lstm_{seed}"),
                               settings, steps_per_epoch)
        fit_started = time.perf_counter()
        log.info("LSTM seed %d (%d of %d)", seed, len(members) + 1, settings.seeds)
        epochs = fit(member, train_data, calib_data, settings, validation_rmspe)
        fits.append(seed_record(seed, epochs, time.perf_counter() - fit_started))
        members.append(member)
    del train_data
    model = average_of(members)

    onnx_model = export.to_onnx(model)
    parity = export.parity(onnx_model, model, calib_feed)
    spec = SequenceSpec(settings.lookback_weeks, tuple(history.store_ids.tolist()), scaler)
    entry = manifest_entry(settings, spec, calib_feed, fits, parity)
    calibration_log = serve_calibration(onnx_model, spec, history, stores, calib_origin)
    entry["total_seconds"] = round(time.perf_counter() - started, 1)
    log.info("LSTM: mean of %d seeds, %d epochs in %.0f s, ONNX %.2f MB, parity %.2e, calibration RMSPE "
             "(uncorrected) %.4f", len(fits), sum(len(f["epochs"]) for f in fits), entry["train_seconds"],
             len(onnx_model) / 1e6, parity, log_rmspe(calib, calibration_log))
    return LstmResult(onnx_model, entry, calibration_log)


def feed_in_chunks(scaler: SequenceScaler, windows: Windows) -> dict[str, np.ndarray]:
    """``scaler.feed`` of all windows, computed chunk by chunk to bound the temporaries."""
    parts = [scaler.feed(subset(windows, slice(lo, lo + CHUNK_WINDOWS)).inputs)
             for lo in range(0, len(windows), CHUNK_WINDOWS)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def serve_calibration(
    onnx_model: bytes, spec: SequenceSpec, history: Panel, stores: StoreTable, origin: int
) -> np.ndarray:
    """The calibration forecast through onnxruntime and :func:`rossmann_core.models.lstm_runtime.predict_log_sales`."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    return predict_log_sales(session, spec, history, stores, np.arange(len(history.store_ids)), origin)


def seed_record(seed: int, epochs: list[dict[str, float]], fit_seconds: float) -> dict[str, Any]:
    """One member's fit for the manifest: its seed, per-epoch log, best epoch (weights kept) and seconds."""
    best = min(epochs, key=lambda e: e["val_rmspe"])
    return {"seed": seed, "best_epoch": best["epoch"], "best_val_rmspe": best["val_rmspe"], "epochs": epochs,
            "train_seconds": round(fit_seconds, 1)}


def manifest_entry(
    settings: LstmSettings, spec: SequenceSpec, feed: dict[str, np.ndarray], fits: list[dict[str, Any]],
    parity: float,
) -> dict[str, Any]:
    """Everything serving needs besides the ONNX file and calibration, plus how the model was trained.
    The caller adds the calibration; ``rossmann_core.models.manifest.LstmEntry`` is how serving reads it.

    ``train_seconds`` is the Keras fits of all seeds; ``total_seconds`` (added by the caller) also counts
    building the windows, the export and the calibration forecast."""
    return {
        "file": LSTM_FILE,
        "kind": "lstm",
        "description": f"mean of {len(fits)} Keras 2-layer LSTM encoders + per-day dense heads (store and calendar "
                       "embeddings), 42 days at once, via tf2onnx",
        "target": "log(sales) - base (store x weekday x promo mean log sales of the year to the origin), "
                  "scaled to (-1, 1)",
        **spec.to_manifest(),
        "horizon_days": HORIZON_DAYS,
        "inputs": export.input_specs(feed),
        "input_names": list(INPUT_NAMES),
        "output": {"name": OUTPUT_NAME, "shape": [None, HORIZON_DAYS], "dtype": "float32"},
        "channels": {"past": list(PAST_CHANNELS), "future": list(FUTURE_CHANNELS), "static": list(STATIC_FEATURES),
                     "calendar": dict(CALENDAR_PARTS)},
        "settings": {**asdict(settings), "lstm_units": list(settings.lstm_units)},
        "seeds": fits,
        "onnx_parity_max_abs_diff": parity,
        "train_seconds": round(sum(f["train_seconds"] for f in fits), 1),
    }
