"""Write the diagnostics report: Markdown + PNG figures, every number computed from the data.

The decision section is generated from the same numbers, so it changes if the data do.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rossmann_core.data.dates import weekday
from rossmann_core.data.panel import Panel

from ..config import DEFAULT_LSTM
from . import figures
from .autocorr import acf_nan, band, mean_store_acf, pacf_from_acf, peak_lags, seasonal_excess, significant_lags
from .series import Series, build_series, difference
from .stationarity import ALPHA, TestPair, adf_kpss, rejection_shares

log = logging.getLogger(__name__)

REPORT_FILE = "index.md"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Findings:
    """Every number the report quotes."""

    chain_tests: dict[str, TestPair]
    store_shares: dict[str, dict[str, float]]
    spread: dict[str, float]
    chain_acf: np.ndarray
    chain_pacf: np.ndarray
    chain_log_acf: np.ndarray
    store_log_acf: np.ndarray
    store_residual_acf: np.ndarray
    n_chain: int
    n_chain_log: int


def transforms_of(series: Series) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name -> (chain series, store matrix) for each transform tested."""
    return {
        "log": (series.chain_log, series.store_log),
        "log, first difference": (difference(series.chain_log, 1), difference(series.store_log, 1)),
        "log, weekly difference (lag 7)": (difference(series.chain_log, 7), difference(series.store_log, 7)),
        "log minus weekday x promo mean": (series.chain_residual, series.store_residual),
    }


def find(series: Series) -> Findings:
    chain_tests = {"sales (euros per store, all days)": adf_kpss(series.chain_sales)}
    store_shares = {}
    for name, (chain, stores) in transforms_of(series).items():
        chain_tests[name] = adf_kpss(chain)
        store_shares[name] = rejection_shares(stores)
    sales = np.exp(series.store_log)
    with np.errstate(invalid="ignore"):
        spread = {
            "raw": float(np.corrcoef(np.nanmean(sales, axis=1), np.nanstd(sales, axis=1))[0, 1]),
            "log": float(np.corrcoef(np.nanmean(series.store_log, axis=1), np.nanstd(series.store_log, axis=1))[0, 1]),
        }
    chain_acf = acf_nan(series.chain_sales)
    return Findings(
        chain_tests=chain_tests,
        store_shares=store_shares,
        spread=spread,
        chain_acf=chain_acf,
        chain_pacf=pacf_from_acf(chain_acf),
        chain_log_acf=acf_nan(series.chain_log),
        store_log_acf=mean_store_acf(series.store_log),
        store_residual_acf=mean_store_acf(series.store_residual),
        n_chain=len(series.chain_sales),
        n_chain_log=int(np.isfinite(series.chain_log).sum()),
    )


def _p(pair: TestPair, which: str) -> str:
    p = getattr(pair, f"{which}_p")
    if which == "kpss" and pair.kpss_p_bounded:
        return f"{'≤' if p <= 0.01 else '≥'} {p:.2f}"
    return f"{p:.2g}"


def _lags(values: np.ndarray, lags: list[int]) -> str:
    return ", ".join(f"{lag} ({values[lag]:+.2f})" for lag in lags) or "none"


def _excess(values: np.ndarray) -> str:
    return " / ".join(f"{seasonal_excess(values, lag):+.2f}" for lag in (7, 14))


def section_series(series: Series, panel: Panel, store_rows: dict[str, int], figs: dict[str, str]) -> list[str]:
    dow = weekday(series.dates)
    by_day = [float(np.mean(series.chain_sales[dow == d])) for d in range(7)]
    known = panel.open >= 0
    sunday_open = float((panel.open[:, dow == 6] == 1).sum() / max(known[:, dow == 6].sum(), 1))
    peak = int(np.argmax(series.chain_sales))
    missing = np.isnan(panel.sales)
    gap_stores = int((missing.sum(axis=1) > 30).sum())
    per_day = missing.sum(axis=0)
    gap_days = series.dates[per_day >= per_day.max() / 2] if per_day.max() > 0 else series.dates[:0]
    gap = f", most of them missing {gap_days[0]}..{gap_days[-1]}" if len(gap_days) else ""
    return [
        "## 1. Chain-level and per-store series",
        f"![chain]({figs['chain']})",
        f"- {len(series.store_ids)} stores, {len(series.dates)} days ({series.dates[0]}..{series.dates[-1]}); "
        f"mean sales per reporting store and day {np.mean(series.chain_sales):,.0f} euros.",
        "- Mean by weekday (euros per store): " + ", ".join(f"{WEEKDAYS[d]} {v:,.0f}" for d, v in enumerate(by_day))
        + f"; {sunday_open:.0%} of Sunday store-days are open.",
        f"- Highest day: {series.dates[peak]} ({series.chain_sales[peak]:,.0f} euros per store); "
        f"{gap_stores} stores lack more than 30 days of rows{gap}.",
        f"![stores]({figs['stores']})",
        "- Example stores: " + ", ".join(
            f"{label} store {series.store_ids[row]} (mean {np.nanmean(np.exp(series.store_log[row])):,.0f} euros "
            f"on open days)" for label, row in store_rows.items()
        ) + ".",
    ]


