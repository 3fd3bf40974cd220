"""Benchmark the exported LSTM: file size, input building and onnxruntime inference for all stores.

Usage: .venv/bin/python scripts/bench/bench_lstm.py [--registry artifacts/models] [--version V] [--repeats 50]
Prints the figures as JSON (medians); targets: lstm.onnx <= 10 MB, onnxruntime inference for all
1,115 stores x 42 days <= 100 ms. Also the whole ``forecast_panel`` path (inputs + inference +
correction), for all stores and for one store alone (as the API serves a single-store request).
No future covariates are given here, so every horizon day is read as open.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates, empty_panel
from rossmann_core.features.sequences import OUTPUT_NAME
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import load_version
from rossmann_core.serving.servable import take_stores
from training.config import ENSEMBLE


def timed(function, repeats: int) -> list[float]:
    """Seconds of ``repeats`` calls after one warm-up call."""
    function()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registry", default="artifacts/models")
    parser.add_argument("--version")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, help="onnxruntime intra-op threads (default: its own choice)")
    args = parser.parse_args()
    directory = Path(args.registry) / (args.version or latest_version(args.registry))
    version = load_version(directory, threads=args.threads)
    entry = version.manifest.models["lstm"]
    history = version.history
    last = history.dates[-1]
    panel = attach_covariates(history, empty_panel(history.store_ids, last + 1, last + HORIZON_DAYS))
    stores = np.arange(len(history.store_ids))
    origins = np.full(len(stores), history.n_days - 1)
    builder = entry.sequence.builder(panel, version.stores)
    scaler = entry.sequence.scaler
    session = version.sessions["lstm"]
    feed = scaler.feed(builder.build(stores, origins))
    inference = timed(lambda: session.run([OUTPUT_NAME], feed), args.repeats)
    inputs = timed(lambda: scaler.feed(builder.build(stores, origins)), max(3, args.repeats // 10))
    one_store = {name: array[:1] for name, array in feed.items()}
    single = timed(lambda: session.run([OUTPUT_NAME], one_store), args.repeats)
    origin = history.n_days - 1
    few = max(3, args.repeats // 10)
    paths = {
        f"forecast_panel_all_stores_{model}_ms": timed(
            lambda m=model: forecast_panel(version, panel, origin, HORIZON_DAYS, m), few)
        for model in ("lstm", ENSEMBLE) if model in version.models
    }
    alone = take_stores(version, np.array([0]))
    alone_panel = attach_covariates(alone.history, empty_panel(alone.history.store_ids, last + 1, last + HORIZON_DAYS))
    paths["forecast_panel_one_store_lstm_ms"] = timed(
        lambda: forecast_panel(alone, alone_panel, origin, HORIZON_DAYS, "lstm"), args.repeats)
    print(json.dumps({
        "version": version.name,
        "lstm_onnx_mb": round((directory / entry.file).stat().st_size / 1e6, 2),
        "stores": len(stores),
        "input_build_seconds_median": round(float(np.median(inputs)), 3),
        "onnx_inference_ms_median": round(1e3 * float(np.median(inference)), 1),
        "onnx_inference_ms_p90": round(1e3 * float(np.quantile(inference, 0.9)), 1),
        "one_store_inference_ms_median": round(1e3 * float(np.median(single)), 2),
        **{name: round(1e3 * float(np.median(t)), 1) for name, t in paths.items()},
        "onnx_parity_max_abs_diff": entry.details["onnx_parity_max_abs_diff"],
    }, indent=2))


if __name__ == "__main__":
    main()
