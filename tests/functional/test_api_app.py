"""The forecast API through FastAPI's TestClient, on a tiny forest trained on generated data (8 stores)."""

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import serve_from

ORIGIN = "2015-01-31"
"""Last day of the generated data: forecasts start on Sunday 2015-02-01."""


def forecast(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/forecasts", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_names_the_loaded_version_and_returns_a_request_id(client: TestClient,
                                                                  synthetic_version_dir: Path) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model_version": synthetic_version_dir.name, "models": ["rf"],
                               "default_model": "rf", "origin": ORIGIN, "model_origin": ORIGIN,
                               "history_source": "model_state", "history_run_date": None, "history_note": None,
                               "stores_not_in_model": [], "stores_without_history": [], "data_feed": None}
    assert len(response.headers["x-request-id"]) == 36


def test_models_lists_registry_versions_with_metrics(client: TestClient, synthetic_version_dir: Path) -> None:
    client.get("/health")
    versions = client.get("/models").json()["versions"]
    assert [v["version"] for v in versions] == [synthetic_version_dir.name]
    assert versions[0]["latest"] and versions[0]["loaded"] and versions[0]["origin"] == ORIGIN
    assert 0 < versions[0]["models"][0]["metrics"]["calibration_rmspe"] < 0.2


def test_all_stores_get_42_days_with_intervals_and_closed_sundays(client: TestClient) -> None:
    body = forecast(client, stores="all")
    assert (body["origin"], body["start"], body["horizon_days"], body["model"]) == (ORIGIN, "2015-02-01", 42, "rf")
    assert [s["store"] for s in body["stores"]] == list(range(1, 9))
    for store in body["stores"]:
        dates = np.array(store["date"], dtype="datetime64[D]")
        np.testing.assert_array_equal(dates, np.datetime64("2015-02-01") + np.arange(42))
        sales, lower, upper = (np.array(store[k]) for k in ("sales", "lower", "upper"))
        sunday = (dates.astype(np.int64) + 3) % 7 == 6
        assert np.all(sales[sunday] == 0) and np.all(sales[~sunday] > 1000)
        assert np.all((lower <= sales) & (sales <= upper))
        assert store["covariates"]["open"] == (~sunday).astype(int).tolist()
        assert all(all(flags) for flags in store["assumed"].values())
    assert body["interval_level"] == 0.9


def test_one_store_is_forecast_as_in_a_request_for_all(client: TestClient) -> None:
    together = forecast(client, stores="all")["stores"][2]
    alone = client.get("/stores/3/forecast").json()["stores"]
    assert alone == [together]


def test_a_window_inside_the_horizon_matches_the_full_forecast(client: TestClient) -> None:
    full = forecast(client, stores=[4])["stores"][0]
    part = forecast(client, stores=[4], start="2015-02-10", horizon_days=7)["stores"][0]
    assert part["date"] == full["date"][9:16] and part["sales"] == full["sales"][9:16]


def test_given_covariates_win_are_flagged_and_move_the_forecast(client: TestClient) -> None:
    # GIVEN the assumed forecast of store 2 WHEN the caller adds a promo on a non-promo Monday and closes a Tuesday
    base = forecast(client, stores=[2])["stores"][0]
    monday = next(i for i, d in enumerate(base["date"]) if np.datetime64(d).astype(np.int64) % 7 == 4
                  and base["covariates"]["promo"][i] == 0)
    overrides = [{"store": 2, "date": base["date"][monday], "promo": 1},
                 {"store": 2, "date": base["date"][monday + 1], "open": 0}]
    given = forecast(client, stores=[2], covariates=overrides)["stores"][0]
    # THEN those values are used, marked as given, and the forecast follows them
    assert given["covariates"]["promo"][monday] == 1 and given["assumed"]["promo"][monday] is False
    assert given["sales"][monday] > 1.1 * base["sales"][monday]
    assert given["sales"][monday + 1] == 0 and given["assumed"]["open"][monday + 1] is False
    assert sum(not flag for flags in given["assumed"].values() for flag in flags) == 2


