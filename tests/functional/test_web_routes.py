"""The web page's server side: the read-only store routes, the assembled page and sign-in page, and the
handler answering a genuine HTTP API event from the page's JWT-authorized API (tiny forest, 8 stores)."""

import base64
import gzip
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import LambdaContext, api_lambda_handler, event, serve_from
from forecast_api import model_state, page
from rossmann_core.errors import SettingsError
from rossmann_core.serving.settings import WEB_CLIENT_ID_ENV, WEB_SIGNIN_DOMAIN_ENV, signin_settings
from synthetic import SyntheticData

ORIGIN = "2015-01-31"
PAGE_BUDGET_BYTES = 300 * 1024
"""The page and everything it loads, compressed (issue 11)."""


@pytest.fixture()
def fresh_pages() -> Iterator[None]:
    """Assemble the pages anew for this test (they are cached per container)."""
    page.app_page.cache_clear()
    page.signin_page.cache_clear()
    yield
    page.app_page.cache_clear()
    page.signin_page.cache_clear()


def test_stores_lists_type_assortment_and_the_inferred_state(client: TestClient, synthetic: SyntheticData) -> None:
    stores = client.get("/stores").json()["stores"]
    servable = model_state.get_servable()
    assert [s["store"] for s in stores] == list(range(1, 9))
    calendars = dict(zip(servable.covariates.store_ids.tolist(), servable.covariates.calendar_of_store))
    for s in stores:
        assert s["calendar"] == calendars[s["store"]] and s["calendar"].startswith(s["state"])
        assert s["store_type"] in "abcd" and s["assortment"] in "abc"
    expected = (synthetic.directory / "store.csv").read_text().splitlines()[1:]
    assert [(s["store_type"], s["assortment"]) for s in stores] == [tuple(line.split(",")[1:3]) for line in expected]


def test_store_history_is_the_last_12_weeks_of_the_served_history(client: TestClient) -> None:
    body = client.get("/stores/3/history").json()
    history = model_state.get_servable().history
    row = int(np.flatnonzero(history.store_ids == 3)[0])
    assert body["store"] == 3 and body["origin"] == ORIGIN and len(body["date"]) == 84
    assert body["date"][-1] == ORIGIN and body["date"][0] == "2014-11-09"
    np.testing.assert_array_equal(np.array(body["sales"], dtype=float), history.sales[row, -84:])
    assert body["covariates"]["open"] == history.open[row, -84:].tolist()
    assert body["covariates"]["state_holiday"][body["date"].index("2014-12-25")] == "c"
    assert len(client.get("/stores/3/history?weeks=2").json()["date"]) == 14


def test_total_history_sums_the_stores(client: TestClient) -> None:
    one = [client.get(f"/stores/{s}/history").json() for s in (2, 5)]
    both = client.post("/history", json={"stores": [5, 2]}).json()
    assert both["stores"] == [2, 5] and both["date"] == one[0]["date"]
    assert both["sales"] == pytest.approx([a + b for a, b in zip(one[0]["sales"], one[1]["sales"])])
    assert both["open_stores"] == [a + b for a, b in zip(one[0]["covariates"]["open"], one[1]["covariates"]["open"])]
    everything = client.post("/history", json={"stores": "all", "weeks": 1}).json()
    assert everything["stores"] == list(range(1, 9)) and len(everything["date"]) == 7


@pytest.mark.parametrize(("method", "path", "body", "status", "reason"), [
    ("GET", "/stores/999/history", None, 404, "unknown store: 999"),
    ("GET", "/stores/x/history", None, 422, "valid integer"),
    ("GET", "/stores/1/history?weeks=0", None, 422, "greater than or equal to 1"),
    ("POST", "/history", {"stores": [1, 999, 998]}, 404, "unknown stores: 998, 999"),
    ("POST", "/history", {"stores": [1, 1]}, 422, "each store may appear once"),
    ("POST", "/history", {"stores": []}, 422, "at least 1"),
])
def test_store_routes_refuse_bad_input_with_a_reason(client: TestClient, method: str, path: str, body: dict | None,
                                                    status: int, reason: str) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status
    assert reason in json.dumps(response.json()["detail"])


def inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, flags=re.S)


def test_the_page_is_one_compressed_document_with_the_charting_library_inlined(client: TestClient) -> None:
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) <= PAGE_BUDGET_BYTES
    html = response.text
    assert "<script src=" not in html and 'rel="stylesheet"' not in html
    assert not re.search(r"(src|href)=\"https?:", html)
    vendored = (page.WEB_DIR / "vendor" / "uPlot.iife.min.js").read_text()
    scripts = inline_scripts(html)
    assert scripts[0] == vendored.replace("</script", "<\\/script") and "uPlot" in scripts[0]
    policy = response.headers["content-security-policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "connect-src 'self';" in policy and "'unsafe-eval'" not in policy


def test_without_the_set_up_the_page_says_what_is_missing(client: TestClient, fresh_pages: None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    web = tmp_path / "web"
    shutil.copytree(page.WEB_DIR, web, ignore=shutil.ignore_patterns("vendor"))
    monkeypatch.setattr(page, "WEB_DIR", web)
    response = client.get("/")
    assert response.status_code == 503
    assert re.fullmatch(r"page unavailable: .*/web/vendor/uPlot\S+ is missing: run scripts/setup\.sh .*",
                        response.json()["detail"])


def test_signin_page_carries_its_settings_and_allows_the_signin_domain(client: TestClient, fresh_pages: None,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    local = client.get("/signin")
    assert local.status_code == 200 and '<script id="signin-config" type="application/json">{}</script>' in local.text
    monkeypatch.setenv(WEB_SIGNIN_DOMAIN_ENV, "https://finance-login.auth.eu-central-1.amazoncognito.com/")
    monkeypatch.setenv(WEB_CLIENT_ID_ENV, "5example0client0id0abcdefg")
    aws = client.get("/signin")
    config = json.loads(re.search(r'type="application/json">(.*?)</script>', aws.text).group(1))
    assert config == {"domain": "https://finance-login.auth.eu-central-1.amazoncognito.com",
                      "client_id": "5example0client0id0abcdefg"}
    policy = aws.headers["content-security-policy"]
    assert "connect-src 'self' https://finance-login.auth.eu-central-1.amazoncognito.com;" in policy
    for script in inline_scripts(client.get("/").text):
        assert base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() in policy
    monkeypatch.setenv(WEB_SIGNIN_DOMAIN_ENV, "http://insecure.example")
    refused = client.get("/signin")
    assert refused.status_code == 503 and "WEB_SIGNIN_DOMAIN" in refused.json()["detail"]


def test_the_handler_answers_the_jwt_authorized_page_event(synthetic_version_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    serve_from(monkeypatch, synthetic_version_dir.parent)
    response = api_lambda_handler()(event("web_http_page.json"), LambdaContext("req-page"))
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert response["headers"]["content-encoding"] == "gzip"
    html = gzip.decompress(base64.b64decode(response["body"])).decode()
    assert html.startswith("<!doctype html>") and 'id="chart"' in html
    serve_from(monkeypatch, None)


@pytest.mark.parametrize(("environ", "problem"), [
    ({}, None),
    ({WEB_SIGNIN_DOMAIN_ENV: "https://login.example.com"}, "WEB_CLIENT_ID is not set"),
    ({WEB_SIGNIN_DOMAIN_ENV: "https://login.example.com/oauth2", WEB_CLIENT_ID_ENV: "c"}, "not an https:// base URL"),
    ({WEB_CLIENT_ID_ENV: "c"}, "not an https:// base URL"),
])
def test_signin_settings_are_both_or_neither(environ: dict[str, str], problem: str | None) -> None:
    if problem is None:
        assert signin_settings(environ) is None
    else:
        with pytest.raises(SettingsError, match=problem):
            signin_settings(environ)
