"""Hostile request bodies against the real app: no type coercion, no duplicate keys, JSON only."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_support import serve_from
from forecast_api.application import create_app

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(synthetic_version_dir: Path) -> Iterator[TestClient]:
    patch = pytest.MonkeyPatch()
    serve_from(patch, synthetic_version_dir.parent)
    with TestClient(create_app()) as test_client:
        yield test_client
    serve_from(patch, None)
    patch.undo()


COERCED = {
    "a store id as a string": ({"stores": ["1"]}, ["body", "stores"]),
    "a store id as a boolean": ({"stores": [True]}, ["body", "stores"]),
    "a store id as a float": ({"stores": [1.0]}, ["body", "stores"]),
    "the horizon as a string": ({"stores": [1], "horizon_days": "7"}, ["body", "horizon_days"]),
    "the horizon as a float": ({"stores": [1], "horizon_days": 7.0}, ["body", "horizon_days"]),
    "start as an epoch number": ({"stores": [1], "start": 1434758400}, ["body", "start"]),
    "start in another date form": ({"stores": [1], "start": "2015-2-1"}, ["body", "start"]),
    "open as a boolean": ({"stores": [1], "covariates": [{"store": 1, "date": "2015-02-02", "open": True}]},
                          ["body", "covariates", 0, "open"]),
    "promo as a float": ({"stores": [1], "covariates": [{"store": 1, "date": "2015-02-02", "promo": 1.0}]},
                         ["body", "covariates", 0, "promo"]),
    "an override's store as a string": ({"stores": [1], "covariates": [{"store": "1", "date": "2015-02-02"}]},
                                        ["body", "covariates", 0, "store"]),
    "the model as a number": ({"stores": [1], "model": 1}, ["body", "model"]),
}


@pytest.mark.parametrize(("body", "loc"), COERCED.values(), ids=COERCED.keys())
def test_values_of_the_wrong_json_type_are_refused_naming_the_field(client: TestClient, body: dict,
                                                                     loc: list) -> None:
    response = client.post("/forecasts", json=body)
    assert response.status_code == 422, response.text
    assert any(error["loc"][: len(loc)] == loc for error in response.json()["detail"]), response.json()


def test_the_strict_body_still_takes_every_well_typed_field(client: TestClient) -> None:
    body = {"stores": [1, 2], "start": "2015-02-01", "horizon_days": 7, "model": "rf",
            "covariates": [{"store": 1, "date": "2015-02-02", "open": 1, "promo": 0, "state_holiday": "a",
                            "school_holiday": None}]}
    response = client.post("/forecasts", json=body)
    assert response.status_code == 200, response.text
    assert client.post("/history", json={"stores": [1, 2], "weeks": 2}).status_code == 200
    assert client.post("/history", json={"stores": [1, 2], "weeks": "2"}).status_code == 422


@pytest.mark.parametrize("raw", [
    b'{"stores": [1], "stores": [2]}',
    b'{"stores": [1], "covariates": [{"store": 1, "date": "2015-02-02", "open": 1, "open": 0}]}',
])
def test_duplicate_json_keys_are_refused(client: TestClient, raw: bytes) -> None:
    response = client.post("/forecasts", content=raw, headers=JSON)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["type"] == "duplicate_key" and "duplicate key" in detail[0]["msg"]
    history = client.post("/history", content=b'{"stores": "all", "weeks": 2, "weeks": 3}', headers=JSON)
    assert history.status_code == 422


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_declared_as_json_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/forecasts", content=b'{"stores": [1]}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_json_with_a_charset_parameter_is_accepted(client: TestClient) -> None:
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    assert client.post("/forecasts", content=b'{"stores": [1], "horizon_days": 3}', headers=headers).status_code == 200


def test_the_openapi_schema_documents_415(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "415" in paths["/forecasts"]["post"]["responses"]
    assert "415" in paths["/history"]["post"]["responses"]


@pytest.mark.parametrize("depth", [17, 1_000, 100_000])
def test_json_nested_too_deeply_is_422_not_a_server_error(client: TestClient, depth: int) -> None:
    body = '{"stores": ' + "[" * depth + "1" + "]" * depth + "}"
    response = client.post("/forecasts", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting(client: TestClient) -> None:
    body = '{"stores": [1], "model": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'
    response = client.post("/forecasts", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "model"]


@pytest.mark.parametrize("path", ["/health", "/stores/1/forecast", "/stores", "/"])
def test_head_is_answered_on_get_routes_without_a_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"] and "x-request-id" in head.headers


def test_head_on_a_post_route_is_405(client: TestClient) -> None:
    assert client.head("/forecasts").status_code == 405
