"""LSTM inputs (numpy only): shapes, no look-ahead, serving state = training panel, scaler contract."""

from dataclasses import replace

import numpy as np
import pytest

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.errors import ManifestError
from rossmann_core.features.sequences import (
    CALENDAR_PARTS,
    FUTURE_CHANNELS,
    PAST_CHANNELS,
    STATIC_FEATURES,
    SequenceBuilder,
    SequenceInputs,
    calendar_codes,
)
from rossmann_core.features.tabular import calendar_features
from rossmann_core.models.lstm_runtime import ChannelRange
from rossmann_core.models.manifest import channel_range
from rossmann_core.models.manifest_fields import Fields
from synthetic import GAP_STORE
from training.config import STATE_HISTORY_DAYS
from training.data import Dataset
from training.lstm.scaling import fit_scaler
from training.lstm.windows import training_origins

WEEKS = 8


@pytest.fixture(scope="module")
def builder(synthetic_dataset: Dataset) -> SequenceBuilder:
    return SequenceBuilder(synthetic_dataset.panel, synthetic_dataset.stores, WEEKS)


def build_all(builder: SequenceBuilder, origin: int) -> SequenceInputs:
    n = len(builder.panel.store_ids)
    return builder.build(np.arange(n), np.full(n, origin))


def assert_same(a: SequenceInputs, b: SequenceInputs) -> None:
    for name in SequenceInputs.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_shapes_and_channel_names(builder: SequenceBuilder) -> None:
    inputs = build_all(builder, 500)
    n = len(builder.panel.store_ids)
    assert inputs.past.shape == (n, 7 * WEEKS, len(PAST_CHANNELS))
    assert inputs.future.shape == (n, HORIZON_DAYS, len(FUTURE_CHANNELS))
    assert inputs.static.shape == (n, len(STATIC_FEATURES))
    assert inputs.store.dtype == np.int32 and inputs.store[:, 0].tolist() == list(range(n))
    assert inputs.calendar.shape == (n, HORIZON_DAYS, len(CALENDAR_PARTS)) and inputs.calendar.dtype == np.int32
    np.testing.assert_array_equal(inputs.calendar[0], calendar_codes(
        calendar_features(builder.panel.dates[501:501 + HORIZON_DAYS])))
    for names in (PAST_CHANNELS, FUTURE_CHANNELS, STATIC_FEATURES):
        assert len(set(names)) == len(names)


def test_calendar_codes_count_each_part_from_zero_within_its_size() -> None:
    # Thu 2015-01-01; Mon 2014-12-29 (ISO week 1 of 2015); Thu 2015-12-31 (ISO week 53); Sun 2015-06-14
    dates = np.array(["2015-01-01", "2014-12-29", "2015-12-31", "2015-06-14"], dtype="datetime64[D]")
    codes = calendar_codes(calendar_features(dates))
    assert list(CALENDAR_PARTS) == ["weekday", "day_of_month", "month", "week_of_year"]
    assert codes.tolist() == [[3, 0, 0, 0], [0, 28, 11, 0], [3, 30, 11, 52], [6, 13, 5, 23]]
    days = np.arange(np.datetime64("2013-01-01"), np.datetime64("2016-01-01"))
    assert (calendar_codes(calendar_features(days)).max(axis=0) + 1).tolist() == list(CALENDAR_PARTS.values())


def test_deviations_are_from_the_year_weekday_promo_base(builder: SequenceBuilder) -> None:
    # GIVEN store row 2 at origin 500 (Sundays and holidays closed in the generated data)
    origin, store = 500, 2
    inputs = builder.build(np.array([store]), np.array([origin]))
    days = np.arange(origin - 7 * WEEKS + 1, origin + 1)
    sales = builder.panel.sales[store, days].astype(np.float64)
    valid = (builder.panel.open[store, days] == 1) & (sales > 0)
    # WHEN the base is computed directly: mean log sales of the 365 days to the origin, same weekday and promo
    year = np.arange(origin - 364, origin + 1)
    year_sales = builder.panel.sales[store, year].astype(np.float64)
    year_valid = (builder.panel.open[store, year] == 1) & (year_sales > 0)
    weekday, promo = (year + 1) % 7, builder.panel.promo[store, year]  # the panel starts on a Tuesday

    def base(day: int) -> float:
        same = year_valid & (weekday == (day + 1) % 7) & (promo == builder.panel.promo[store, day])
        return float(np.log(year_sales[same]).mean())

    # THEN past deviations and target bases match it, and closed days carry no sales value
    dev = inputs.past[0, :, PAST_CHANNELS.index("sales_dev")]
    expected = [np.log(sales[i]) - base(d) for i, d in enumerate(days) if valid[i]]
    np.testing.assert_allclose(dev[valid], expected, atol=1e-5)
    assert np.isnan(dev[~valid]).all()
    assert inputs.past[0, :, PAST_CHANNELS.index("sales_known")].tolist() == valid.astype(float).tolist()
    open_target = [d for d in range(origin + 1, origin + HORIZON_DAYS + 1) if builder.panel.open[store, d] == 1]
    np.testing.assert_allclose(inputs.base[0, np.array(open_target) - origin - 1], [base(d) for d in open_target])


def test_sales_after_the_origin_do_not_change_the_inputs(synthetic_dataset: Dataset, builder: SequenceBuilder) -> None:
    origin = 600
    hidden = SequenceBuilder(synthetic_dataset.panel.with_sales_hidden_after(
        synthetic_dataset.panel.dates[origin]), synthetic_dataset.stores, WEEKS)
    assert_same(build_all(builder, origin), build_all(hidden, origin))


