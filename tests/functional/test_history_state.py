"""The API forecasts from the newest history state the nightly batch published (issue 15): the real batch
handler writes it to a real S3-API server (moto) on 127.0.0.1, the real API app reads, verifies and
serves it, and keeps the last good state (or the model's) when a published one is bad."""

import csv
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api_support import batch_context, serving
from batch_lambda import handler as batch_lambda_handler
from conftest import HOLDOUT_CUTOFF, TinyForest
from forecast_api import model_state
from forecast_api.responses import forecast_document
from nightly_batch import handler as batch_handler
from nightly_batch.output import read_committed
from rossmann_core.errors import SettingsError
from rossmann_core.features.history import FEATURE_HISTORY_DAYS
from rossmann_core.models.version import load_version
from rossmann_core.serving import model_cache
from rossmann_core.serving.history_state import (
    HISTORY_STATE_FILE,
    StatePointer,
    StateRejectedError,
    load_state,
    published_state,
    read_pointer,
    read_state,
    state_bytes,
)
from rossmann_core.serving.servable import forecast_stores
from rossmann_core.serving.settings import ModelSettings, StateSettings, state_settings
from rossmann_core.storage import sha256_hex
from scripts.stack.local import hold_back
from synthetic import SyntheticData
from training.config import STATE_HISTORY_DAYS

DATA, FORECASTS = "state-test-data", "state-test-forecasts"
POINTER = "forecasts/state/latest.json"
MODEL_ORIGIN = str(HOLDOUT_CUTOFF)
HELD_BACK_ORIGIN, DATA_ORIGIN = "2015-01-24", "2015-01-31"



@pytest.fixture(scope="module")
def model_dir(tiny_forest: TinyForest) -> Path:
    """The tiny forest trained up to HOLDOUT_CUTOFF, alone in a local registry (its parent folder)."""
    return tiny_forest(HOLDOUT_CUTOFF)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Iterator[Any]:
    patch = pytest.MonkeyPatch()
    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "eu-central-1"}.items():
        patch.setenv(name, value)
    client = boto3.client("s3")
    for bucket in (DATA, FORECASTS):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    yield client
    patch.undo()


@dataclass
class Stack:
    """The API (TestClient) and the batch, on one data bucket and one forecast bucket."""

    api: TestClient
    s3: Any
    synthetic: SyntheticData
    model_dir: Path

    def batch(self, run_date: str) -> dict[str, Any]:
        result = batch_lambda_handler({"run_date": run_date}, batch_context())
        assert result["status"] == "ok", result
        return result

    def append_held_back_days(self) -> None:
        self.s3.upload_file(str(self.synthetic.directory / "train.csv"), DATA, "train.csv")

    def health(self) -> dict[str, Any]:
        response = self.api.get("/health")
        assert response.status_code == 200, response.text
        return response.json()

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=FORECASTS, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=FORECASTS, Key=key)["Body"].read()


