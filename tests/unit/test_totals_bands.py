"""Bands of totals on generated panels: with a shared daily shock and store offsets, the pool's bands cover about
90 % of chain-day and store-window totals, and a pool that drops the cross-store correlation misses badly."""

import numpy as np
import pytest

from rossmann_core.totals.bands import period_sums, totals
from rossmann_core.totals.groups import Group, StoreGroups, groups_of, periods_of
from rossmann_core.totals.pool import WindowResiduals, decompose

STORES, DAYS = 120, 42
STATES = np.array(["BY", "NW", "HE"])[np.arange(STORES) % 3]
START = np.datetime64("2015-01-05")  # a Monday


def generated_window(rng: np.random.Generator, start: np.datetime64) -> WindowResiduals:
    """A window whose log residuals are a shared daily shock (sd 0.06), a store offset (sd 0.04) and cell noise
    (sd 0.15); forecasts of 5,000-9,000 euros."""
    residual = (rng.normal(0, 0.06, DAYS)[None, :] + rng.normal(0, 0.04, STORES)[:, None]
                + rng.normal(0, 0.15, (STORES, DAYS)))
    forecast = rng.uniform(5_000, 9_000, (STORES, DAYS))
    return WindowResiduals(residual, forecast, start + np.arange(DAYS), STATES)


def coverage(pool_windows: list[WindowResiduals], tests: list[WindowResiduals], group_kind: str,
             period_kind: str) -> float:
    """Share of the test windows' group-period totals inside their bands."""
    pool = decompose(pool_windows)
    stores = StoreGroups(np.arange(1, STORES + 1), np.zeros(STORES, np.int8), np.zeros(STORES, np.int8), STATES)
    groups = groups_of(group_kind, stores)
    inside = []
    for window in tests:
        periods = periods_of(period_kind, window.dates)
        result = totals(window.forecast, window.dates, np.arange(1, DAYS + 1), STATES, np.arange(STORES), STORES,
                        DAYS, groups, periods, pool)
        actual = window.forecast * np.exp(window.log_residual)
        truth = np.array([period_sums(actual[g.rows].sum(axis=0), periods) for g in groups])
        inside.append(((truth >= result.lower) & (truth <= result.upper)).ravel())
    return float(np.mean(np.concatenate(inside)))


def without_cross_store_correlation(window: WindowResiduals, rng: np.random.Generator) -> WindowResiduals:
    """The same residuals shuffled over all cells: each store-day keeps a residual, the shared parts are gone."""
    shuffled = rng.permutation(window.log_residual.ravel()).reshape(window.log_residual.shape)
    return WindowResiduals(shuffled, window.forecast, window.dates, window.states)


@pytest.fixture(scope="module")
def windows() -> tuple[list[WindowResiduals], list[WindowResiduals]]:
    rng = np.random.default_rng(7)
    pool = [generated_window(rng, START + 7 * k * 6) for k in range(6)]
    tests = [generated_window(rng, START + 7 * (36 + 6 * k)) for k in range(25)]
    return pool, tests


def test_chain_day_bands_cover_about_90_percent(windows: tuple[list, list]) -> None:
    pool, tests = windows
    assert 0.84 <= coverage(pool, tests, "chain", "day") <= 0.96


def test_store_window_bands_cover_about_90_percent(windows: tuple[list, list]) -> None:
    pool, tests = windows
    assert 0.84 <= coverage(pool, tests, "store", "window") <= 0.96


def test_a_pool_without_the_cross_store_correlation_misses_the_chain_days(windows: tuple[list, list]) -> None:
    pool, tests = windows
    rng = np.random.default_rng(1)
    assert coverage([without_cross_store_correlation(w, rng) for w in pool], tests, "chain", "day") < 0.6


def test_a_total_is_the_sum_of_its_store_days_and_bands_are_the_same_in_every_call() -> None:
    rng = np.random.default_rng(3)
    window = generated_window(rng, START)
    pool = decompose([window])
    groups, periods = [Group("stores", np.array([0, 5, 9]))], periods_of("week", window.dates)
    first = totals(window.forecast, window.dates, np.arange(1, DAYS + 1), STATES, np.arange(STORES), STORES, DAYS,
                   groups, periods, pool)
    again = totals(window.forecast, window.dates, np.arange(1, DAYS + 1), STATES, np.arange(STORES), STORES, DAYS,
                   groups, periods, pool)
    np.testing.assert_allclose(first.sales[0], window.forecast[[0, 5, 9]].reshape(3, 6, 7).sum(axis=(0, 2)))
    np.testing.assert_array_equal(first.lower, again.lower)
    assert np.all((first.lower < first.sales) & (first.sales < first.upper))
    assert first.open_store_days.tolist() == [[21] * 6]
