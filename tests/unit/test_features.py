"""Feature engineering: names, no look-ahead, pandas reference values, truncated-state parity."""

import numpy as np
import pandas as pd

from rossmann_core.data.panel import Panel
from rossmann_core.features.history import origin_stats
from rossmann_core.features.tabular import BASELINE_FEATURE, FEATURE_NAMES, FeatureBuilder
from training.config import STATE_HISTORY_DAYS
from training.data import Dataset


def horizon_triples(panel: Panel, origin: int, horizon: int = 42) -> tuple[np.ndarray, ...]:
    days = np.arange(origin + 1, origin + horizon + 1)
    store, day = np.meshgrid(np.arange(len(panel.store_ids)), days, indexing="ij")
    return store.ravel(), day.ravel(), np.full(store.size, origin)


def test_feature_names_are_unique_and_hold_the_baseline() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES) == 46
    assert BASELINE_FEATURE in FEATURE_NAMES
    assert "customers" not in " ".join(FEATURE_NAMES).lower()


def test_changing_sales_after_the_origin_leaves_features_unchanged(synthetic_dataset: Dataset) -> None:
    panel = synthetic_dataset.panel
    origin = panel.n_days - 60
    rows = horizon_triples(panel, origin)
    before = FeatureBuilder(panel, synthetic_dataset.stores).build(*rows)
    scrambled = panel.sales.copy()
    scrambled[:, origin + 1 :] *= np.random.default_rng(0).uniform(0.1, 10, size=scrambled[:, origin + 1 :].shape)
    changed = Panel(**{**panel.__dict__, "sales": scrambled})
    after = FeatureBuilder(changed, synthetic_dataset.stores).build(*rows)
    np.testing.assert_array_equal(before, after)
    scrambled[:, origin] *= 2
    moved = FeatureBuilder(Panel(**{**panel.__dict__, "sales": scrambled}), synthetic_dataset.stores).build(*rows)
    assert not np.array_equal(before, moved), "the origin day itself is history and must count"


def panel_frame(panel: Panel) -> pd.DataFrame:
    """The panel as a long pandas frame (store row, date, sales, open, promo): the reference tests' input."""
    return pd.DataFrame({
        "store": np.repeat(np.arange(len(panel.store_ids)), panel.n_days),
        "date": np.tile(panel.dates, len(panel.store_ids)),
        "sales": panel.sales.ravel(),
        "open": panel.open.ravel(),
        "promo": panel.promo.ravel(),
    })


def test_history_means_match_a_pandas_reference(synthetic_dataset: Dataset) -> None:
    panel = synthetic_dataset.panel
    origin = panel.n_days - 43
    rows = horizon_triples(panel, origin)
    features = FeatureBuilder(panel, synthetic_dataset.stores).build(*rows)
    frame = panel_frame(panel)
    window = frame[(frame.date > panel.dates[origin] - pd.Timedelta(days=365)) & (frame.date <= panel.dates[origin])]
    window = window[(window.open == 1) & (window.sales > 0)]
    reference = window.assign(log=np.log(window.sales), dow=window.date.dt.day_of_week)
    dow_promo = reference.groupby(["store", "dow", "promo"]).log.mean()
    store_mean = reference.groupby("store").log.mean()
    dates = pd.to_datetime(panel.dates[rows[1]])
    promo = panel.promo[rows[0], rows[1]]
    open_rows = panel.open[rows[0], rows[1]] == 1
    keys = zip(rows[0][open_rows], dates.day_of_week[open_rows], promo[open_rows])
    expected = [dow_promo[key] for key in keys]
    column = FEATURE_NAMES.index("hist_dow_promo_mean_log")
    np.testing.assert_allclose(features[open_rows, column], expected, rtol=1e-6)
    column = FEATURE_NAMES.index("hist_mean_log_365")
    np.testing.assert_allclose(features[:, column], store_mean.to_numpy()[rows[0]], rtol=1e-6)


def test_state_window_gives_the_same_features_as_full_history(synthetic_dataset: Dataset) -> None:
    panel = synthetic_dataset.panel
    origin = panel.n_days - 43
    full = FeatureBuilder(panel, synthetic_dataset.stores).build(*horizon_triples(panel, origin))
    first = panel.dates[origin] - np.timedelta64(STATE_HISTORY_DAYS - 1, "D")
    state = panel.window(first, panel.dates[-1])
    state_origin = state.day_index(panel.dates[origin])
    truncated = FeatureBuilder(state, synthetic_dataset.stores).build(*horizon_triples(state, state_origin))
    np.testing.assert_array_equal(full, truncated)


def test_event_distances_and_promo_features(synthetic_dataset: Dataset) -> None:
    panel = synthetic_dataset.panel
    christmas = panel.day_index(np.datetime64("2014-12-27"))
    rows = (np.array([0]), np.array([christmas]), np.array([christmas - 10]))
    values = dict(zip(FEATURE_NAMES, FeatureBuilder(panel, synthetic_dataset.stores).build(*rows)[0]))
    assert values["days_since_state_holiday"] == 1
    assert values["days_since_closed"] == 1
    assert values["lead_days"] == 10
    assert values["days_until_christmas"] == 60


def test_year_over_year_growth_matches_a_pandas_reference(synthetic_dataset: Dataset) -> None:
    # GIVEN the generated panel and an origin 43 days before its end
    panel = synthetic_dataset.panel
    origin = panel.n_days - 43
    rows = horizon_triples(panel, origin)
    features = FeatureBuilder(panel, synthetic_dataset.stores).build(*rows)
    # WHEN the growth is recomputed with pandas: mean log sales of the last 91 days minus the same 91 days
    # 364 days earlier, open days with sales only
    frame = panel_frame(panel)
    frame = frame[(frame.open == 1) & (frame.sales > 0)].assign(log=lambda f: np.log(f.sales))
    end = pd.Timestamp(panel.dates[origin])

    def span_mean(last: pd.Timestamp) -> pd.Series:
        return frame[(frame.date > last - pd.Timedelta(days=91)) & (frame.date <= last)].groupby("store").log.mean()

    growth = (span_mean(end) - span_mean(end - pd.Timedelta(days=364))).to_numpy()
    # THEN the feature equals it, and last year's level grown by it is their sum
    column = FEATURE_NAMES.index("hist_yoy_growth_log_91")
    np.testing.assert_allclose(features[:, column], growth[rows[0]], rtol=1e-5, atol=1e-6)
    grown = features[:, FEATURE_NAMES.index("hist_last_year_grown_log")]
    last_year = features[:, FEATURE_NAMES.index("hist_last_year_log")]
    np.testing.assert_allclose(grown, last_year + features[:, column], rtol=1e-5, atol=1e-5)


def test_statistics_taken_from_all_stores_give_a_subset_its_own_features(synthetic_dataset: Dataset) -> None:
    # GIVEN two stores' panel and the origin statistics of every store (what the API computes once)
    panel, stores = synthetic_dataset.panel, synthetic_dataset.stores
    origin, rows = panel.n_days - 60, np.array([1, 4])
    subset, subset_stores = panel.take_stores(rows), stores.take(rows)
    triples = horizon_triples(subset, origin)
    # THEN their rows of those statistics give the features the two stores' own panel gives, to the bit
    own = FeatureBuilder(subset, subset_stores).build(*triples)
    taken = FeatureBuilder(subset, subset_stores, {origin: origin_stats(panel, origin).take(rows)}).build(*triples)
    np.testing.assert_array_equal(own, taken)