@pytest.fixture()
def stack(s3: Any, model_dir: Path, synthetic: SyntheticData, monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> Iterator[Stack]:
    """GIVEN an empty forecast bucket, the data's last 7 days held back, the API on the tiny forest (a local
    folder registry) with FORECAST_BUCKET set and the pointer checked on every request."""
    for item in s3.list_objects_v2(Bucket=FORECASTS).get("Contents", []):
        s3.delete_object(Bucket=FORECASTS, Key=item["Key"])
    s3.put_object(Bucket=DATA, Key="train.csv", Body=hold_back((synthetic.directory / "train.csv").read_bytes(), 7))
    s3.upload_file(str(synthetic.directory / "store.csv"), DATA, "store.csv")
    for name, value in {"DATA_BUCKET": DATA, "FORECAST_BUCKET": FORECASTS, "STATE_REFRESH_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
    batch_handler.reset()
    with serving(monkeypatch, model_dir.parent, tmp_path / "cache") as client:
        yield Stack(client, s3, synthetic, model_dir)
    batch_handler.reset()


def cents(values: list[float]) -> list[int]:
    return [round(v * 100) for v in values]


def batch_rows(s3: Any, run_date: str) -> dict[int, dict[str, list]]:
    """The committed CSV of a run per store: dates and sales/lower/upper in cents."""
    _, body = read_committed(s3, FORECASTS, f"forecasts/run_date={run_date}")
    rows: dict[int, dict[str, list]] = {}
    for row in csv.DictReader(io.StringIO(body.decode())):
        store = rows.setdefault(int(row["store"]), {"date": [], "sales": [], "lower": [], "upper": []})
        store["date"].append(row["date"])
        for name in ("sales", "lower", "upper"):
            store[name].append(round(float(row[name]) * 100))
    return rows


def api_rows(answer: dict[str, Any]) -> dict[int, dict[str, list]]:
    return {s["store"]: {"date": s["date"], **{k: cents(s[k]) for k in ("sales", "lower", "upper")}}
            for s in answer["stores"]}


def test_before_any_batch_run_the_model_s_own_state_serves(stack: Stack) -> None:
    health = stack.health()
    assert (health["origin"], health["model_origin"]) == (MODEL_ORIGIN, MODEL_ORIGIN)
    assert (health["history_source"], health["history_run_date"], health["history_note"]) == ("model_state", None, None)


def test_each_run_moves_the_api_origin_and_its_answer_is_the_batch_s_to_the_cent(stack: Stack) -> None:
    # WHEN the batch runs on the data without its last 7 days
    first = stack.batch("2015-06-20")
    # THEN the API forecasts from that data's last day, without a restart, and says so
    health = stack.health()
    assert (health["origin"], health["model_origin"], first["origin"]) == (HELD_BACK_ORIGIN, MODEL_ORIGIN,
                                                                           HELD_BACK_ORIGIN)
    assert (health["history_source"], health["history_run_date"]) == ("nightly_batch", "2015-06-20")
    # WHEN the held-back days are appended and the next night runs
    stack.append_held_back_days()
    second = stack.batch("2015-06-21")
    answer = stack.api.post("/forecasts", json={"stores": "all"}).json()
    # THEN the answer starts the day after the newest data and equals the batch's CSV to the cent
    assert (answer["origin"], answer["start"], second["origin"]) == (DATA_ORIGIN, "2015-02-01", DATA_ORIGIN)
    assert (answer["history_source"], answer["history_run_date"]) == ("nightly_batch", "2015-06-21")
    assert api_rows(answer) == batch_rows(stack.s3, "2015-06-21")
    alone = stack.api.get("/stores/3/forecast", params={"start": "2015-03-01", "horizon_days": 14}).json()
    expected = batch_rows(stack.s3, "2015-06-21")[3]
    assert api_rows(alone)[3] == {k: v[28:42] for k, v in expected.items()}


def test_the_api_s_totals_are_the_batch_s_totals_csv_to_the_cent(stack: Stack) -> None:
    # GIVEN a committed night that the API follows
    stack.batch("2015-06-20")
    rows = list(csv.DictReader(io.StringIO(stack.get("forecasts/run_date=2015-06-20/totals.csv").decode())))
    # WHEN the API is asked for every level the night wrote
    for group_by in ("chain", "state", "store_type"):
        for period in ("day", "week", "window"):
            answer = stack.api.post("/totals", json={"group_by": group_by, "period": period}).json()
            written = [r for r in rows if (r["group_by"], r["period_kind"]) == (group_by, period)]
            # THEN each total, band and last year's figure is the batch's to the cent
            got = [(t["group"], t["period"], t["sales"], t["lower"], t["upper"], t["last_year_sales"])
                   for t in answer["totals"]]
            want = [(r["group"], r["period"], float(r["sales"]), float(r["lower"]), float(r["upper"]),
                     float(r["last_year_sales"]) if r["last_year_sales"] else None) for r in written]
            assert got == want, (group_by, period)


def test_the_state_is_the_batch_s_history_in_the_model_s_format_with_its_sha256_committed(
    stack: Stack, model_dir: Path
) -> None:
    run = stack.batch("2015-06-20")
    summary, _ = read_committed(stack.s3, FORECASTS, "forecasts/run_date=2015-06-20")
    data = stack.get(f"forecasts/run_date=2015-06-20/{HISTORY_STATE_FILE}")
    assert summary["history_state"]["sha256"] == sha256_hex(data) == json.loads(stack.get(POINTER))["sha256"]
    assert run["output"]["state_pointer"] == f"s3://{FORECASTS}/{POINTER}"
    history, stores = read_state(data, "state")
    own = np.load(model_dir / "store_state.npz", allow_pickle=False)
    published = np.load(io.BytesIO(data), allow_pickle=False)
    assert sorted(published.files) == sorted(own.files)
    assert all(published[key].dtype == own[key].dtype and published[key].shape == own[key].shape
               for key in own.files)
    days = (history.n_days, summary["history_state"]["days"])
    assert (str(history.dates[-1]), *days) == (HELD_BACK_ORIGIN, STATE_HISTORY_DAYS, STATE_HISTORY_DAYS)
    np.testing.assert_array_equal(stores.store_id, own["store_store_id"])


def test_a_failed_run_writes_no_state_and_moves_no_pointer(stack: Stack) -> None:
    stack.batch("2015-06-20")
    before = stack.get(POINTER)
    stack.s3.put_object(Bucket=DATA, Key="train.csv", Body=b"Store,Date\n1,2015-01-01\n")
    result = batch_lambda_handler({"run_date": "2015-06-22"}, batch_context())
    assert result["status"] == "failed"
    assert stack.get(POINTER) == before
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=FORECASTS)["Contents"]]
    assert not any("2015-06-22" in key for key in keys)


