"""Charts, table and Lambda-limit analysis of ``scripts/bench/scale_bench.py``'s report (one PNG per quantity).

    .venv/bin/python -m scripts.bench.scale_charts [--report reports/scale_bench.json] [--charts docs]

Growth: the exponent ``b`` of value ~ stores^b between the smallest and the largest fleet (0 flat, 1
linear). Limits: a least-squares line through the fleets, extrapolated to where it reaches the limit.
"""

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from forecast_api.paging import PAGE_STORES

MB = 1024 * 1024
Fleet = dict[str, Any]
Series = dict[str, Callable[[Fleet], float]]


def single(f: Fleet, key: str) -> float:
    return f["batch"]["single"][key]


def sharded_projection(f: Fleet) -> float:
    """Wall time of the fanned-out night on Lambda-sized workers: plan, the slowest shard (shards run in
    parallel, each on its own 2 vCPUs), commit, each cold, as measured here one after another."""
    batch = f["batch"]
    return batch["plan"]["wall_seconds"] + max(s["wall_seconds"] for s in batch["shards"]) + \
        batch["commit"]["wall_seconds"]


QUANTITIES: dict[str, tuple[str, str, Series]] = {
    "batch-wall": ("Nightly batch wall time", "seconds", {
        "single function": lambda f: single(f, "wall_seconds"),
        "plan": lambda f: f["batch"]["plan"]["wall_seconds"],
        "slowest shard": lambda f: max(s["wall_seconds"] for s in f["batch"]["shards"]),
        "commit": lambda f: f["batch"]["commit"]["wall_seconds"],
        "fanned out (plan + slowest shard + commit)": sharded_projection,
    }),
    "batch-cpu": ("Nightly batch CPU time (all threads)", "CPU seconds", {
        "single function": lambda f: single(f, "cpu_seconds"),
        "fanned out, all steps": lambda f: f["batch"]["plan"]["cpu_seconds"] + f["batch"]["commit"]["cpu_seconds"]
        + sum(s["cpu_seconds"] for s in f["batch"]["shards"]),
    }),
    "batch-memory": ("Nightly batch peak memory (RSS)", "MB", {
        "single function": lambda f: single(f, "peak_rss_mb"),
        "plan": lambda f: f["batch"]["plan"]["peak_rss_mb"],
        "largest shard": lambda f: max(s["peak_rss_mb"] for s in f["batch"]["shards"]),
        "commit": lambda f: f["batch"]["commit"]["peak_rss_mb"],
    }),
    "api-latency": ("API latency (Lambda handler, warm)", "milliseconds", {
        "one store p99": lambda f: f["api"]["one_store"]["p99_ms"],
        "one store p50": lambda f: f["api"]["one_store"]["p50_ms"],
        "50 stores p99": lambda f: f["api"]["fifty_stores"]["p99_ms"],
        "all stores, every page": lambda f: f["api"]["all_stores"]["seconds_median"] * 1000,
    }),
    "api-size": ("API all-stores answer (Lambda response bytes)", "MB", {
        "all stores, summed over pages": lambda f: f["api"]["all_stores"]["bytes"] / MB,
        "largest page": lambda f: f["api"]["all_stores"]["max_page_bytes"] / MB,
    }),
    "api-memory": ("API peak memory (RSS, after every request mix)", "MB", {
        "peak RSS": lambda f: f["api"]["peak_rss_mb"],
    }),
    "api-cold-start": ("API cold start (import, model and state load, first /health)", "seconds", {
        "cold start": lambda f: f["api"]["cold_start_seconds"],
    }),
    "training": ("Training (RF, fixed row budget)", "seconds", {
        "train, wall": lambda f: f["training"]["wall_seconds"],
        "forest fit": lambda f: f["training"]["fit_seconds"],
    }),
    "model-size": ("Model version size", "MB", {
        "rf.onnx": lambda f: f["training"]["rf_onnx_bytes"] / MB,
        "store_state.npz": lambda f: f["training"]["store_state_bytes"] / MB,
    }),
    "history-size": ("Stored history and output", "MB", {
        "train.csv (read nightly)": lambda f: f["train_csv_bytes"] / MB,
        "history_state.npz": lambda f: f["batch"]["sizes"]["history_state_bytes"] / MB,
        "forecasts CSV": lambda f: f["batch"]["sizes"]["forecasts_csv_bytes"] / MB,
    }),
}


def exponent(stores: list[int], values: list[float]) -> float:
    """b of value ~ stores^b between the first and last fleet."""
    if values[0] <= 0 or values[-1] <= 0:
        return float("nan")
    return math.log(values[-1] / values[0]) / math.log(stores[-1] / stores[0])


def growth(b: float) -> str:
    if math.isnan(b):
        return "n/a"
    if b < 0.25:
        return f"flat (b={b:.2f})"
    if b < 0.8:
        return f"sub-linear (b={b:.2f})"
    return f"linear (b={b:.2f})" if b < 1.15 else f"worse than linear (b={b:.2f})"


def breaks_at(stores: list[int], values: list[float], limit: float) -> float | None:
    """Stores at which a least-squares line through the fleets reaches ``limit``; None if it never does."""
    slope, intercept = np.polyfit(stores, values, 1)
    return None if slope <= 0 else max(float((limit - intercept) / slope), 0.0)