def section_stationarity(f: Findings, figs: dict[str, str]) -> list[str]:
    lines = [
        "## 2. Stationarity: ADF and KPSS before and after log and differencing",
        f"ADF: H0 = unit root (reject → stationary); KPSS: H0 = level-stationary (reject → not). "
        f"Level {ALPHA}. The chain-level log series is the mean log sales of the open stores on days "
        f"when at least half of them trade ({f.n_chain_log} of {f.n_chain} days).",
        "",
        "| chain series | n | ADF stat | ADF p | KPSS stat | KPSS p |",
        "|---|---|---|---|---|---|",
        *(f"| {name} | {t.n} | {t.adf_stat:.2f} | {_p(t, 'adf')} | {t.kpss_stat:.3f} | {_p(t, 'kpss')} |"
          for name, t in f.chain_tests.items()),
        "",
        "| per store (open days) | stores | ADF rejects unit root | KPSS rejects stationarity |",
        "|---|---|---|---|",
        *(f"| {name} | {s['stores']} | {s['adf_rejects']:.0%} | {s['kpss_rejects']:.0%} |"
          for name, s in f.store_shares.items()),
        "",
        f"- Across stores, correlation of a store's mean and standard deviation of daily sales: "
        f"{f.spread['raw']:+.2f} in euros, {f.spread['log']:+.2f} in log.",
        f"![transforms]({figs['transforms']})",
    ]
    return lines


def section_autocorr(f: Findings, figs: dict[str, str]) -> list[str]:
    wide = band(f.n_chain)
    return [
        "## 3. ACF and PACF",
        f"![acf]({figs['acf']})",
        f"- Chain sales (all days): ACF peaks at lags {_lags(f.chain_acf, peak_lags(f.chain_acf, wide, top=6))}; "
        f"PACF strongest at lags {_lags(f.chain_pacf, significant_lags(f.chain_pacf, wide))} "
        f"(95 % band ±{wide:.2f}).",
        f"- Chain log sales (trading days): lag 7 {f.chain_log_acf[7]:+.2f}, lag 14 {f.chain_log_acf[14]:+.2f}, "
        f"lag 28 {f.chain_log_acf[28]:+.2f}: promotions run every other week, so a week apart is the "
        "opposite promo state and two weeks apart the same.",
        f"- Mean per-store ACF of log sales: peaks at lags {_lags(f.store_log_acf, peak_lags(f.store_log_acf, 0.05))}.",
        f"- After subtracting the store's weekday x promo mean: lag 1 {f.store_residual_acf[1]:+.2f}, "
        f"lag 7 {f.store_residual_acf[7]:+.2f}, lag 14 {f.store_residual_acf[14]:+.2f}, "
        f"lag 28 {f.store_residual_acf[28]:+.2f}, lag 42 {f.store_residual_acf[42]:+.2f}. Height of lag 7 / "
        f"lag 14 above their neighbouring lags: {_excess(f.store_log_acf)} in log sales, "
        f"{_excess(f.store_residual_acf)} after.",
    ]