def test_stores_outside_the_model_and_stores_without_sales_are_handled_as_the_batch_does(
    stack: Stack, synthetic: SyntheticData
) -> None:
    # GIVEN newest data with a store 9 the model never saw, and no rows at all for store 2
    train = (synthetic.directory / "train.csv").read_text().splitlines()
    rows = [line for line in train[1:] if not line.startswith("2,")]
    rows += ["9" + line[1:] for line in train[1:] if line.startswith("1,")]
    stack.s3.put_object(Bucket=DATA, Key="train.csv", Body=("\n".join([train[0], *rows]) + "\n").encode())
    stores = (synthetic.directory / "store.csv").read_text().splitlines()
    stores.append(",".join(["9", *stores[1].split(",")[1:]]))
    stack.s3.put_object(Bucket=DATA, Key="store.csv", Body=("\n".join(stores) + "\n").encode())
    # WHEN the batch runs
    run = stack.batch("2015-06-20")
    # THEN the API says what the batch's summary says, and forecasts the same stores
    health = stack.health()
    assert health["stores_not_in_model"] == run["stores_not_in_model"] == [9]
    assert health["stores_without_history"] == run["stores_without_history"] == [2]
    answer = stack.api.post("/forecasts", json={"stores": "all"}).json()
    assert sorted(api_rows(answer)) == sorted(batch_rows(stack.s3, "2015-06-20")) == [1, 3, 4, 5, 6, 7, 8]
    missing = stack.api.get("/stores/2/forecast")
    assert missing.status_code == 404
    reason = f"store 2: no sales in the {FEATURE_HISTORY_DAYS} days of history up to {DATA_ORIGIN}"
    assert missing.json()["detail"] == reason
    assert stack.api.get("/stores/9/forecast").status_code == 404