@pytest.mark.parametrize(("body", "loc", "reason"), [
    ({"stores": [1], "horizon_days": 0}, ["body", "horizon_days"], "greater than or equal to 1"),
    ({"stores": [1], "horizon_days": 43}, ["body", "horizon_days"], "less than or equal to 42"),
    ({"stores": [1], "horizon_days": "many"}, ["body", "horizon_days"], "valid integer"),
    ({"stores": [1], "start": "2015-02-30"}, ["body", "start"], "valid date"),
    ({"stores": "some"}, ["body", "stores"], ""),
    ({"stores": [1], "horizon": 7}, ["body", "horizon"], "Extra inputs"),
    ({"stores": [1, 1]}, ["body"], "each store may appear once"),
    ({"stores": [1], "start": ORIGIN}, ["body", "start"], "must be after 2015-01-31"),
    ({"stores": [1], "start": "2015-03-01", "horizon_days": 42}, ["body", "start"], "at most 42 days ahead"),
    ({"stores": [1], "model": "lstm"}, ["body", "model"], "not in model version"),
    ({"stores": [1], "covariates": [{"store": 1, "date": "2015-06-01", "open": 0}]},
     ["body", "covariates", 0, "date"], "outside the forecast days"),
    ({"stores": [1], "covariates": [{"store": 2, "date": "2015-02-02", "open": 0}]}, ["body"], "not among"),
    ({"stores": [1], "covariates": [{"store": 1, "date": "2015-02-02", "open": 2}]},
     ["body", "covariates", 0, "open"], ""),
])
def test_bad_input_is_422_naming_field_and_reason(client: TestClient, body: dict[str, Any], loc: list[Any],
                                                  reason: str) -> None:
    response = client.post("/forecasts", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"][: len(loc)] == loc and reason in e["msg"] for e in errors), errors


@pytest.mark.parametrize(("path", "loc"), [
    ("/stores/abc/forecast", ["path", "store_id"]),
    ("/stores/1/forecast?horizon_days=43", ["query", "horizon_days"]),
    ("/stores/1/forecast?start=tomorrow", ["query", "start"]),
    ("/stores/1/forecast?model=Random%20Forest", ["query", "model"]),
])
def test_bad_query_or_path_is_422(client: TestClient, path: str, loc: list[str]) -> None:
    response = client.get(path)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc


def test_unknown_stores_are_404(client: TestClient) -> None:
    assert client.get("/stores/9/forecast").status_code == 404
    response = client.post("/forecasts", json={"stores": [1, 9, 1115]})
    assert response.status_code == 404 and response.json() == {"detail": "unknown stores: 9, 1115"}


def test_malformed_json_is_422_and_a_body_over_1_mb_is_413(client: TestClient) -> None:
    response = client.post("/forecasts", content=b'{"stores": [1', headers={"content-type": "application/json"})
    assert response.status_code == 422
    big = json.dumps({"stores": [1], "pad": "x" * (1 << 20)})
    response = client.post("/forecasts", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


def test_missing_registry_setting_is_503_with_the_reason(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    serve_from(monkeypatch, None)
    response = client.get("/health")
    assert response.status_code == 503 and "MODEL_REGISTRY is not set" in response.json()["detail"]
    assert client.post("/forecasts", json={"stores": [1]}).status_code == 503
    assert client.get("/models").status_code == 503


def copy_registry(version_dir: Path, target: Path) -> Path:
    shutil.copytree(version_dir, target / version_dir.name)
    shutil.copy(version_dir.parent / "latest.json", target / "latest.json")
    return target / version_dir.name


def test_a_tampered_model_file_is_refused_with_a_log_line_and_503(
    client: TestClient, synthetic_version_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a registry whose model file differs from its manifest by one byte
    copy = copy_registry(synthetic_version_dir, tmp_path)
    original = (copy / "rf.onnx").read_bytes()
    (copy / "rf.onnx").write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    serve_from(monkeypatch, tmp_path)
    # WHEN a forecast is asked THEN the service refuses it and logs why
    with caplog.at_level(logging.ERROR):
        response = client.get("/stores/1/forecast")
    assert response.status_code == 503 and "integrity check" in response.json()["detail"]
    assert any(getattr(r, "event", None) == "integrity_error" and "does not match the manifest" in r.getMessage()
               for r in caplog.records)
    # AND once the file is repaired, the next request loads it
    (copy / "rf.onnx").write_bytes(original)
    assert client.get("/stores/1/forecast").status_code == 200


def test_a_model_built_for_other_features_is_503(
    client: TestClient, synthetic_version_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_registry(synthetic_version_dir, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["feature_names"] = [*manifest["feature_names"][:-1], "a_feature_this_code_lacks"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    serve_from(monkeypatch, tmp_path)
    response = client.get("/health")
    assert response.status_code == 503 and "a_feature_this_code_lacks" in response.json()["detail"]


def test_openapi_documents_the_endpoints_but_not_the_web_pages(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/health", "/models", "/forecasts", "/stores/{store_id}/forecast", "/stores",
                          "/stores/{store_id}/history", "/history", "/totals", "/stores/{store_id}/explain"}
    assert {"404", "413", "422", "503"} <= set(paths["/forecasts"]["post"]["responses"])