def test_serving_state_builds_the_same_windows_as_the_training_panel(
    synthetic_dataset: Dataset, builder: SequenceBuilder
) -> None:
    # GIVEN the state serving keeps (the last STATE_HISTORY_DAYS up to the origin) + the horizon's covariates
    panel = synthetic_dataset.panel
    origin = panel.n_days - 1 - HORIZON_DAYS
    dates = panel.dates
    state = panel.window(dates[origin] - np.timedelta64(STATE_HISTORY_DAYS - 1, "D"), dates[origin])
    serving = attach_covariates(state, panel.window(dates[origin + 1], dates[origin + HORIZON_DAYS]))
    # THEN the windows are identical to those built from the whole panel
    from_state = build_all(SequenceBuilder(serving, synthetic_dataset.stores, WEEKS), STATE_HISTORY_DAYS - 1)
    assert_same(build_all(builder, origin), from_state)


def test_an_unknown_future_open_is_read_as_open(synthetic_dataset: Dataset) -> None:
    panel = synthetic_dataset.panel
    origin = panel.n_days - 1 - HORIZON_DAYS
    short = panel.window(panel.start, panel.dates[origin])  # no covariates after the origin at all
    inputs = build_all(SequenceBuilder(short, synthetic_dataset.stores, WEEKS), origin)
    assert (inputs.future[..., FUTURE_CHANNELS.index("open")] == 1).all()


def test_the_scaler_ignores_unknown_sales_and_maps_to_minus_one_one(builder: SequenceBuilder) -> None:
    # GIVEN windows including the refurbished store's gap (unknown days) and closed Sundays
    origins = np.arange(300, 600, 5)
    n = len(builder.panel.store_ids)
    inputs = builder.build(np.tile(np.arange(n), len(origins)), np.repeat(origins, n))
    assert np.isnan(inputs.past[inputs.store[:, 0] == GAP_STORE - 1, :, 0]).any()
    scaler = fit_scaler(inputs)
    # THEN the sales range comes from the valid days only and every fed value lies in [-1, 1]
    dev = inputs.past[..., 0]
    assert np.nanmin(dev) <= scaler.past.lo[0] < scaler.past.hi[0] <= np.nanmax(dev)
    feed = scaler.feed(inputs)
    assert feed["past"].shape == (len(inputs.base), WEEKS, 7 * len(PAST_CHANNELS))
    for name in ("past", "future", "static"):
        assert feed[name].dtype == np.float32 and np.abs(feed[name]).max() <= 1.0 and np.isfinite(feed[name]).all()
    # AND the target round-trips through the output scale
    target = np.clip(dev[:, :HORIZON_DAYS], scaler.past.lo[0], scaler.past.hi[0])
    np.testing.assert_allclose(scaler.unscale_target(scaler.scale_target(target)), target, atol=1e-5)


def test_scaler_manifest_round_trip_and_mismatch(builder: SequenceBuilder) -> None:
    scaler = fit_scaler(build_all(builder, 500))
    block = scaler.to_manifest()

    def read(name: str, expected: tuple[str, ...]) -> ChannelRange:
        return channel_range(Fields(block[name], f"models.lstm.scaler.{name}", "v1", "a test"), expected)

    np.testing.assert_array_equal(read("future", FUTURE_CHANNELS).hi, scaler.future.hi)
    np.testing.assert_array_equal(read("past", PAST_CHANNELS).lo, scaler.past.lo)
    block["static"]["channels"] = block["static"]["channels"][::-1]
    with pytest.raises(ManifestError, match=r"v1: models\.lstm\.scaler\.static\.channels differ from the LSTM inputs"):
        read("static", STATIC_FEATURES)


def test_constant_channels_scale_to_zero() -> None:
    channels = ChannelRange(("a", "b"), np.array([0.0, 2.0]), np.array([4.0, 2.0]))
    scaled = channels.scale(np.array([[0.0, 2.0], [5.0, 9.0]]))
    np.testing.assert_array_equal(scaled, [[-1.0, 0.0], [1.0, 0.0]])


def test_training_origins_stay_before_the_calibration_window_on_every_weekday() -> None:
    origins = training_origins(last_train_day=700, lookback_days=112, stride=5)
    assert origins.max() + HORIZON_DAYS == 700 and origins.min() >= 111
    assert set(origins % 7) == set(range(7))


def test_a_past_day_without_a_row_feeds_the_open_flag_it_most_likely_had(synthetic_dataset: Dataset) -> None:
    # GIVEN a store open on the day before an origin, and the same panel with that row missing
    panel, origin = synthetic_dataset.panel, 500
    store = int(np.flatnonzero(panel.open[:, origin - 1] == 1)[0])
    missing = {name: getattr(panel, name).copy() for name in ("sales", "open", "promo", "state_holiday",
                                                               "school_holiday")}
    missing["sales"][store, origin - 1] = np.nan
    for name in ("open", "promo", "state_holiday", "school_holiday"):
        missing[name][store, origin - 1] = -1
    gone = SequenceBuilder(replace(panel, **missing), synthetic_dataset.stores, WEEKS)
    full = SequenceBuilder(panel, synthetic_dataset.stores, WEEKS)
    # WHEN both build the store's window
    before, after = (b.build(np.array([store]), np.array([origin])) for b in (full, gone))
    # THEN the day's open flag is the one it had (the store's habit), and its sales are unknown
    open_channel, known_channel = PAST_CHANNELS.index("open"), PAST_CHANNELS.index("sales_known")
    assert before.past[0, -2, open_channel] == after.past[0, -2, open_channel] == 1
    assert before.past[0, -2, known_channel] == 1 and after.past[0, -2, known_channel] == 0
