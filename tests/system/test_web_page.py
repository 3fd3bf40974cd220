"""The finance team's page in a real browser: headless Debian Chromium driven by Playwright, against uvicorn
serving the tiny forest trained on generated data (8 stores, origin 2015-01-31).

Every number the page shows or downloads is checked against what the API itself answers for the same
request. Screenshots of each view at 1280 and 375 px go to reports/web/. Skipped only when chromium is
not installed (CI installs Debian's package in .ci/run).
"""

import base64
import csv
import hashlib
import io
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn

from api_support import serve_from
from forecast_api.application import create_app
from rossmann_core.serving.settings import WEB_CLIENT_ID_ENV, WEB_SIGNIN_DOMAIN_ENV

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI: apt-get install chromium)")

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "web"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REFUSAL = re.compile(r"console: Failed to load resource: the server responded with a status of (404|422) \(.+\)")
"""Chromium's own network log line for a 4xx answer (it logs one for every such fetch; the page logs nothing)."""
WIDTHS = (1280, 375)
COVARIATES = ("open", "promo", "state_holiday", "school_holiday")


@pytest.fixture(scope="module")
def base_url(synthetic_version_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn serving the app on 127.0.0.1 (a free port) from the tiny forest's registry."""
    patch = pytest.MonkeyPatch()
    serve_from(patch, synthetic_version_dir.parent, tmp_path_factory.mktemp("cache"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield url
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    serve_from(patch, None)
    patch.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Page:
    """A browser tab on the page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        self.tab = self.context.new_page()
        self.problems: list[str] = []
        self.refusals_expected = False
        self.tab.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.tab.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def drawn(self) -> int:
        return int(self.tab.get_attribute("#chart", "data-drawn"))

    def redraw(self, action: Any) -> None:
        """Run ``action`` and wait until the chart was drawn again."""
        before = self.drawn()
        action()
        self.tab.wait_for_selector(f'#chart:not([data-drawn="{before}"])', timeout=10_000)

    def open(self, path: str = "/") -> None:
        self.tab.goto(self.base_url + path)
        self.tab.wait_for_selector('#chart:not([data-drawn="0"])', timeout=15_000)

    def value(self, selector: str) -> float:
        return float(self.tab.get_attribute(selector, "data-value"))

    def text(self, selector: str) -> str:
        return self.tab.inner_text(selector).strip()

    def screenshots(self, name: str) -> None:
        """Screenshots at 1280 and 375 px wide under reports/web/ (the chart is redrawn at each width)."""
        REPORTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            self.tab.set_viewport_size({"width": width, "height": 1000})
            self.tab.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            self.tab.screenshot(path=str(REPORTS / f"{name}-{width}.png"), full_page=True)
        self.tab.set_viewport_size({"width": 1280, "height": 1000})

    def download_csv(self) -> list[dict[str, str]]:
        with self.tab.expect_download() as download:
            self.tab.click("#download")
        return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))


@pytest.fixture()
def page(browser: Any, base_url: str) -> Iterator[Page]:
    tab = Page(browser, base_url)
    yield tab
    tab.context.close()
    if tab.refusals_expected:
        refusals = [p for p in tab.problems if REFUSAL.fullmatch(p)]
        assert refusals, "the bad-input test expected the API to refuse requests"
        assert [p for p in tab.problems if p not in refusals] == []
    else:
        assert tab.problems == []


def api(base_url: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    if body is None:
        return httpx.get(base_url + path, timeout=30)
    return httpx.post(base_url + path, json=body, timeout=30)


def forecast(base_url: str, **body: Any) -> dict[str, Any]:
    response = api(base_url, "/forecasts", body)
    assert response.status_code == 200, response.text
    return response.json()


def total(document: dict[str, Any]) -> float:
    return round(sum(sum(s["sales"]) for s in document["stores"]), 2)


def test_default_store_chart_renders_with_the_apis_numbers(page: Page, base_url: str) -> None:
    page.open()
    expected = forecast(base_url, stores=[1], model="rf")
    assert page.text("#chart-title").startswith("Store 1 (type a, assortment a,")
    assert page.tab.locator("#chart canvas").count() >= 1
    assert page.value("#baseline-total") == pytest.approx(total(expected), abs=0.006)
    assert page.tab.locator("#days tbody tr").count() == 42
    info = page.text("#model-info")
    assert expected["model_version"] in info and "up to 2015-01-31" in info
    assert "90 % prediction interval" in page.text("#band-note")
    assert page.tab.get_attribute("#chart", "aria-label").startswith("Store 1")
    page.screenshots("store")


def test_changing_the_store_changes_the_chart(page: Page, base_url: str) -> None:
    page.open()
    first = page.tab.evaluate("() => document.querySelector('#chart canvas').toDataURL()")
    page.redraw(lambda: (page.tab.fill("#store", "3"), page.tab.press("#store", "Enter")))
    assert page.text("#chart-title").startswith("Store 3")
    assert page.value("#baseline-total") == pytest.approx(total(forecast(base_url, stores=[3], model="rf")), abs=0.006)
    assert page.tab.evaluate("() => document.querySelector('#chart canvas').toDataURL()") != first
    page.redraw(lambda: page.tab.select_option("#store-pick", "5"))
    assert page.text("#chart-title").startswith("Store 5") and page.tab.input_value("#store") == "5"


def promo_off_open_day(base_url: str, store: int) -> str:
    """A forecast day on which the store is open and its promo is assumed off."""
    s = forecast(base_url, stores=[store], model="rf")["stores"][0]
    covariates = s["covariates"]
    return next(d for i, d in enumerate(s["date"]) if covariates["open"][i] == 1 and covariates["promo"][i] == 0)


def test_a_whatif_promo_toggle_changes_the_total_by_what_the_api_returns(page: Page, base_url: str) -> None:
    page.open()
    day = promo_off_open_day(base_url, 1)
    toggle = page.tab.get_by_role("button", name=f"Promo on {day}")
    assert toggle.get_attribute("aria-pressed") == "false"
    page.redraw(toggle.click)
    baseline = forecast(base_url, stores=[1], model="rf")
    scenario = forecast(base_url, stores=[1], model="rf", covariates=[{"store": 1, "date": day, "promo": 1}])
    assert total(scenario) != total(baseline)
    assert page.value("#scenario-total") == pytest.approx(total(scenario), abs=0.006)
    assert page.value("#scenario-difference") == pytest.approx(total(scenario) - total(baseline), abs=0.011)
    percent = 100 * (total(scenario) - total(baseline)) / total(baseline)
    assert f"({percent:+.1f} %)" in page.text("#scenario-difference")
    toggle = page.tab.get_by_role("button", name=f"Promo on {day}")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert "given" in toggle.locator("xpath=..").get_attribute("class")
    assert page.text("#whatif-list").startswith(f"{day}: Promo on")
    page.screenshots("whatif")
    page.redraw(toggle.click)
    assert page.tab.locator("#scenario-total").count() == 0


def test_the_csv_holds_exactly_the_apis_numbers(page: Page, base_url: str) -> None:
    page.open()
    day = promo_off_open_day(base_url, 2)
    page.redraw(lambda: page.tab.select_option("#store-pick", "2"))
    page.redraw(page.tab.get_by_role("button", name=f"Promo on {day}").click)
    rows = page.download_csv()
    baseline = forecast(base_url, stores=[2], model="rf")
    scenario = forecast(base_url, stores=[2], model="rf", covariates=[{"store": 2, "date": day, "promo": 1}])
    history = api(base_url, "/stores/2/history").json()
    by_kind: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    assert [len(by_kind[k]) for k in ("actual", "forecast", "what-if")] == [84, 42, 42]
    assert {r["store"] for r in rows} == {"2"} and {r["model_version"] for r in rows} == {baseline["model_version"]}
    assert [r["date"] for r in by_kind["actual"]] == history["date"]
    assert [float(r["sales"]) if r["sales"] else None for r in by_kind["actual"]] == history["sales"]
    for kind, document in (("forecast", baseline), ("what-if", scenario)):
        s = document["stores"][0]
        shown = by_kind[kind]
        assert [r["date"] for r in shown] == s["date"] and {r["model"] for r in shown} == {"rf"}
        for name in ("sales", "lower", "upper"):
            assert [float(r[name]) for r in shown] == s[name], (kind, name)
        for name in COVARIATES:
            assert [r[name] for r in shown] == [str(v) for v in s["covariates"][name]], (kind, name)
            assert [r[f"{name}_assumed"] == "true" for r in shown] == s["assumed"][name], (kind, name)
    assert [r["promo_assumed"] for r in by_kind["what-if"] if r["date"] == day] == ["false"]


def test_the_total_of_several_stores_has_its_band_and_last_year_from_the_api(page: Page, base_url: str) -> None:
    page.open()
    page.redraw(lambda: page.tab.check("input[name=view][value=total]"))
    everything = forecast(base_url, stores="all", model="rf")
    assert page.text("#chart-title") == "Daily total of all 8 stores"
    assert page.value("#baseline-total") == pytest.approx(total(everything), abs=0.006)
    window = api(base_url, "/totals", {"group_by": "chain", "period": "window", "model": "rf"}).json()["totals"][0]
    assert page.value("#baseline-band") == pytest.approx(window["upper"] - window["lower"], abs=0.011)
    assert page.value("#last-year-total") == pytest.approx(window["last_year_sales"], abs=0.006)
    note = page.text("#band-note")
    assert "two earlier six-week windows" in note and "same days 52 weeks earlier" in note
    assert "90 % from" in page.text("#days thead") and "Last year" in page.text("#days thead")
    page.screenshots("total")
    page.redraw(lambda: (page.tab.fill("#store-set", "2, 7"), page.tab.click("#set-apply")))
    assert page.text("#chart-title") == "Daily total of 2 chosen stores"
    two = forecast(base_url, stores=[2, 7], model="rf")
    assert page.value("#baseline-total") == pytest.approx(total(two), abs=0.006)
    days = api(base_url, "/totals", {"group_by": "stores", "stores": [2, 7], "period": "day", "model": "rf"}).json()
    rows = page.download_csv()
    forecast_rows = [r for r in rows if r["kind"] == "forecast"]
    daily = [a + b for a, b in zip(two["stores"][0]["sales"], two["stores"][1]["sales"])]
    assert [float(r["sales"]) for r in forecast_rows] == pytest.approx(daily, abs=0.006)
    assert [float(r["lower"]) for r in forecast_rows] == [d["lower"] for d in days["totals"]]
    assert [float(r["upper"]) for r in forecast_rows] == [d["upper"] for d in days["totals"]]
    assert {r["stores"] for r in rows} == {"2 7"}
    history = api(base_url, "/history", {"stores": [2, 7]}).json()
    assert [float(r["sales"]) for r in rows if r["kind"] == "actual"] == history["sales"]
    page.redraw(lambda: (page.tab.fill("#store-set", "1"), page.tab.click("#set-apply")))
    assert page.text("#chart-title") == "Daily total of 1 chosen store"
    assert page.value("#baseline-total") == pytest.approx(total(forecast(base_url, stores=[1], model="rf")), abs=0.006)


def test_totals_by_state_and_store_type_are_reachable_by_keyboard_and_download(page: Page, base_url: str) -> None:
    page.open()
    states = api(base_url, "/totals", {"group_by": "state", "period": "window", "model": "rf"}).json()["totals"]
    # (waits by selector: a wait_for_function that has to poll evaluates a string, which the page's CSP refuses)
    page.tab.locator("#groups tbody tr").nth(len(states) - 1).wait_for(timeout=10_000)
    assert page.tab.locator("#groups tbody tr").count() == len(states)
    first = page.tab.locator("#groups tbody tr").first.inner_text().split("\t")
    assert first[0] == states[0]["group"] and first[1] == str(states[0]["stores"])
    pct = 100 * (states[0]["sales"] - states[0]["last_year_sales"]) / states[0]["last_year_sales"]
    assert first[-1] == f"{'+' if pct > 0 else ''}{pct:.1f} %"
    # WHEN the grouping is changed with the keyboard alone
    page.tab.focus("#group-by")
    page.tab.keyboard.press("ArrowDown")
    types = api(base_url, "/totals", {"group_by": "store_type", "period": "window", "model": "rf"}).json()["totals"]
    page.tab.wait_for_selector("#groups thead:has-text('Store type')", timeout=10_000)
    assert page.tab.locator("#groups tbody tr").count() == len(types)
    page.tab.focus("#groups-download")
    with page.tab.expect_download() as download:
        page.tab.keyboard.press("Enter")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [r["group"] for r in rows] == [t["group"] for t in types]
    assert [float(r["lower"]) for r in rows] == [t["lower"] for t in types]
    assert sum(float(r["sales"]) for r in rows) == pytest.approx(total(forecast(base_url, stores="all", model="rf")),
                                                                 abs=0.05)


def test_filters_narrow_the_stores(page: Page, base_url: str) -> None:
    page.open()
    stores = api(base_url, "/stores").json()["stores"]
    wanted = [s["store"] for s in stores if s["store_type"] == "b"]
    page.redraw(lambda: page.tab.select_option("#filter-type", "b"))
    options = page.tab.eval_on_selector_all("#store-pick option", "els => els.map(e => Number(e.value))")
    assert options == wanted and page.text("#chart-title").startswith(f"Store {wanted[0]}")


def test_bad_input_shows_the_apis_reason_next_to_the_control(page: Page, base_url: str) -> None:
    page.refusals_expected = True
    page.open()
    drawn, title = page.drawn(), page.text("#chart-title")
    page.tab.fill("#store", "9999")
    page.tab.press("#store", "Enter")
    page.tab.wait_for_selector("#store-error:not(:empty)")
    assert page.text("#store-error") == api(base_url, "/stores/9999/history").json()["detail"] == "unknown store: 9999"
    assert page.drawn() == drawn and page.text("#chart-title") == title
    page.screenshots("error")

    page.tab.fill("#store", "1")
    page.redraw(lambda: page.tab.press("#store", "Enter"))
    assert page.text("#store-error") == ""

    page.tab.fill("#whatif-date", "2015-04-30")
    page.tab.select_option("#whatif-promo", "1")
    page.tab.click("#whatif-apply")
    page.tab.wait_for_selector("#whatif-error:has-text('outside')")
    outside = forecast_error(base_url, {"stores": [1], "model": "rf",
                                        "covariates": [{"store": 1, "date": "2015-04-30", "promo": 1}]})
    assert page.text("#whatif-error") == outside and page.tab.locator("#whatif-list li").count() == 0
    assert page.tab.locator("#scenario-total").count() == 0

    page.tab.fill("#whatif-date", "")
    page.tab.click("#whatif-apply")
    page.tab.wait_for_selector("#whatif-error:has-text('valid date')")
    malformed = forecast_error(base_url, {"stores": [1], "model": "rf", "covariates": [{"store": 1, "date": "",
                                                                                        "promo": 1}]})
    assert page.text("#whatif-error") == malformed

    page.redraw(lambda: page.tab.check("input[name=view][value=total]"))
    page.tab.fill("#store-set", "1, x")
    page.tab.click("#set-apply")
    page.tab.wait_for_selector("#set-error:not(:empty)")
    assert "valid integer" in page.text("#set-error") and page.text("#chart-title") == "Daily total of all 8 stores"


def forecast_error(base_url: str, body: dict[str, Any]) -> str:
    """The page's rendering of a 422 from POST /forecasts: ``field.path: reason``."""
    response = api(base_url, "/forecasts", body)
    assert response.status_code == 422, response.text
    return "; ".join(".".join(str(p) for p in e["loc"][1:]) + ": " + e["msg"] for e in response.json()["detail"])


def test_why_this_number_shows_the_apis_drivers_and_sentence_and_follows_the_week_by_keyboard(
    page: Page, base_url: str,
) -> None:
    # GIVEN the page on store 1 and the API's explanation of the same forecast
    page.open()
    page.tab.wait_for_selector("#explain-bars li", timeout=10_000)
    answer = api(base_url, "/stores/1/explain?model=rf").json()
    compared = [w for w in answer["weeks"] if w["vs_last_year"]]
    # THEN the first week compared with last year is shown: the API's sentence and one bar per part over 0.5 %
    week = compared[0]
    assert page.tab.input_value("#explain-week") == week["first_day"]
    assert week["vs_last_year"]["sentence"] in page.text("#explain-sentence")
    shown = page.tab.eval_on_selector_all("#explain-bars li", "items => items.map(i => i.dataset.part)")
    parts = {name: share for name, share in week["vs_last_year"]["parts"].items() if abs(share) >= 0.005}
    assert sorted(shown) == sorted(parts) and shown[0] == max(parts, key=lambda name: abs(parts[name]))
    assert f"{week['open_days']} open days" in page.text("#explain-factors")
    # WHEN the next week is chosen with the keyboard
    page.tab.focus("#explain-week")
    page.tab.keyboard.press("ArrowDown")
    # THEN its own sentence is shown, and the bars are reachable by Tab
    following = next(w for w in answer["weeks"] if w["first_day"] > week["first_day"] and w["open_days"] > 0)
    page.tab.wait_for_selector(f"#explain-sentence:has-text('week of {following['first_day']}')", timeout=10_000)
    page.tab.keyboard.press("Tab")
    assert page.tab.evaluate("() => document.activeElement.id") == "explain-bars"
    page.screenshots("explain")


def test_keyboard_and_labels(page: Page, base_url: str) -> None:
    page.open()
    unlabelled = page.tab.eval_on_selector_all(
        "input, select", "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id)")
    assert unlabelled == []
    day = promo_off_open_day(base_url, 1)
    toggle = page.tab.get_by_role("button", name=f"Promo on {day}")
    toggle.focus()
    page.redraw(lambda: page.tab.keyboard.press("Enter"))
    focused = page.tab.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused == f"Promo on {day}" and page.tab.locator("#scenario-total").count() == 1
    page.tab.focus("#store-pick")
    page.redraw(lambda: page.tab.keyboard.press("ArrowDown"))
    assert page.text("#chart-title").startswith("Store 2")


def test_the_signin_page_runs_the_pkce_flow_and_loads_the_page_with_the_token(
    browser: Any, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = "https://rossmann-test.auth.eu-central-1.amazoncognito.com"
    monkeypatch.setenv(WEB_SIGNIN_DOMAIN_ENV, domain)
    monkeypatch.setenv(WEB_CLIENT_ID_ENV, "client123")
    page = Page(browser, base_url)
    asked: dict[str, Any] = {}
    bearer: dict[str, set[str | None]] = {}

    def authorize(route: Any) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        asked["authorize"] = {k: v[0] for k, v in query.items()}
        target = f"{query['redirect_uri'][0]}?code=the-code&state={query['state'][0]}"
        route.fulfill(status=302, headers={"Location": target})

    def token(route: Any) -> None:
        asked["token"] = {k: v[0] for k, v in parse_qs(route.request.post_data).items()}
        route.fulfill(status=200, headers={"Access-Control-Allow-Origin": "*"}, content_type="application/json",
                      body='{"access_token": "the-token", "expires_in": 3600, "token_type": "Bearer"}')

    def own(route: Any) -> None:
        path = urlparse(route.request.url).path
        bearer.setdefault(path, set()).add(route.request.headers.get("authorization"))
        route.continue_()

    page.context.route(f"{domain}/oauth2/authorize**", authorize)
    page.context.route(f"{domain}/oauth2/token", token)
    page.context.route(f"{base_url}/**", own)
    try:
        page.tab.goto(base_url + "/signin")
        page.tab.wait_for_selector('#chart:not([data-drawn="0"])', timeout=15_000)
        first = asked["authorize"]
        assert (first["response_type"], first["client_id"], first["code_challenge_method"]) == ("code", "client123",
                                                                                                "S256")
        assert first["redirect_uri"] == base_url + "/signin"
        sent = asked["token"]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(sent["code_verifier"].encode()).digest()).rstrip(b"=")
        assert challenge.decode() == first["code_challenge"]
        assert (sent["grant_type"], sent["code"], sent["client_id"]) == ("authorization_code", "the-code", "client123")
        assert page.tab.url == base_url + "/signin" and page.text("#chart-title").startswith("Store 1")
        assert bearer.pop("/signin") == {None}
        assert set(bearer) >= {"/", "/health", "/stores", "/stores/1/history", "/forecasts"}
        assert all(sent == {"Bearer the-token"} for sent in bearer.values()), bearer
    finally:
        page.context.close()
    assert page.problems == []