def chart(name: str, title: str, unit: str, series: Series, fleets: list[Fleet], charts: Path,
          limit: tuple[str, float] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stores = [f["stores"] for f in fleets]
    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=110)
    for label, value in series.items():
        axis.plot(stores, [value(f) for f in fleets], marker="o", label=label)
    if limit:
        axis.axhline(limit[1], color="red", linestyle="--", linewidth=1, label=limit[0])
    if limit or name in LOG_SCALE:
        axis.set_yscale("log")
    axis.set_xscale("log")
    axis.set_xticks(stores, [f"{s:,}\n({f['multiple']}x)" for s, f in zip(stores, fleets, strict=True)])
    axis.minorticks_off()
    axis.set_xlabel("stores in the fleet")
    axis.set_ylabel(unit)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = charts / f"scaling-{name}.png"
    figure.savefig(path)
    plt.close(figure)
    return path


LOG_SCALE = {"api-latency"}
"""Charts whose values span orders of magnitude (those with a limit line are log-scaled too)."""
CHART_LIMITS = {"batch-wall": ("Lambda 15 min", 900.0), "batch-memory": ("Lambda 10,240 MB", 10_240.0),
                "api-size": ("Lambda 6 MB response", 6.0)}


def limit_rows(fleets: list[Fleet], report: dict[str, Any]) -> list[str]:
    """Where each Lambda limit breaks, per piece that grows toward it."""
    stores = [f["stores"] for f in fleets]
    limits = report["limits"]

    def where(values: list[float], limit: float) -> str:
        at = breaks_at(stores, values, limit)
        return "never (flat or shrinking)" if at is None else f"~{at:,.0f} stores ({at / 1115:.0f}x)"

    memory = QUANTITIES["batch-memory"][2]
    wall = QUANTITIES["batch-wall"][2]
    rows = [f"| 10,240 MB memory | {name} | {', '.join(f'{memory[name](f):,.0f}' for f in fleets)} MB | "
            f"{where([memory[name](f) for f in fleets], limits['memory_mb'])} |" for name in memory]
    api = [f["api"]["peak_rss_mb"] for f in fleets]
    rows.append(f"| 10,240 MB memory | API | {', '.join(f'{m:,.0f}' for m in api)} MB | "
                f"{where(api, limits['memory_mb'])} |")
    rows += [f"| 15 min | {name} (this machine, 2 cores) | {', '.join(f'{wall[name](f):.1f}' for f in fleets)} s | "
             f"{where([wall[name](f) for f in fleets], limits['timeout_s'])} |"
             for name in ("single function", "plan", "slowest shard", "commit")]
    total = [f["api"]["all_stores"]["bytes"] for f in fleets]
    page = [f["api"]["all_stores"]["max_page_bytes"] for f in fleets]
    rows.append(f"| 6 MB response | all stores in one answer (unpaged) | {', '.join(f'{b / MB:.1f}' for b in total)}"
                f" MB | {where(total, limits['response_bytes'])} |")
    rows.append(f"| 6 MB response | largest page (paged) | {', '.join(f'{b / MB:.2f}' for b in page)} MB | never: "
                f"a page holds at most {PAGE_STORES:,} stores |")
    rows.append(f"| 250 MB package | API function + layers | {report['package_mb']} MB at every size | never: the "
                "model is fetched from S3 at run time, not packaged |")
    cached = [(f["training"]["rf_onnx_bytes"] + f["training"]["store_state_bytes"]) / MB for f in fleets]
    rows.append(f"| (512 MB default /tmp) | cached model version | {', '.join(f'{c:.0f}' for c in cached)} MB | "
                f"{where(cached, limits['tmp_mb'])}; ephemeral storage is configurable to 10,240 MB |")
    return rows


def render(report: dict[str, Any], charts: Path) -> str:
    """Write one chart per quantity into ``charts``; the Markdown table and limit analysis."""
    fleets = sorted(report["fleets"], key=lambda f: f["stores"])
    stores = [f["stores"] for f in fleets]
    charts.mkdir(parents=True, exist_ok=True)
    header = "| quantity | " + " | ".join(f"{s:,} ({f['multiple']}x)" for s, f in zip(stores, fleets, strict=True))
    lines = [header + " | growth |", "| --- |" + " --- |" * (len(fleets) + 1)]
    for name, (title, unit, series) in QUANTITIES.items():
        chart(name, title, unit, series, fleets, charts, CHART_LIMITS.get(name))
        for label, value in series.items():
            values = [value(f) for f in fleets]
            cells = " | ".join(f"{v:,.2f}" if v < 100 else f"{v:,.0f}" for v in values)
            lines.append(f"| {title}: {label} ({unit}) | {cells} | {growth(exponent(stores, values))} |")
    lines += ["", "| limit | piece | measured (1x, 4x, 16x) | breaks at |", "| --- | --- | --- | --- |",
              *limit_rows(fleets, report)]
    four = next((f for f in fleets if f["multiple"] == 4), None)
    if four:
        lines += ["", f"4x projection on Lambda-sized workers: plan {four['batch']['plan']['wall_seconds']:.1f} s + "
                      f"slowest of {len(four['batch']['shards'])} shards "
                      f"{max(s['wall_seconds'] for s in four['batch']['shards']):.1f} s + commit "
                      f"{four['batch']['commit']['wall_seconds']:.1f} s = {sharded_projection(four):.1f} s "
                      f"(single function here: {four['batch']['single']['wall_seconds']:.1f} s)"]
    lines.append("sharded CSV == single CSV: " + ", ".join(
        f"{f['multiple']}x {f['batch']['sharded_equals_single']}" for f in fleets))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.scale_charts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, default=repo / "reports" / "scale_bench.json")
    parser.add_argument("--charts", type=Path, default=repo / "docs")
    args = parser.parse_args(argv)
    print(render(json.loads(args.report.read_text()), args.charts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
