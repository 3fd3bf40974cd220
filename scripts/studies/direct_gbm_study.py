"""Would a *direct* global gradient-boosting model earn a place in the blend? A screening study (issue 26, "different
model families"), on a rolling backtest's window versions (LightGBM and TensorFlow: the training dependencies).

The served trees forecast from an origin: every training row is a (store, day, origin) triple whose history
features use only days up to its origin. The direct model is the style that placed well on Kaggle: one model over
every open store-day up to the cutoff C, log sales as the target, the store as a categorical feature, the target
day's calendar and known-future covariates (promo, holidays, distances to closures and promo runs), the store's
metadata, and store statistics from the history up to C (the same :class:`OriginStats` at C for every row, so a
training row's statistics include its own year; the Kaggle style, which the test days cannot see).

For each window version the backtest wrote, the direct model is trained on days up to C and forecasts C+1..C+42 on
the rows the backtest scores; the served ensemble's forecast of the same rows comes from the version. Scored per
window: each alone and every log blend ``w * direct + (1 - w) * ensemble`` (w on a 0.1 grid), on the yardstick
(RMSPE without the window's worst store-day) and Kaggle's RMSPE; and leaving each window out, the best w on the
others scored on it. Printed and written as JSON; ``--cache`` keeps each window's direct forecast (row-level data:
outside the repository) so that a second run only rescores.

Variants: ``--holdout-days 42`` trains as the served models are (up to C-42, corrected on C-41..C by training's
rule, statistics at C when forecasting); ``--library sklearn`` fits scikit-learn's HistGradientBoosting instead (the
store's number as an ordinal), ``lightgbm-ordinal`` LightGBM with the store as an ordinal, ``lightgbm-cat8`` with
small categorical splits, ``keras-ee`` the entity-embedding network of Guo & Berkhahn instead of trees
(:func:`fitted_model`); ``--size small`` 500 rounds of 63 leaves (:data:`SIZES`);
``--events-as-served`` and ``--without-until`` (:func:`direct_forecast`); ``--customers`` adds the Customers history
up to the statistics' day (mean log customers by weekday x promo, log sales per customer, the 91-day trend of
customers); positional cutoffs run only those windows.

    .venv/bin/python scripts/studies/direct_gbm_study.py --artifacts <backtest artifacts> --cache /tmp/direct \\
        --out reports/direct_gbm.json
"""

import argparse
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.features.history import OriginStats, origin_stats
from rossmann_core.features.tabular import (
    CALENDAR_FEATURES,
    COVARIATE_FEATURES,
    EVENT_FEATURES,
    STORE_FEATURES,
    calendar_features,
    event_distances,
    store_features,
)
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from scripts.studies.entity_embedding import EMBEDDING_SIZES, EPOCHS, HIDDEN_UNITS, fit_embedding_network
from scripts.studies.interval_pool_study import test_panel, window_versions
from training import config
from training.calibration import correction_factor
from training.data import Dataset, load_dataset
from training.metrics import rmspe, rmspe_without_worst_row

DAY = np.timedelta64(1, "D")
STAT_FEATURES = (
    "mean_365", "mean_91", "std_365", "open_share_365", "dow_mean", "promo_mean", "dow_promo_mean", "promo_lift",
    "holiday_ratio", "yoy_growth_91",
)
DIRECT_FEATURES = ("store", *CALENDAR_FEATURES, *COVARIATE_FEATURES, *EVENT_FEATURES, *STORE_FEATURES, *STAT_FEATURES)
PARAMS = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 127, "min_data_in_leaf": 50,
    "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8, "num_threads": 2,
    "max_cat_to_onehot": 4, "cat_smooth": 10, "max_bin": 255, "seed": 0, "verbose": -1,
}
ROUNDS = 1500
UNTIL_FEATURES = ("days_until_state_holiday", "days_until_school_holiday", "days_until_closed", "days_until_promo")
"""Distances to the next event: in sample they see the real future, when forecasting only the known horizon."""
SIZES = {"large": (ROUNDS, {}), "small": (500, {"learning_rate": 0.1, "num_leaves": 63})}
"""Rounds and the parameters that differ from PARAMS, by ``--size``: the small model has a sixth of the nodes."""
SMALL_CATEGORICAL_SPLITS = {"max_cat_threshold": 8}
"""Each categorical split sends at most 8 stores one way: an ONNX tree ensemble tests a store against each listed
category in its own node (the default, 32, made 200 trees on 1,115 stores 13.6 MB)."""
LIBRARIES = ("lightgbm", "lightgbm-cat8", "lightgbm-ordinal", "sklearn", "keras-ee")
CUSTOMER_FEATURES = ("customers_dow_promo_mean_log", "spend_mean_log_365", "customers_trend_log_91_365")
WEIGHTS = np.round(np.arange(0, 1.01, 0.1), 2)
log = logging.getLogger("direct_gbm_study")


