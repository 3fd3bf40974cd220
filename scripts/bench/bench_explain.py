"""Explanations on a real version: exactness on every store-day of every explained model, cost per store, file sizes.

For each tree model and the default blend, every store's 42 days are explained (``explain_store``, the history the
version holds) and checked: the explanation's forecast against the served one (``forecast_stores``), and
baseline x factors against the forecast (max relative difference over open days). Then the warm time of one
store's 42-day explanation (with last year), p50/p99 over the stores in turn, and what the node-value files cost
(bytes, read + sha256 + parse). Prints JSON.

    .venv/bin/python scripts/bench/bench_explain.py --registry artifacts/models [--version V] [--stores 300]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rossmann_core.explain.breakdown import explainable
from rossmann_core.explain.tree_paths import TreePaths
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import load_version, read_verified
from rossmann_core.serving.explanations import explain_store
from rossmann_core.serving.servable import forecast_stores, prepare


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--version")
    parser.add_argument("--stores", type=int, default=300, help="stores timed (every store is checked)")
    args = parser.parse_args()
    name = args.version or latest_version(args.registry)
    directory = Path(args.registry, name)
    version = load_version(directory, threads=1)
    servable = prepare(version)
    servable.warm()
    ids = servable.stores.store_id[servable.has_history].astype(np.int64)
    checked: dict[str, dict[str, object]] = {}
    for model in version.models:
        if explainable(version, model):
            continue
        served = forecast_stores(servable, ids, model=model).forecast.sales.reshape(len(ids), -1)
        worst_identity, worst_served, compared = 0.0, 0.0, 0
        for row, store in enumerate(ids):
            explained = explain_store(servable, int(store), model=model)
            opened = explained.open
            product = explained.baseline[opened] * np.exp(explained.log_factors[opened].sum(axis=1))
            worst_identity = max(worst_identity, float(np.max(np.abs(product / explained.forecast[opened] - 1))))
            worst_served = max(worst_served, float(np.max(np.abs(explained.forecast - served[row]))))
            comparisons = [w.last_year for w in [*explained.weeks, explained.window] if w.last_year is not None]
            if not all(np.isfinite(c.log_parts).all() and np.isfinite(c.actual) for c in comparisons):
                raise AssertionError(f"store {store}, {model}: a comparison with last year is not finite")
            compared += len(comparisons) - (explained.window.last_year is not None)
        checked[model] = {
            "stores": len(ids), "max_relative_baseline_x_factors_vs_forecast": worst_identity,
            "max_abs_euros_vs_served_forecast": worst_served, "weeks_compared_with_last_year": compared,
            "paths_parity_max_abs_diff": version.manifest.models[model].details.get("paths_parity_max_abs_diff"),
        }
    report: dict[str, object] = {"version": name, "history_days": servable.history.n_days, "models": checked}
    timed = ids[np.linspace(0, len(ids) - 1, min(args.stores, len(ids))).astype(int)]
    times = []
    for store in timed:
        started = time.perf_counter()
        explain_store(servable, int(store))
        times.append(1000 * (time.perf_counter() - started))
    report["warm_one_store_42_days_default_model_ms"] = {
        "model": servable.default_model, "stores": len(timed), "p50": round(percentile(times, 50), 2),
        "p99": round(percentile(times, 99), 2), "max": round(max(times), 2)}
    files = {}
    for entry in version.manifest.models.values():
        paths_file = getattr(entry, "paths_file", None)
        if paths_file:
            started = time.perf_counter()
            TreePaths.from_bytes(read_verified(directory, version.manifest.files, paths_file), paths_file)
            files[paths_file] = {"mb": round((directory / paths_file).stat().st_size / 1e6, 2),
                                 "load_ms": round(1000 * (time.perf_counter() - started), 1)}
    report["paths_files"] = files
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
