"""POST /totals through the real app on the tiny forest (8 generated stores, origin 2015-01-31): totals are the
sums of the stores' forecasts, with bands and last year's actuals; what-if covariates move them; bad input is 422."""

from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest
from fastapi.testclient import TestClient

from forecast_api.schemas import GroupBy, PeriodKind
from rossmann_core.models.version import load_version
from rossmann_core.serving.servable import prepare
from rossmann_core.totals.groups import GROUP_KINDS, PERIOD_KINDS


def totals(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/totals", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def store_sales(client: TestClient, stores: list[int] | str = "all", **body: Any) -> dict[int, np.ndarray]:
    answer = client.post("/forecasts", json={"stores": stores, **body}).json()
    return {s["store"]: np.array(s["sales"]) for s in answer["stores"]}


def test_the_schema_offers_the_core_group_and_period_kinds() -> None:
    assert get_args(GroupBy) == GROUP_KINDS and get_args(PeriodKind) == PERIOD_KINDS


def test_chain_days_are_the_sums_of_every_store_with_a_band_and_last_year(client: TestClient) -> None:
    body = totals(client, group_by="chain", period="day")
    rows = body["totals"]
    assert [r["period"] for r in rows][:2] == ["2015-02-01", "2015-02-02"] and len(rows) == 42
    expected = np.sum(list(store_sales(client).values()), axis=0)
    np.testing.assert_allclose([r["sales"] for r in rows], expected, atol=0.01 * 8)
    open_days = [r for r in rows if r["sales"] > 0]
    assert all(r["lower"] < r["sales"] < r["upper"] for r in open_days)
    assert all(r["last_year_sales"] is not None and r["stores"] == 8 for r in rows)
    assert body["interval_level"] == 0.9 and "docs/results.md" in body["band"]


def test_weeks_of_states_add_up_to_the_chain_and_are_narrower_than_summed_day_bands(client: TestClient) -> None:
    states = totals(client, group_by="state", period="window")["totals"]
    chain = totals(client, group_by="chain", period="window")["totals"][0]
    assert sum(r["stores"] for r in states) == 8
    assert sum(r["sales"] for r in states) == pytest.approx(chain["sales"], abs=0.05)
    answer = client.post("/forecasts", json={"stores": "all"}).json()["stores"]
    summed_width = sum(np.sum(s["upper"]) - np.sum(s["lower"]) for s in answer)
    assert chain["upper"] - chain["lower"] < 0.5 * summed_width


def test_a_list_of_stores_and_a_what_if_promo(client: TestClient) -> None:
    week = totals(client, group_by="stores", stores=[2, 1], period="week", start="2015-02-02", horizon_days=7)
    (row,) = week["totals"]
    expected = sum(v.sum() for v in store_sales(client, [1, 2], start="2015-02-02", horizon_days=7).values())
    assert (row["group"], row["stores"], row["period"]) == ("stores", 2, "2015-W06")
    assert row["sales"] == pytest.approx(expected, abs=0.02)
    promo = [{"store": s, "date": f"2015-02-0{d}", "promo": 1} for s in (1, 2) for d in range(2, 7)]
    with_promo = totals(client, group_by="stores", stores=[1, 2], period="week", start="2015-02-02", horizon_days=7,
                        covariates=promo)["totals"][0]
    assert with_promo["sales"] > row["sales"]


@pytest.mark.parametrize(("body", "loc"), [
    ({"group_by": "district"}, ["body", "group_by"]),
    ({"group_by": "stores", "stores": []}, ["body", "stores"]),
    ({"group_by": "stores"}, ["body"]),
    ({"group_by": "chain", "stores": [1]}, ["body"]),
    ({"group_by": "stores", "stores": [1, 999]}, ["body", "stores"]),
    ({"group_by": "chain", "start": "2015-01-31"}, ["body", "start"]),
    ({"group_by": "chain", "start": "2015-03-10", "horizon_days": 7}, ["body", "start"]),
    ({"group_by": "store", "period": "day"}, ["body"]),
    ({"group_by": "chain", "period": "quarter"}, ["body", "period"]),
    ({"group_by": "chain", "model": "lstm"}, ["body", "model"]),
])
def test_bad_input_is_422_naming_the_field(client: TestClient, body: dict[str, Any], loc: list[str]) -> None:
    response = client.post("/totals", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][: len(loc)] == loc


def test_warming_a_servable_computes_what_totals_cut_from(synthetic_version_dir: Path) -> None:
    # GIVEN a fresh servable of the tiny version WHEN it is warmed (as SnapStart's init does)
    servable = prepare(load_version(synthetic_version_dir))
    servable.warm()
    # THEN the default model's every-store forecast is ready: a totals request computes nothing more
    assert set(servable._every_store) == {servable.default_model}
    assert servable.every_store(servable.default_model) is servable._every_store[servable.default_model]