def direct_features(dataset: Dataset, events: dict[str, np.ndarray], stats: OriginStats, store: np.ndarray,
                    day: np.ndarray, customers: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(n, len(DIRECT_FEATURES) [+ len(CUSTOMER_FEATURES)]) float32 of store-days (``store``: panel rows, ``day``:
    panel day indices, (n,)); ``customers``: :func:`customer_stats` at the same origin as ``stats``."""
    panel = dataset.panel
    dates = panel.start + day.astype("timedelta64[D]")
    calendar = calendar_features(dates)
    dow, promo = calendar["day_of_week"], np.clip(panel.promo[store, day], 0, 1).astype(np.int64)
    columns = {
        "store": store, **calendar,
        "promo": promo, "state_holiday": panel.state_holiday[store, day],
        "school_holiday": panel.school_holiday[store, day],
        **{name: values[store, day] for name, values in events.items()},
        **store_features(dataset.stores, store, dates),
        "mean_365": stats.mean_365[store], "mean_91": stats.mean_91[store], "std_365": stats.std_365[store],
        "open_share_365": stats.open_share_365[store], "dow_mean": stats.dow_mean[store, dow],
        "promo_mean": stats.promo_mean[store, promo], "dow_promo_mean": stats.dow_promo_mean[store, dow, promo],
        "promo_lift": stats.promo_mean[store, 1] - stats.promo_mean[store, 0],
        "holiday_ratio": stats.holiday_ratio[store], "yoy_growth_91": stats.yoy_growth_91[store],
    }
    names = list(DIRECT_FEATURES)
    if customers is not None:
        columns |= {"customers_dow_promo_mean_log": customers["by_cell"][store, dow, promo],
                    "spend_mean_log_365": customers["spend"][store],
                    "customers_trend_log_91_365": customers["trend"][store]}
        names += CUSTOMER_FEATURES
    return np.column_stack([np.asarray(columns[n], dtype=np.float64) for n in names]).astype(np.float32)


def customers_panel(dataset: Dataset) -> np.ndarray:
    """float64 (n_stores, n_days) customers of the data's rows, NaN where no row."""
    history, panel = dataset.history, dataset.panel
    customers = np.full(panel.sales.shape, np.nan)
    day = ((history.date - panel.start) / DAY).astype(np.int64)
    customers[dataset.stores.index_of(history.store), day] = history.customers
    return customers


def customer_stats(dataset: Dataset, customers: np.ndarray, origin: int) -> dict[str, np.ndarray]:
    """Per store, from the 365 days up to ``origin`` (open days with sales and customers > 0): mean log customers
    by weekday x promo (n_stores, 7, 2), mean log sales per customer (n_stores,), and the last 91 days' mean log
    customers minus the year's (n_stores,); NaN where a store has no such day (the model takes NaN as missing)."""
    panel, first = dataset.panel, max(origin - 364, 0)
    sales, cust = panel.sales[:, first : origin + 1].astype(np.float64), customers[:, first : origin + 1]
    valid = (panel.open[:, first : origin + 1] == 1) & (sales > 0) & (cust > 0)
    log_c = np.where(valid, np.log(np.where(valid, cust, 1.0)), np.nan)
    spend = np.where(valid, np.log(np.where(valid, sales, 1.0)) - log_c, np.nan)
    dates = panel.start + np.arange(first, origin + 1).astype("timedelta64[D]")
    dow, promo = calendar_features(dates)["day_of_week"], np.clip(panel.promo[:, first : origin + 1], 0, 1)
    by_cell = np.full((len(sales), 7, 2), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for d in range(7):
            for p in (0, 1):
                by_cell[:, d, p] = np.nanmean(np.where((dow == d)[None, :] & (promo == p), log_c, np.nan), axis=1)
        year, recent = np.nanmean(log_c, axis=1), np.nanmean(log_c[:, -91:], axis=1)
        return {"by_cell": by_cell, "spend": np.nanmean(spend, axis=1), "trend": recent - year}


def served_rows(dataset: Dataset, version_dir: Path) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cutoff's day index and (store rows, day indices, actual sales, the served ensemble's forecast), (n,)
    each, on the window's scored rows as the backtest scores them."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    forecast = forecast_panel(version, *test_panel(dataset, version, cutoff), HORIZON_DAYS, config.ENSEMBLE)
    day = ((forecast.date - dataset.panel.start) / DAY).astype(np.int64)
    store = version.stores.index_of(forecast.store)
    sales = dataset.panel.sales[store, day]
    scored = np.isfinite(sales) & (sales > 0) & (dataset.panel.open[store, day] == 1)
    return (dataset.panel.day_index(cutoff), store[scored], day[scored], sales[scored].astype(np.float64),
            forecast.sales[scored].astype(np.float64))


def fitted_model(library: str, train_x: np.ndarray, train_y: np.ndarray, size: str = "large") -> Any:
    """LightGBM with the store as a categorical feature (``lightgbm``; ``lightgbm-cat8``: at most 8 stores on a
    split's one side, :data:`SMALL_CATEGORICAL_SPLITS`) or as an ordinal code (``lightgbm-ordinal``), or
    scikit-learn's HistGradientBoosting (at most 255 categories, so the store stays an ordinal code there, split like
    any number), or the entity-embedding network (``keras-ee``, :mod:`scripts.studies.entity_embedding`); each has
    ``predict``. ``size``: the rounds and parameters of :data:`SIZES` for the trees, the network's epochs."""
    rounds, sized = SIZES[size]
    params = PARAMS | sized
    names = list(DIRECT_FEATURES) + list(CUSTOMER_FEATURES)[: train_x.shape[1] - len(DIRECT_FEATURES)]
    if library == "keras-ee":
        return fit_embedding_network(train_x, train_y, names, EPOCHS[size])
    if library.startswith("lightgbm"):
        import lightgbm

        categorical = [] if library == "lightgbm-ordinal" else ["store"]
        params |= SMALL_CATEGORICAL_SPLITS if library == "lightgbm-cat8" else {}
        data = lightgbm.Dataset(train_x, train_y, feature_name=names, categorical_feature=categorical)
        return lightgbm.train(params, data, num_boost_round=rounds)
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        max_iter=rounds, learning_rate=params["learning_rate"], max_leaf_nodes=params["num_leaves"],
        min_samples_leaf=params["min_data_in_leaf"], l2_regularization=1.0, early_stopping=False, random_state=0)
    return model.fit(train_x, train_y)


