"""The forecast API serving the production kind of version: RF + HGB + LSTM and their blend ``ensemble``.

The session's tiny ensemble (conftest.py ``ensemble_version_dir``, origin 2014-12-20, 8 stores) is
served through FastAPI's TestClient; its forecasts run through onnxruntime.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import serving
from conftest import ENSEMBLE_CUTOFF

ORIGIN = str(ENSEMBLE_CUTOFF)
MEMBERS = ("rf", "hgb", "direct", "lstm")
EUROS = ("sales", "lower", "upper")
CENT = 0.0101
"""Euros of the same day may differ by one rounding cent when another set of stores is forecast:
onnxruntime runs the LSTM on another batch (test_lstm_train.py: equal to rtol 1e-6 before rounding)."""


@pytest.fixture()
def client(ensemble_version_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with serving(monkeypatch, ensemble_version_dir.parent) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def manifest(ensemble_version_dir: Path) -> dict[str, Any]:
    return json.loads((ensemble_version_dir / "manifest.json").read_text())


def best_model(manifest: dict[str, Any]) -> str:
    """The documented default: the manifest's ``default_model`` (training writes the ensemble)."""
    assert manifest["default_model"] == "ensemble"
    return manifest["default_model"]


def forecast(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/forecasts", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def day_slice(store: dict[str, Any], days: slice) -> dict[str, Any]:
    """One store's forecast document cut to ``days`` (every per-day list, covariates and flags included)."""
    return {
        "store": store["store"],
        **{key: store[key][days] for key in ("date", "sales", "lower", "upper")},
        **{group: {name: values[days] for name, values in store[group].items()} for group in ("covariates", "assumed")},
    }


def assert_same_stores(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equal store documents, euros to the rounding cent (see CENT)."""
    assert [{k: v for k, v in s.items() if k not in EUROS} for s in actual] == [
        {k: v for k, v in s.items() if k not in EUROS} for s in expected]
    for got, want in zip(actual, expected):
        for key in EUROS:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=CENT, err_msg=f"store {got['store']} {key}")


def test_health_lists_the_blend_and_its_members_and_defaults_to_the_best(
    client: TestClient, ensemble_version_dir: Path, manifest: dict[str, Any]
) -> None:
    body = client.get("/health").json()
    assert (body["model_version"], body["origin"]) == (ensemble_version_dir.name, ORIGIN)
    assert sorted(body["models"]) == ["direct", "ensemble", "hgb", "lstm", "rf"]
    assert body["default_model"] == best_model(manifest)


def test_the_ensemble_for_all_stores_is_the_weighted_blend_of_its_members(
    client: TestClient, manifest: dict[str, Any]
) -> None:
    # WHEN all stores are forecast by the blend and by each of its members
    bodies = {name: forecast(client, stores="all", model=name) for name in ("ensemble", *MEMBERS)}
    ensemble = bodies["ensemble"]
    assert (ensemble["model"], ensemble["origin"], ensemble["start"], ensemble["horizon_days"]) == (
        "ensemble", ORIGIN, "2014-12-21", 42)
    assert [store["store"] for store in ensemble["stores"]] == list(range(1, 9))
    # THEN each open day is the weighted geometric mean of the members, times the blend's correction
    entry = manifest["models"]["ensemble"]
    for i, store in enumerate(ensemble["stores"]):
        sales, lower, upper = (np.array(store[key]) for key in ("sales", "lower", "upper"))
        opened = np.array(store["covariates"]["open"]) == 1
        assert 30 <= opened.sum() < 42 and np.all(sales[~opened] == 0) and np.all(sales[opened] > 1000)
        assert np.all((lower <= sales) & (sales <= upper))
        members = {name: np.array(bodies[name]["stores"][i]["sales"])[opened] for name in MEMBERS}
        assert all(bodies[name]["stores"][i]["covariates"] == store["covariates"] for name in MEMBERS)
        blend = np.exp(sum(weight * np.log(members[name]) for name, weight in entry["weights"].items()))
        np.testing.assert_allclose(sales[opened], blend * entry["correction"], rtol=1e-5)


def test_the_default_model_is_the_manifest_s_best(client: TestClient, manifest: dict[str, Any]) -> None:
    default = forecast(client, stores=[2, 7])
    assert default["model"] == best_model(manifest)
    assert default == forecast(client, stores=[2, 7], model=best_model(manifest))
    assert_same_stores(client.get("/stores/7/forecast").json()["stores"], default["stores"][1:])


@pytest.mark.parametrize("model", ["ensemble", "lstm"])
def test_one_store_is_forecast_as_in_a_request_for_all(client: TestClient, model: str) -> None:
    together = forecast(client, stores="all", model=model)["stores"][4]
    alone = client.get(f"/stores/5/forecast?model={model}")
    assert alone.status_code == 200, alone.text
    assert alone.json()["model"] == model
    assert_same_stores(alone.json()["stores"], [together])


@pytest.mark.parametrize("model", ["ensemble", "rf", "hgb", "direct", "lstm"])
def test_every_store_alone_is_its_entry_of_the_answer_for_all_to_the_bit(client: TestClient, model: str) -> None:
    # GIVEN every store forecast in one request (one ONNX thread per session: serving.settings.SERVING_ONNX_THREADS)
    together = forecast(client, stores="all", model=model)["stores"]
    # THEN each store asked alone gets exactly its entry: nothing depends on which other stores were asked
    for store in together:
        assert forecast(client, stores=[store["store"]], model=model)["stores"] == [store], store["store"]


@pytest.mark.parametrize("model", [None, "ensemble", "lstm"])
def test_a_window_starting_after_the_origin_is_the_matching_slice_of_the_full_forecast(
    client: TestClient, model: str | None
) -> None:
    # GIVEN the full 42-day forecast of every store from the origin 2014-12-20
    chosen = {} if model is None else {"model": model}
    full = forecast(client, stores="all", **chosen)
    # WHEN the request starts on 2014-12-25 (4 days later) and runs to the horizon's end
    tail = forecast(client, stores="all", start="2014-12-25", horizon_days=38, **chosen)
    # THEN every store's answer is the matching slice of the full forecast, for all stores and for one
    assert (tail["start"], tail["horizon_days"], tail["model"]) == ("2014-12-25", 38, full["model"])
    assert tail["stores"][0]["date"][0] == "2014-12-25"
    assert tail["stores"] == [day_slice(store, slice(4, 42)) for store in full["stores"]]
    query = "".join(f"&{key}={value}" for key, value in chosen.items())
    one = client.get(f"/stores/6/forecast?start=2014-12-25&horizon_days=38{query}")
    assert one.status_code == 200, one.text
    assert_same_stores(one.json()["stores"], [day_slice(full["stores"][5], slice(4, 42))])


def test_a_week_inside_the_horizon_is_the_matching_slice_of_the_full_forecast(client: TestClient) -> None:
    # the window's last days need the covariates after it (days_until_closed, days_until_state_holiday, ...)
    full = forecast(client, stores="all")
    week = forecast(client, stores="all", start="2014-12-25", horizon_days=7)
    assert_same_stores(week["stores"], [day_slice(store, slice(4, 11)) for store in full["stores"]])


def test_the_served_ensemble_is_explained_and_the_lstm_answers_422_with_the_reason(client: TestClient) -> None:
    explained = client.get("/stores/1/explain")
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["model"] == "ensemble"
    served = forecast(client, stores=[1])["stores"][0]["sales"]
    assert body["days"]["forecast"] == served
    lstm = client.get("/stores/1/explain", params={"model": "lstm"})
    assert lstm.status_code == 422
    (error,) = lstm.json()["detail"]
    assert error["loc"] == ["query", "model"] and "'lstm' is not explained" in error["msg"]
