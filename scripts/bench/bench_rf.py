"""Benchmark the exported Random Forest: file size, feature building and ONNX inference time.

Usage: .venv/bin/python scripts/bench/bench_rf.py [--registry artifacts/models] [--version V] [--repeats 20]
Prints the figures; targets: rf.onnx <= 50 MB, ONNX inference for all stores x 42 days <= 0.5 s.
"load_and_verify" covers every model of the version; "rf_session_build" the forest alone.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from rossmann_core.data.panel import attach_covariates, empty_panel
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models.forecast import FEATURES_INPUT, horizon_rows
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import load_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registry", default="artifacts/models")
    parser.add_argument("--version")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    directory = Path(args.registry) / (args.version or latest_version(args.registry))
    started = time.perf_counter()
    version = load_version(directory)
    load_seconds = time.perf_counter() - started
    history = version.history
    horizon = version.manifest.horizon_days
    last = history.dates[-1]
    future = empty_panel(history.store_ids, last + 1, last + horizon)
    panel = attach_covariates(history, future)
    rows = horizon_rows(panel, history.n_days - 1, horizon, np.arange(len(history.store_ids)))
    started = time.perf_counter()
    features = FeatureBuilder(panel, version.stores).build(*rows)
    feature_seconds = time.perf_counter() - started
    session = version.sessions["rf"]
    session.run(None, {FEATURES_INPUT: features})
    timings = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        session.run(None, {FEATURES_INPUT: features})
        timings.append(time.perf_counter() - started)
    rf_file = directory / version.manifest.model_files["rf"]
    started = time.perf_counter()
    ort.InferenceSession(rf_file.read_bytes(), providers=["CPUExecutionProvider"])
    session_seconds = time.perf_counter() - started
    print(json.dumps({
        "version": version.name,
        "rf_onnx_mb": round(rf_file.stat().st_size / 1e6, 1),
        "load_and_verify_seconds": round(load_seconds, 2),
        "rf_session_build_seconds": round(session_seconds, 2),
        "rows": len(features),
        "feature_build_seconds": round(feature_seconds, 3),
        "onnx_inference_seconds_median": round(float(np.median(timings)), 3),
        "onnx_inference_seconds_max": round(float(np.max(timings)), 3),
    }, indent=2))


if __name__ == "__main__":
    main()