def open_days_with_sales(panel: Panel, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """(store rows, day indices) of the open store-days with sales > 0 in days ``first..last``."""
    sales = panel.sales[:, first : last + 1]
    store, day = np.nonzero((panel.open[:, first : last + 1] == 1) & np.isfinite(sales) & (sales > 0))
    return store, day + first


def direct_forecast(dataset: Dataset, cutoff: int, store: np.ndarray, day: np.ndarray, library: str,
                    holdout_days: int, customers: np.ndarray | None = None, size: str = "large",
                    events_as_served: bool = False, without_until: bool = False) -> np.ndarray:
    """The direct model's forecast in euros of the store-days (n,) after day index ``cutoff``.

    ``holdout_days`` 0: trained on every open day with sales up to the cutoff, statistics at the cutoff, no
    correction. Above 0, as the served models are: trained up to ``cutoff - holdout_days`` with the statistics
    there, corrected by training's rule on the days after it (forecast with those statistics), and forecasting the
    test days with the statistics at the cutoff. ``customers``: :func:`customers_panel` to add the Customers
    history features (:func:`customer_stats`, at the same origins as the sales statistics). ``events_as_served``:
    the test days' event distances from the data up to the cutoff's horizon only, the calibration days' from the data
    up to the cutoff (what serving and training know; else from the whole data, which sees promotions, closures and
    holidays after them); ``without_until``: the :data:`UNTIL_FEATURES` set to 0 in training, calibration and
    forecasting.
    """
    panel, events = dataset.panel, event_distances(dataset.panel)
    trained_to = cutoff - holdout_days
    train_store, train_day = open_days_with_sales(panel, 0, trained_to)
    stats = origin_stats(panel, trained_to)
    cust = None if customers is None else customer_stats(dataset, customers, trained_to)
    train_x = without_columns(direct_features(dataset, events, stats, train_store, train_day, cust), without_until)
    started = time.perf_counter()
    model = fitted_model(library, train_x, np.log(panel.sales[train_store, train_day].astype(np.float64)), size)
    log.info("direct model on %d rows fitted in %.0f s", len(train_day), time.perf_counter() - started)
    factor = 1.0
    if holdout_days:
        calib_store, calib_day = open_days_with_sales(panel, trained_to + 1, cutoff)
        calib_events = event_distances(panel.window(panel.start, panel.dates[cutoff])) if events_as_served else events
        calib_x = direct_features(dataset, calib_events, stats, calib_store, calib_day, cust)
        calib = np.exp(model.predict(without_columns(calib_x, without_until)))
        factor = correction_factor(panel.sales[calib_store, calib_day].astype(np.float64), calib)
        stats = origin_stats(panel, cutoff)
        cust = None if customers is None else customer_stats(dataset, customers, cutoff)
    if events_as_served:
        events = event_distances(panel.window(panel.start, panel.dates[cutoff] + HORIZON_DAYS * DAY))
    test_x = without_columns(direct_features(dataset, events, stats, store, day, cust), without_until)
    return factor * np.exp(model.predict(test_x))


def without_columns(features: np.ndarray, without_until: bool) -> np.ndarray:
    """``features`` with the :data:`UNTIL_FEATURES` columns set to 0 when ``without_until``."""
    if without_until:
        features[:, [DIRECT_FEATURES.index(name) for name in UNTIL_FEATURES]] = 0
    return features


def scores(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    return {"rmspe": round(rmspe(actual, forecast), 4),
            "rmspe_without_worst_row": round(rmspe_without_worst_row(actual, forecast), 4)}


def summary(per_window: list[dict[str, float]], robust: np.ndarray, served: np.ndarray) -> dict[str, Any]:
    """A weighting's windows, the mean of the yardstick, the median RMSPE and the windows better than served."""
    return {"windows": per_window, "mean_rmspe_without_worst_row": round(float(robust.mean()), 4),
            "median_rmspe": round(float(np.median([s["rmspe"] for s in per_window])), 4),
            "windows_better_than_served": int((robust < served).sum())}


def study(windows: list[dict[str, Any]], library: str, holdout_days: int, size: str) -> dict[str, Any]:
    """Per window and blend weight of the direct model: scores; the summary and leave-one-window-out choice."""
    per_weight = {float(w): [scores(win["actual"], np.exp(w * np.log(win["direct"]) + (1 - w) * np.log(
        win["ensemble"]))) for win in windows] for w in WEIGHTS}
    robust = {w: np.array([s["rmspe_without_worst_row"] for s in per]) for w, per in per_weight.items()}
    left_out = []
    for k in range(len(windows)):
        best = min(robust, key=lambda w: float(np.delete(robust[w], k).mean()))
        left_out.append({"weight": best, "rmspe_without_worst_row": float(robust[best][k])})
    return {
        "cutoffs": [w["cutoff"] for w in windows], "library": library, "holdout_days": holdout_days,
        **({"network": {"embedding_sizes": EMBEDDING_SIZES, "hidden_units": HIDDEN_UNITS, "epochs": EPOCHS[size]}}
           if library == "keras-ee" else {"params": PARAMS | SIZES[size][1], "rounds": SIZES[size][0]}),
        "features": list(DIRECT_FEATURES),
        "per_weight_of_direct": {str(w): summary(per, robust[w], robust[0.0]) for w, per in per_weight.items()},
        "leave_one_window_out": {"windows": left_out,
                                 "mean_rmspe_without_worst_row": round(float(np.mean(
                                     [x["rmspe_without_worst_row"] for x in left_out])), 4)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cutoffs", nargs="*", help="window cutoffs to run (default: every window found)")
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--cache", help="folder for each window's direct forecast (outside the repo)")
    parser.add_argument("--library", choices=LIBRARIES, default="lightgbm")
    parser.add_argument("--holdout-days", type=int, default=0, help="train up to the cutoff less these days")
    parser.add_argument("--customers", action="store_true", help="add the Customers history features")
    parser.add_argument("--size", choices=tuple(SIZES), default="large", help="rounds and leaves (SIZES)")
    parser.add_argument("--events-as-served", action="store_true", help="test days' event distances as served")
    parser.add_argument("--without-until", action="store_true", help="no distances to the next event")
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dataset = load_dataset(config.data_dir(args.data_dir))
    customers = customers_panel(dataset) if args.customers else None
    windows = []
    for version_dir in window_versions(Path(args.artifacts)):
        if args.cutoffs and version_dir.parent.parent.name not in args.cutoffs:
            continue
        cutoff, store, day, actual, ensemble = served_rows(dataset, version_dir)
        small = "-small" if args.size == "small" else ""
        flags = {"-customers": args.customers, "-served-events": args.events_as_served,
                 "-without-until": args.without_until}
        variant = f"{args.library}{small}-{args.holdout_days}" + "".join(k for k, on in flags.items() if on)
        name = f"{variant}-{dataset.panel.dates[cutoff]}.npy"
        cached = Path(args.cache, name) if args.cache else None
        if cached is not None and cached.is_file():
            direct = np.load(cached)
        else:
            direct = direct_forecast(dataset, cutoff, store, day, args.library, args.holdout_days, customers,
                                     args.size, args.events_as_served, args.without_until)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.save(cached, direct)
        windows.append({"cutoff": str(dataset.panel.dates[cutoff]), "actual": actual, "ensemble": ensemble,
                        "direct": direct})
        log.info("window %s: direct %s, served %s", windows[-1]["cutoff"], scores(actual, direct),
                 scores(actual, ensemble))
    result = study(windows, args.library, args.holdout_days, args.size) | {
        "customers": args.customers, "events_as_served": args.events_as_served, "without_until": args.without_until}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
