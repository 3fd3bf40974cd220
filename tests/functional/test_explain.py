"""Why this number, through the real app on a tiny RF + boosting version (8 generated stores, origin 2015-01-31):
baseline x factors is the served forecast on every model and day, a week's parts add up, last year is compared,
the generated promotion lift is recovered, a what-if is explained, and the LSTM-free models only are explained."""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import serving
from conftest import TINY_BOOSTING, TINY_DIRECT, TINY_FOREST
from rossmann_core.data.panel import UNKNOWN
from rossmann_core.explain.breakdown import breakdown, weekday_level
from rossmann_core.explain.drivers import DRIVERS, FEATURE_DRIVERS, feature_driver_matrix, grouping_problems
from rossmann_core.features.history import origin_stats
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.forecast import corrected_log_sales, horizon_rows, tree_features
from rossmann_core.models.version import load_version
from rossmann_core.serving.explanations import COMPARISON_PARTS, explain_store
from rossmann_core.serving.servable import prepare
from synthetic import PROMO_LIFT
from training.config import BLEND_CHOICE_REPORT, BLEND_WEIGHTS
from training.data import Dataset
from training.train import train_model

TREE_MODELS = ("rf", "hgb", "direct", "ensemble")


@pytest.fixture(scope="module")
def version_dir(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(synthetic_dataset, tmp_path_factory.mktemp("registry"), None, TINY_FOREST,
                       models=("rf", "hgb", "direct"), boosting=TINY_BOOSTING, direct=TINY_DIRECT)


@pytest.fixture()
def api(version_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with serving(monkeypatch, version_dir.parent) as test_client:
        yield test_client


def explain(api: TestClient, store: int, **query: Any) -> dict[str, Any]:
    response = api.get(f"/stores/{store}/explain", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def product_of_factors(factors: dict[str, list[float | None]], day: int) -> float:
    return float(np.prod([factors[name][day] for name in DRIVERS]))


@pytest.mark.parametrize("model", TREE_MODELS)
def test_baseline_times_factors_is_the_served_forecast_on_every_day(api: TestClient, model: str) -> None:
    for store in (1, 3, 8):
        body = explain(api, store, model=model)
        served = api.get(f"/stores/{store}/forecast", params={"model": model}).json()["stores"][0]["sales"]
        days = body["days"]
        assert days["forecast"] == served, "the explanation's forecast is the served one, to the cent"
        assert len(days["date"]) == 42 and [d["name"] for d in body["drivers"]] == list(DRIVERS)
        for day, is_open in enumerate(days["open"]):
            if not is_open:
                assert days["forecast"][day] == 0 and days["baseline"][day] is None
                continue
            explained = days["baseline"][day] * product_of_factors(days["factors"], day)
            assert explained == pytest.approx(days["forecast"][day], abs=0.005 + 1e-6 * explained), "to the cent"


def test_the_exact_split_holds_before_rounding_on_every_model_and_row(version_dir: Path) -> None:
    # GIVEN every store-day of the horizon through the core, unrounded
    version = load_version(version_dir)
    history, origin = version.history, version.history.n_days - 43
    rows = np.arange(len(history.store_ids))
    stats = origin_stats(history, origin)
    features = tree_features(version, history, origin, 42, rows, stats)
    store = horizon_rows(history, origin, 42, rows)[0]
    for model in TREE_MODELS:
        # WHEN each model's forecast is split
        split = breakdown(version, model, features, weekday_level(features, stats, store))
        # THEN baseline + log factors is the served log forecast to 1e-9 on every row
        served = corrected_log_sales(version, model, history, origin, 42, rows, stats)
        np.testing.assert_allclose(split.forecast_log, served, rtol=0, atol=1e-9)
        assert split.driver_log.shape == (len(served), len(DRIVERS))


def test_a_week_is_open_days_times_baseline_times_factors_and_last_year_parts_multiply_to_the_change(
    api: TestClient,
) -> None:
    body = explain(api, 2)
    assert len(body["weeks"]) == 7, "42 days from a Sunday: one day, five weeks, six days"
    closed = [week for week in body["weeks"] if week["open_days"] == 0]
    assert all(week["baseline"] is None and week["vs_last_year_note"] == "closed on every day asked" for week in closed)
    for week in [week for week in [*body["weeks"], body["window"]] if week["open_days"] > 0]:
        total = week["open_days"] * week["baseline"] * np.prod(list(week["factors"].values()))
        assert total == pytest.approx(week["forecast"], abs=0.005 + 1e-6 * total), "to the cent"
        last_year = week["vs_last_year"]
        assert last_year is not None, week["vs_last_year_note"]
        assert list(last_year["parts"]) == list(COMPARISON_PARTS)
        change = np.prod([1 + p for p in last_year["parts"].values()]) - 1
        assert change == pytest.approx(last_year["change"], abs=1e-9)
        assert 1 + last_year["change"] == pytest.approx(week["forecast"] / last_year["last_year_sales"], rel=1e-5)
        assert last_year["sentence"].startswith(("+", "−")) and " vs the same " in last_year["sentence"]


@pytest.mark.parametrize(("model", "tolerance"), [("rf", 0.05), ("hgb", 0.05), ("direct", 0.10), ("ensemble", 0.05)])
def test_the_generated_promotion_lift_is_recovered(api: TestClient, model: str, tolerance: float) -> None:
    # the direct model learns the lift through both the promo flag and the store x weekday x promo level among its
    # inputs, which the split gives to the promotion and the level drivers: its promotion factor is looser
    # GIVEN generated data whose promo days sell PROMO_LIFT times more, all else equal
    promo_factors, other_factors = [], []
    for store in range(1, 9):
        body = explain(api, store, model=model)
        promo = api.get(f"/stores/{store}/forecast").json()["stores"][0]["covariates"]["promo"]
        factors = body["days"]["factors"]["promotion"]
        for day, is_open in enumerate(body["days"]["open"]):
            if is_open:
                (promo_factors if promo[day] == 1 else other_factors).append(factors[day])
    # THEN the promotion factor of promo days over that of the others is the generated lift, within the tolerance
    lift = np.exp(np.mean(np.log(promo_factors)) - np.mean(np.log(other_factors)))
    assert lift == pytest.approx(PROMO_LIFT, rel=tolerance)
    # the direct model also splits on the promo flag itself, whose contribution on a day without is below its mean
    assert np.exp(np.mean(np.abs(np.log(other_factors)))) < 1.06, "without promotion the factor stays near 1"


def test_a_what_if_is_explained_as_its_forecast(api: TestClient) -> None:
    # GIVEN the assumed promotion of store 4's first three weekdays, flipped
    week = {"start": "2015-02-02", "horizon_days": 7}
    assumed = api.get("/stores/4/forecast", params=week).json()["stores"][0]["covariates"]["promo"][:3]
    dates = ["2015-02-02", "2015-02-03", "2015-02-04"]
    body = {**week, "covariates": [{"store": 4, "date": d, "promo": 1 - p} for d, p in zip(dates, assumed)]}
    # WHEN the what-if is explained
    what_if = api.post("/stores/4/explain", json=body)
    assert what_if.status_code == 200, what_if.text
    # THEN it explains the what-if's forecast, and the promotion factor moves with the flip
    forecast = api.post("/forecasts", json={**body, "stores": [4]}).json()["stores"][0]["sales"]
    explained = what_if.json()["days"]
    assert explained["forecast"] == forecast
    plain = explain(api, 4, **week)["days"]
    for day, promo in enumerate(assumed):
        moved = explained["factors"]["promotion"][day] / plain["factors"]["promotion"][day]
        assert moved < 0.95 if promo else moved > 1.05


@pytest.mark.parametrize(("request_args", "status", "message"), [
    (("get", "/stores/999/explain", None), 404, "999"),
    (("get", "/stores/1/explain?model=lstm", None), 422, "'lstm' is not in model version"),
    (("get", "/stores/1/explain?horizon_days=43", None), 422, "less than or equal to 42"),
    (("post", "/stores/1/explain", {"covariates": [{"store": 2, "date": "2015-02-01", "promo": 1}]}), 422,
     "must be 1, the store explained"),
    (("post", "/stores/1/explain", {"horizon_days": "7"}), 422, "valid integer"),
])
def test_bad_requests_say_what_is_wrong(api: TestClient, request_args: tuple[str, str, Any], status: int,
                                        message: str) -> None:
    method, url, body = request_args
    response = api.get(url) if method == "get" else api.post(url, json=body)
    assert response.status_code == status and message in response.text, response.text


def test_every_feature_is_in_exactly_one_driver_and_a_new_feature_without_one_fails() -> None:
    assert grouping_problems() == []
    grouped = sorted(name for names in FEATURE_DRIVERS.values() for name in names)
    assert grouped == sorted(FEATURE_NAMES)
    assert feature_driver_matrix().sum(axis=1).tolist() == [1.0] * len(FEATURE_NAMES)
    with pytest.raises(ValueError, match="hist_new_feature: in no driver"):
        feature_driver_matrix((*FEATURE_NAMES, "hist_new_feature"))


def test_a_day_without_a_row_last_year_is_left_out_of_the_comparison(version_dir: Path) -> None:
    # GIVEN the version's history with store 1's row removed on an open day a year before a forecast day
    version = load_version(version_dir)
    history = version.history
    origin_then = history.n_days - 1 - 364
    day = origin_then + 1 + next(lead for lead in range(7, 14) if history.open[0, origin_then + 1 + lead] == 1)
    opened, sales = history.open.copy(), history.sales.copy()
    opened[0, day], sales[0, day] = UNKNOWN, np.nan
    gapped = prepare(replace(version, history=replace(history, open=opened, sales=sales)))
    # WHEN store 1 is explained from both histories
    whole, with_gap = explain_store(prepare(version), 1), explain_store(gapped, 1)
    # THEN every comparison stays finite, and the week of that day counts one open day fewer last year
    week = next(i for i, w in enumerate(whole.weeks)
                if w.first <= history.dates[day] + np.timedelta64(364, "D") < w.first + np.timedelta64(7, "D"))
    before, after = whole.weeks[week].last_year, with_gap.weeks[week].last_year
    assert before is not None and after is not None
    assert np.isfinite(after.log_parts).all() and after.open_days == before.open_days - 1
    assert after.actual == pytest.approx(before.actual - history.sales[0, day])


def test_the_manifest_records_why_the_default_is_the_ensemble(version_dir: Path) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    study = json.loads(BLEND_CHOICE_REPORT.read_text())
    choice = manifest["default_model_choice"]
    assert manifest["default_model"] == "ensemble"
    assert choice["weights"] == {name: w for name, w in BLEND_WEIGHTS.items() if w > 0}
    assert choice["judged_on"]["report"] == "training/blend_choice.json"
    assert choice["judged_on"]["cutoffs"] == study["cutoffs"] and len(study["cutoffs"]) == 8
    assert choice["served_weights_judged"]["weights"] == {name: w for name, w in BLEND_WEIGHTS.items()
                                                          if name in study["served"]["weights"]}
    assert choice["best_weights"]["mean_rmspe_without_worst_row"] == study["best"][0]["mean_rmspe_without_worst_row"]
    assert choice["decision"].startswith("docs/decisions/")
