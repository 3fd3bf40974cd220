"""POST /forecasts for many stores: answers a page of PAGE_STORES stores at a time with next_page, through the
real app and the Lambda handler, and a full page stays within Lambda's 6 MB synchronous response."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_support import LambdaContext, api_lambda_handler, event, serve_from
from forecast_api import paging
from synthetic import SyntheticData


@pytest.fixture()
def small_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app with three stores per page, so the tiny model's 8 stores fill three pages."""
    monkeypatch.setattr(paging, "PAGE_STORES", 3)
    return client


def all_pages(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a request, following next_page."""
    pages = [client.post("/forecasts", json=body).json()]
    while pages[-1]["next_page"]:
        response = client.post("/forecasts", json={**body, "page": pages[-1]["next_page"]})
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return pages


def test_up_to_a_page_of_stores_is_one_answer_as_before(client: TestClient, synthetic: SyntheticData) -> None:
    body = client.post("/forecasts", json={"stores": "all", "horizon_days": 7}).json()
    assert (body["page"], body["pages"], body["next_page"]) == (1, 1, None)
    assert body["page_stores"] == paging.PAGE_STORES and body["stores_requested"] == synthetic.n_stores
    assert len(body["stores"]) == synthetic.n_stores


def test_many_stores_come_a_page_at_a_time_and_add_up_to_the_whole(client: TestClient,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the whole answer in one page
    whole = client.post("/forecasts", json={"stores": "all"}).json()
    # WHEN the page holds three stores
    monkeypatch.setattr(paging, "PAGE_STORES", 3)
    pages = all_pages(client, {"stores": "all"})
    # THEN three pages in ascending store order, each saying where it stands, together the same answer
    assert [(p["page"], p["pages"], p["next_page"], len(p["stores"])) for p in pages] == \
        [(1, 3, 2, 3), (2, 3, 3, 3), (3, 3, None, 2)]
    assert all(p["stores_requested"] == 8 and p["page_stores"] == 3 for p in pages)
    assert [s for p in pages for s in p["stores"]] == whole["stores"]


def test_covariates_apply_on_the_page_of_their_store(small_pages: TestClient) -> None:
    override = {"store": 7, "date": "2015-02-02", "open": 0}
    pages = all_pages(small_pages, {"stores": [2, 7, 1, 8, 3], "horizon_days": 3, "covariates": [override]})
    assert [[s["store"] for s in p["stores"]] for p in pages] == [[1, 2, 3], [7, 8]]
    seven = pages[1]["stores"][0]
    assert seven["covariates"]["open"][1] == 0 and seven["sales"][1] == 0 and seven["assumed"]["open"][1] is False


@pytest.mark.parametrize(("page", "message"), [(4, "page 4 does not exist: 8 stores fill 3 pages of 3"),
                                               (0, "greater than or equal to 1")])
def test_a_page_beyond_the_last_is_a_422_naming_the_field(small_pages: TestClient, page: int, message: str) -> None:
    response = small_pages.post("/forecasts", json={"stores": "all", "page": page})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "page"] and message in detail["msg"]


@pytest.fixture()
def served(synthetic_version_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    serve_from(monkeypatch, synthetic_version_dir.parent)
    yield
    serve_from(monkeypatch, None)


def test_a_full_page_fits_lambdas_response_limit_with_room(served: None) -> None:
    # GIVEN every store's 42-day answer through the Lambda handler (HTTP API event)
    request = event("api_http_forecasts.json")
    request["body"], request["isBase64Encoded"] = json.dumps({"stores": "all"}), False
    response = api_lambda_handler()(request, LambdaContext())
    assert response["statusCode"] == 200 and not response.get("isBase64Encoded")
    stores = json.loads(response["body"])["stores"]
    # THEN a store's answer, as escaped inside the invocation's JSON, is within the measured size the page
    # size is derived from, and a page of the largest answers leaves a third of the 6 MB free
    escaped = [len(json.dumps(json.dumps(s, separators=(",", ":")))) for s in stores]
    assert max(escaped) <= paging.STORE_ANSWER_BYTES
    envelope = len(json.dumps(response)) - sum(escaped)
    assert paging.PAGE_STORES * paging.STORE_ANSWER_BYTES + envelope < 0.7 * paging.LAMBDA_RESPONSE_LIMIT_BYTES