def section_decision(f: Findings) -> list[str]:
    log_shares = f.store_shares["log"]
    diff_shares = f.store_shares["log, first difference"]
    resid_shares = f.store_shares["log minus weekday x promo mean"]
    wide = band(f.n_chain)
    pointed = set(peak_lags(f.chain_acf, wide, top=6)) | set(significant_lags(f.chain_pacf, wide))
    cycle = [lag for lag in (7, 14) if lag in pointed]
    weeks = DEFAULT_LSTM.lookback_weeks
    spread_verdict = (
        "grows with its level in euros, not in log" if abs(f.spread["log"]) < abs(f.spread["raw"])
        else "follows its level in log too"
    )
    weekly_left = max(seasonal_excess(f.store_residual_acf, lag) for lag in (7, 14))
    difference_needed = log_shares["adf_rejects"] < 0.5
    lines = [
        "## 4. Decision for the LSTM's inputs",
        f"- **Log sales.** A store's spread {spread_verdict} (mean-std correlation {f.spread['raw']:+.2f} in euros, "
        f"{f.spread['log']:+.2f} in log); squared log error also approximates the squared percentage error "
        "that RMSPE scores.",
    ]
    if difference_needed:
        lines.append(
            f"- **Difference the target.** ADF rejects a unit root for only {log_shares['adf_rejects']:.0%} of "
            "stores in log levels."
        )
    else:
        lines.append(
            f"- **No differencing.** ADF rejects a unit root for {log_shares['adf_rejects']:.0%} of stores in log "
            f"levels; KPSS still rejects level-stationarity for {log_shares['kpss_rejects']:.0%} (slow level "
            f"shifts), and first differences pass KPSS for {1 - diff_shares['kpss_rejects']:.0%} but turn a "
            "42-day forecast into a sum of 42 noisy steps. The series is mean-reverting around a drifting level, "
            "so the model forecasts deviations from a level, not changes."
        )
    lines += [
        f"- **Remove the weekly and two-weekly cycles** (ACF/PACF peaks at lags {', '.join(map(str, cycle)) or '-'}): "
        "inputs and target are log sales minus the store's weekday x promo mean over the year to the origin "
        "(the `base`). Left over, the mean store ACF is "
        f"{f.store_residual_acf[1]:+.2f} at lag 1 and {f.store_residual_acf[28]:+.2f} at lag 28, lags 7 and 14 "
        f"stand at most {weekly_left:+.2f} above their neighbours, and KPSS rejects for "
        f"{resid_shares['kpss_rejects']:.0%} of stores: a slow drift, which the LSTM reads from the lookback.",
        f"- **Lookback in whole weeks, packed by week**: {weeks} weeks of daily deviations enter as {weeks} LSTM "
        f"steps of 7 days, so one step spans the weekly cycle and the lookback holds {weeks // 2} promo cycles.",
        "- **Known-future inputs for each target day**: weekday, Promo, Open, holidays (the cycles the ACF shows "
        "are driven by them), plus the base of that weekday and promo state.",
    ]
    return lines


def build_report(panel: Panel, out_dir: Path) -> Path:
    """Compute the findings, draw the figures and write ``out_dir/index.md``; return its path."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    series = build_series(panel)
    findings = find(series)
    log.info("diagnostics computed in %.1f s", time.perf_counter() - started)
    means = np.nanmean(np.exp(series.store_log), axis=1)
    order = np.argsort(np.where(np.isfinite(means), means, np.nanmedian(means)))
    store_rows = {"largest": int(order[-1]), "median": int(order[len(order) // 2]), "smallest": int(order[0])}
    figs = {
        "chain": figures.chain_series(series, out_dir),
        "stores": figures.store_series(series, store_rows, out_dir),
        "transforms": figures.transforms(series, out_dir),
        "acf": figures.correlograms({
            "ACF, chain sales (all days)": (findings.chain_acf, findings.n_chain),
            "PACF, chain sales (all days)": (findings.chain_pacf, findings.n_chain),
            "mean store ACF, log sales": (findings.store_log_acf, findings.n_chain_log),
            "mean store ACF, log minus weekday x promo mean": (findings.store_residual_acf, findings.n_chain_log),
        }, out_dir),
    }
    lines = [
        "# Time-series diagnostics",
        "Generated by `python -m training diagnose`; every number below is computed from the data.",
        "",
        *section_series(series, panel, store_rows, figs), "",
        *section_stationarity(findings, figs), "",
        *section_autocorr(findings, figs), "",
        *section_decision(findings), "",
    ]
    path = out_dir / REPORT_FILE
    path.write_text("\n".join(lines))
    log.info("diagnostics report %s written in %.1f s", path, time.perf_counter() - started)
    return path