def test_a_state_older_than_the_model_leaves_the_model_s_state_serving_and_says_so(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a batch state ending before the model's origin (published for an older model)
    stack.batch("2015-06-20")
    pointer = json.loads(stack.get(POINTER))
    history, stores = read_state(stack.get(pointer["key"]), "state")
    older = replace(history, start=history.start - 30)
    data = state_bytes(older, stores)
    stack.put(pointer["key"], data)
    stack.put(POINTER, json.dumps(published_state(
        np.datetime64("2015-06-20"), pointer["key"], data, older, "older-model", np.array([], dtype=np.int32)
    ).to_dict()).encode())
    model_state.reset()
    # WHEN a container starts THEN the model's own state serves and /health says why, once in the log
    with caplog.at_level(logging.WARNING):
        health = stack.health()
        assert stack.health() == health
    assert (health["origin"], health["history_source"]) == (MODEL_ORIGIN, "model_state")
    assert f"before the origin {MODEL_ORIGIN}" in health["history_note"]
    assert [r.levelno for r in caplog.records if getattr(r, "event", None) == "state_stale"] == [logging.WARNING]


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def flip_byte(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


def drop_store(data: bytes) -> bytes:
    history, stores = read_state(data, "state")
    keep = history.store_ids != 4
    return state_bytes(history.take_stores(keep), stores.take(keep))


def drop_days(data: bytes) -> bytes:
    history, stores = read_state(data, "state")
    return state_bytes(history.window(history.start + 10, history.dates[-1]), stores)


def float_store_types(data: bytes) -> bytes:
    history, stores = read_state(data, "state")
    return state_bytes(history, replace(stores, store_type=stores.store_type.astype(np.float64)))


def drop_array(data: bytes) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key != "panel_promo"}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def with_panel(data: bytes, **change: Any) -> bytes:
    """The state with panel arrays changed by ``change`` (name -> function of the array)."""
    history, stores = read_state(data, "state")
    return state_bytes(replace(history, **{name: f(getattr(history, name)) for name, f in change.items()}), stores)


def all_sales_unknown(data: bytes) -> bytes:
    return with_panel(data, sales=lambda sales: np.full_like(sales, np.nan))


def negative_sales(data: bytes) -> bytes:
    return with_panel(data, sales=lambda s: np.where(np.arange(s.shape[1]) == 3, -5.0, s).astype(s.dtype))


def holiday_code_out_of_range(data: bytes) -> bytes:
    return with_panel(data, state_holiday=lambda codes: np.where(codes == 0, 9, codes).astype(codes.dtype))


def store_type_out_of_range(data: bytes) -> bytes:
    history, stores = read_state(data, "state")
    return state_bytes(history, replace(stores, store_type=np.full_like(stores.store_type, 7)))


BAD_STATES = {
    # name: (new state bytes from the good ones, whether the pointer is rewritten to match them, log reason)
    "corrupt (one byte flipped)": (flip_byte, False, "corrupt, truncated or replaced"),
    "truncated, pointer unchanged": (truncate, False, "corrupt, truncated or replaced"),
    "truncated, pointer matching": (truncate, True, "is not a readable .npz"),
    "a store the model has is missing": (drop_store, True, "holds other stores than model version"),
    "fewer days than the model needs": (drop_days, True, f"holds {STATE_HISTORY_DAYS - 10} days; model version"),
    "an array is missing": (drop_array, True, "lacks the array panel_promo"),
    "store metadata of another dtype": (float_store_types, True, "store_store_type is float64, model version"),
    "every sale unknown": (all_sales_unknown, True, "only 0% of the stores have a sale in its last 14 days"),
    "negative sales": (negative_sales, True, "sales are negative or infinite"),
    "a holiday code out of range": (holiday_code_out_of_range, True, "state_holiday values outside -1..3"),
    "a store type code out of range": (store_type_out_of_range, True, "store_store_type codes outside 0..3"),
}


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_a_bad_state_keeps_the_last_good_one_serving_and_is_logged(
    stack: Stack, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a container serving the first run's state
    stack.batch("2015-06-20")
    good = stack.api.get("/stores/1/forecast").json()
    assert good["origin"] == HELD_BACK_ORIGIN
    # WHEN the next run's state object is damaged after it was committed
    stack.append_held_back_days()
    stack.batch("2015-06-21")
    damage, repoint, reason = BAD_STATES[case]
    pointer = json.loads(stack.get(POINTER))
    bad = damage(stack.get(pointer["key"]))
    stack.put(pointer["key"], bad)
    if repoint:
        stack.put(POINTER, json.dumps({**pointer, "sha256": sha256_hex(bad), "bytes": len(bad)}).encode())
    with caplog.at_level(logging.WARNING):
        answer = stack.api.get("/stores/1/forecast").json()
    # THEN the last good state keeps serving, whole, and the log says why at ERROR
    assert answer == good
    events = [r for r in caplog.records if getattr(r, "event", None) == "state_rejected"]
    assert events and events[0].levelno == logging.ERROR and reason in events[0].reason, caplog.text
    health = stack.health()
    assert (health["origin"], health["history_run_date"]) == (HELD_BACK_ORIGIN, "2015-06-20")
    assert reason in health["history_note"] and health["status"] == "degraded"
    assert stack.api.get("/stores").status_code == 200, "the page can still start"
    # AND a container starting now serves the model's own state, never the bad one
    model_state.reset()
    cold = stack.health()
    assert (cold["origin"], cold["history_source"]) == (MODEL_ORIGIN, "model_state") and reason in cold["history_note"]
    # AND a good rerun is picked up
    stack.batch("2015-06-21")
    assert stack.health()["origin"] == DATA_ORIGIN and stack.health()["status"] == "ok"


@pytest.mark.parametrize(
    ("pointer", "reason"),
    [
        (b"{not json", "is not JSON"),
        (b'{"run_date": "2015-06-20"}', "key is missing or invalid"),
        (json.dumps({"run_date": "2015-06-20", "key": "forecasts/run_date=2015-06-23/history_state.npz",
                     "sha256": "0" * 64, "bytes": 10, "origin": "2015-01-31", "model_version": "v",
                     "stores_not_in_model": []}).encode(), "names s3://state-test-forecasts/forecasts/run_date="
                                                            "2015-06-23/history_state.npz, which does not exist"),
    ],
    ids=["not JSON", "fields missing", "names a missing state"],
)
def test_a_bad_pointer_keeps_the_last_good_state_serving(
    stack: Stack, pointer: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    stack.batch("2015-06-20")
    assert stack.health()["origin"] == HELD_BACK_ORIGIN
    good = stack.get(POINTER)
    stack.put(POINTER, pointer)
    with caplog.at_level(logging.WARNING):
        health = stack.health()
    assert (health["origin"], health["history_run_date"]) == (HELD_BACK_ORIGIN, "2015-06-20")
    assert reason in health["history_note"] and health["status"] == "degraded"
    assert stack.api.get("/stores").status_code == 200, "the page can still start"
    assert any(getattr(r, "event", None) == "state_rejected" and reason in r.reason for r in caplog.records)
    # AND once the pointer is good again, the note goes
    stack.put(POINTER, good)
    assert stack.health()["history_note"] is None


def test_an_unreadable_bucket_keeps_the_model_s_state_and_is_retried(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a forecast bucket that does not exist (a wrong setting, or no permission)
    monkeypatch.setenv("FORECAST_BUCKET", "no-such-state-bucket")
    model_state.reset()
    with caplog.at_level(logging.WARNING):
        health = stack.health()
    assert (health["origin"], health["history_source"]) == (MODEL_ORIGIN, "model_state")
    assert "cannot read s3://no-such-state-bucket/forecasts/state/latest.json" in health["history_note"]
    assert any(getattr(r, "event", None) == "state_unavailable" and r.levelno == logging.WARNING
               for r in caplog.records)
    # WHEN the setting is fixed and a run has published THEN the next check serves it
    monkeypatch.setenv("FORECAST_BUCKET", FORECASTS)
    stack.batch("2015-06-20")
    assert stack.health()["origin"] == HELD_BACK_ORIGIN


def test_without_a_forecast_bucket_the_model_s_state_serves(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.batch("2015-06-20")
    monkeypatch.delenv("FORECAST_BUCKET")
    model_state.reset()
    health = stack.health()
    assert (health["origin"], health["history_source"], health["history_note"]) == (MODEL_ORIGIN, "model_state",
                                                                                     None)


class CountingClient:
    """A real boto3 S3 client that counts its GETs by key."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.gets: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.gets.append(params["Key"])
        return self._client.get_object(**params)


def test_a_warm_container_checks_the_pointer_at_most_every_refresh_interval(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a cache on a controlled clock, checking every 300 s, and a first run published
    now = [0.0]
    client = CountingClient(stack.s3)
    monkeypatch.setattr(model_cache, "s3_client", lambda: client)
    cache = model_cache.ServableCache(clock=lambda: now[0])
    models = ModelSettings(str(stack.model_dir.parent), None, tmp_path / "cache")
    states = StateSettings(FORECASTS, "forecasts", refresh_seconds=300)
    stack.batch("2015-06-20")
    first = cache.get(models, states)
    assert str(first.origin) == HELD_BACK_ORIGIN
    assert client.gets == [POINTER, f"forecasts/run_date=2015-06-20/{HISTORY_STATE_FILE}"]
    # WHEN a newer run is published THEN nothing is read until the interval has passed
    stack.append_held_back_days()
    stack.batch("2015-06-21")
    now[0] = 299.0
    assert cache.get(models, states) is first and len(client.gets) == 2
    # THEN one pointer GET, one state GET, and the newer state serves
    now[0] = 301.0
    second = cache.get(models, states)
    assert str(second.origin) == DATA_ORIGIN and second.state.run_date == np.datetime64("2015-06-21")
    assert client.gets[2:] == [POINTER, f"forecasts/run_date=2015-06-21/{HISTORY_STATE_FILE}"]
    # AND an unchanged pointer costs one small GET and changes nothing
    now[0] = 602.0
    assert cache.get(models, states) is second and client.gets[4:] == [POINTER]


def test_requests_during_switches_never_mix_two_states(stack: Stack) -> None:
    # GIVEN the answers for store 1 from two committed runs (A: held-back data, B: all data)
    stack.batch("2015-06-20")
    pointer_a = stack.get(POINTER)
    answer_a = stack.api.get("/stores/1/forecast").json()
    stack.append_held_back_days()
    stack.batch("2015-06-21")
    pointer_b = stack.get(POINTER)
    answer_b = stack.api.get("/stores/1/forecast").json()
    assert answer_a["origin"] != answer_b["origin"]
    # WHEN four threads ask while the pointer flips between the two runs (checked on every request)
    seen: list[dict[str, Any]] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            servable = model_state.get_servable()
            result = forecast_stores(servable, np.array([1]))
            seen.append(json.loads(json.dumps(forecast_document(servable, result))))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(6):
        stack.put(POINTER, pointer_a if i % 2 == 0 else pointer_b)
        stack.health()
    stop.set()
    for thread in threads:
        thread.join()
    # THEN every answer is wholly one run's
    assert seen and all(answer in (answer_a, answer_b) for answer in seen)
    assert {answer["origin"] for answer in seen} == {answer_a["origin"], answer_b["origin"]}


def test_state_settings_name_the_variable() -> None:
    assert state_settings({}) is None
    assert state_settings({"FORECAST_BUCKET": "b"}) == StateSettings("b", "forecasts", 300.0)
    assert state_settings({"FORECAST_BUCKET": "b", "FORECAST_PREFIX": "/x/", "STATE_REFRESH_SECONDS": "0"}) == \
        StateSettings("b", "x", 0.0)
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(SettingsError, match="STATE_REFRESH_SECONDS"):
            state_settings({"FORECAST_BUCKET": "b", "STATE_REFRESH_SECONDS": bad})


def test_load_state_verifies_what_the_pointer_names(stack: Stack, model_dir: Path) -> None:
    stack.batch("2015-06-20")
    pointer = read_pointer(stack.s3, FORECASTS, "forecasts")
    assert isinstance(pointer, StatePointer) and str(pointer.origin) == HELD_BACK_ORIGIN
    version = load_version(model_dir)
    state = load_state(stack.s3, FORECASTS, pointer, version)
    assert (state.source, str(state.origin), state.sha256) == ("nightly_batch", HELD_BACK_ORIGIN, pointer.sha256)
    with pytest.raises(StateRejectedError, match="the pointer says 2015-01-23"):
        load_state(stack.s3, FORECASTS, replace(pointer, origin=np.datetime64("2015-01-23")), version)


def test_a_late_region_makes_the_night_forecast_from_the_last_complete_day_and_health_says_so(stack: Stack) -> None:
    # GIVEN the whole data, whose newest day (2015-01-31, a Saturday) arrived for stores 1-3 only
    train = (stack.synthetic.directory / "train.csv").read_bytes()
    lines = train.split(b"\n")
    kept = [line for line in lines if b'"2015-01-31"' not in line or line.split(b",")[0] in (b"1", b"2", b"3")]
    stack.s3.put_object(Bucket=DATA, Key="train.csv", Body=b"\n".join(kept))
    # WHEN the night runs
    result = stack.batch("2015-06-21")
    # THEN it forecast from the day before, names the missing stores, and the API follows that origin and says so
    feed = result["data_feed"]
    assert (result["origin"], feed["newest_day"], feed["fell_back"]) == ("2015-01-30", DATA_ORIGIN, True)
    assert feed["stores_missing_newest_day_ids"] == [4, 5, 6, 7, 8][: feed["stores_missing_newest_day"]]
    health = stack.health()
    assert health["origin"] == "2015-01-30" and health["data_feed"] == feed
