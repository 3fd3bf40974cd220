"""The nightly batch handler against a real S3-API server (moto) on 127.0.0.1, with genuine events."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from api_support import batch_context, s3_stack
from batch_lambda import handler
from conftest import ENSEMBLE_CUTOFF, HOLDOUT_CUTOFF, TinyForest
from nightly_batch import handler as batch_handler
from nightly_batch.output import CSV_COLUMNS, CommitError, read_committed, read_committed_totals
from nightly_batch.run import history_for
from rossmann_core.data.daily_csv import HISTORY_COLUMNS, parse_daily_bytes
from rossmann_core.models.version import load_version
from scripts.rollback_state import RollbackError, rollback
from scripts.stack.local import hold_back
from synthetic import SyntheticData
from training.publish import publish_version

EVENTS = Path(__file__).resolve().parents[2] / "events"
BUCKETS = {"models": "batch-test-models", "data": "batch-test-data", "forecasts": "batch-test-forecasts"}



@pytest.fixture(scope="module")
def version_dir(tiny_forest: TinyForest) -> Path:
    """A tiny model trained up to HOLDOUT_CUTOFF: the data bucket holds three newer weeks."""
    return tiny_forest(HOLDOUT_CUTOFF)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str, version_dir: Path, synthetic: SyntheticData) -> Iterator[Any]:
    batch_handler.reset()
    with s3_stack(s3_endpoint, BUCKETS, version_dir, data_files=synthetic.files) as client:
        yield client
    batch_handler.reset()


@pytest.fixture()
def settings(s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_BUCKET", BUCKETS["data"])
    monkeypatch.setenv("FORECAST_BUCKET", BUCKETS["forecasts"])
    monkeypatch.setenv("MODEL_REGISTRY", f"s3://{BUCKETS['models']}/models")
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def partition_keys(s3: Any, run_date: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKETS["forecasts"], Prefix=f"forecasts/run_date={run_date}/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def forecast_bucket_objects(s3: Any) -> dict[str, tuple[str, Any]]:
    """Every object of the forecast bucket: key -> (ETag, LastModified)."""
    listing = s3.list_objects_v2(Bucket=BUCKETS["forecasts"])
    assert not listing["IsTruncated"]
    return {item["Key"]: (item["ETag"], item["LastModified"]) for item in listing.get("Contents", [])}


def test_scheduled_event_forecasts_every_store_from_the_newest_data(s3: Any, settings: None,
                                                                    synthetic: SyntheticData) -> None:
    # GIVEN data three weeks newer than the model WHEN EventBridge fires the nightly schedule
    result = handler(event("batch_scheduled.json"), batch_context())
    # THEN every store gets 42 days from the day after the data's last day, committed as one pair
    assert result["status"] == "ok", result
    summary, csv_bytes = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-20")
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == summary["rows"] == synthetic.n_stores * 42
    assert summary["history_source"] == "data"
    window = (summary["origin"], summary["first_date"], summary["last_date"])
    assert window == ("2015-01-31", "2015-02-01", "2015-03-14")
    assert {row["date"] for row in rows} == {str(np.datetime64("2015-02-01") + i) for i in range(42)}
    assert {row["model_version"] for row in rows} == {summary["model_version"]}
    assert all(0 <= float(r["lower"]) <= float(r["sales"]) <= float(r["upper"]) for r in rows)
    train_bytes = (synthetic.directory / "train.csv").read_bytes()
    assert summary["data"]["sha256"]["train.csv"] == hashlib.sha256(train_bytes).hexdigest()
    assert summary["run_id"] == "test-request"


def test_rerun_replaces_the_partition_whole(s3: Any, settings: None) -> None:
    first = handler(event("batch_run_date.json"), batch_context())
    second = handler(event("batch_run_date.json"), batch_context())
    assert first["status"] == second["status"] == "ok"
    assert partition_keys(s3, "2015-06-20") == [
        "forecasts/run_date=2015-06-20/forecasts.csv", "forecasts/run_date=2015-06-20/history_state.npz",
        "forecasts/run_date=2015-06-20/summary.json", "forecasts/run_date=2015-06-20/totals.csv",
    ]
    summary, csv_bytes = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-20")
    assert summary["created_at"] == second["created_at"]
    assert csv_bytes.count(b"\n") == summary["rows"] + 1


def test_the_night_commits_totals_that_add_up_to_its_forecasts(s3: Any, settings: None) -> None:
    # GIVEN a committed night
    assert handler(event("batch_run_date.json"), batch_context())["status"] == "ok"
    partition = "forecasts/run_date=2015-06-20"
    summary, csv_bytes = read_committed(s3, BUCKETS["forecasts"], partition)
    # WHEN its totals.csv is read through the summary (its sha256 checked)
    totals = list(csv.DictReader(io.StringIO(read_committed_totals(s3, BUCKETS["forecasts"], partition,
                                                                   summary).decode())))
    forecasts = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    # THEN the chain's days are the sums of the stores' cent-rounded forecasts, with a band around each open day
    by_day: dict[str, float] = {}
    for row in forecasts:
        by_day[row["date"]] = by_day.get(row["date"], 0.0) + float(row["sales"])
    chain_days = [r for r in totals if (r["group_by"], r["period_kind"]) == ("chain", "day")]
    assert [r["period"] for r in chain_days] == sorted(by_day)
    assert all(abs(float(r["sales"]) - by_day[r["period"]]) < 0.01 for r in chain_days)
    assert all(float(r["lower"]) < float(r["sales"]) < float(r["upper"]) for r in chain_days if float(r["sales"]))
    # AND states and store types per day, week and window, each adding up to the chain
    levels = {(r["group_by"], r["period_kind"]) for r in totals}
    assert levels == {(g, p) for g in ("chain", "state", "store_type") for p in ("day", "week", "window")}
    window = {g: sum(float(r["sales"]) for r in totals if (r["group_by"], r["period_kind"]) == (g, "window"))
              for g in ("chain", "state", "store_type")}
    assert window["state"] == pytest.approx(window["chain"], abs=0.05) == window["store_type"]
    assert summary["totals"]["file"] == "totals.csv"


def test_a_failed_run_leaves_the_previous_output_and_says_why(s3: Any, settings: None,
                                                              synthetic: SyntheticData) -> None:
    assert handler({"run_date": "2015-06-21"}, batch_context())["status"] == "ok"
    before = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-21")
    good = (synthetic.directory / "train.csv").read_bytes()
    lines = good.split(b"\n")
    fields = lines[3].split(b",")
    lines[3] = b",".join([*fields[:5], b"7", *fields[6:]])
    s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=b"\n".join(lines))
    try:
        result = handler({"run_date": "2015-06-21"}, batch_context())
    finally:
        s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=good)
    assert result["status"] == "failed"
    assert "train.csv line 4, column Open: '7' is not 0 or 1" in result["error"]
    assert read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-21") == before


@pytest.mark.parametrize(
    ("payload", "reason"),
    [({"run_date": "2015-13-01"}, "is not a YYYY-MM-DD date"), ({}, "expected an EventBridge scheduled event")],
)
def test_bad_events_fail_with_a_reason_and_write_nothing(s3: Any, settings: None, payload: dict, reason: str) -> None:
    before = forecast_bucket_objects(s3)
    result = handler(payload, batch_context())
    assert result["status"] == "failed" and reason in result["error"]
    assert forecast_bucket_objects(s3) == before, "a run that fails writes no object anywhere in the bucket"


def test_missing_setting_fails_inside_the_handler(s3: Any, settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORECAST_BUCKET")
    result = handler({"run_date": "2015-06-22"}, batch_context())
    assert result["status"] == "failed" and "FORECAST_BUCKET is not set" in result["error"]


def test_data_older_than_the_model_falls_back_to_the_model_state(version_dir: Path, synthetic: SyntheticData) -> None:
    version = load_version(version_dir)
    text = (synthetic.directory / "train.csv").read_text().splitlines()
    older = [text[0], *(line for line in text[1:] if line.split(",")[2].strip('"') < "2015-01-05")]
    rows = parse_daily_bytes("\n".join(older).encode(), "x", HISTORY_COLUMNS)
    history = history_for(version, rows, (synthetic.directory / "store.csv").read_bytes(), "x")
    assert history.source == "model_state"
    assert history.panel.dates[-1] == HOLDOUT_CUTOFF


def test_missing_data_file_fails_naming_it(s3: Any, settings: None, synthetic: SyntheticData) -> None:
    s3.delete_object(Bucket=BUCKETS["data"], Key="store.csv")
    try:
        result = handler({"run_date": "2015-06-23"}, batch_context())
    finally:
        s3.upload_file(str(synthetic.directory / "store.csv"), BUCKETS["data"], "store.csv")
    assert result["status"] == "failed"
    assert f"s3://{BUCKETS['data']}/store.csv does not exist" in result["error"]
    assert partition_keys(s3, "2015-06-23") == []


def test_stores_follow_the_model_with_the_newest_metadata(version_dir: Path, synthetic: SyntheticData) -> None:
    version = load_version(version_dir)
    store_lines = (synthetic.directory / "store.csv").read_text().splitlines()
    header, store_two = store_lines[0], store_lines[2].split(",")
    store_two[3] = "12345"
    new_store = ",".join(["9", *store_lines[1].split(",")[1:]])
    stores = "\n".join([header, store_lines[1], ",".join(store_two), *store_lines[3:], new_store]) + "\n"
    train = (synthetic.directory / "train.csv").read_text()
    store_one_rows = [line for line in train.splitlines()[1:] if line.startswith("1,")]
    train += "\n".join("9" + line[1:] for line in store_one_rows) + "\n"
    history = history_for(version, parse_daily_bytes(train.encode(), "x", HISTORY_COLUMNS), stores.encode(), "x")
    assert history.not_in_model.tolist() == [9]
    np.testing.assert_array_equal(history.panel.store_ids, version.stores.store_id)
    assert history.stores.competition_distance[1] == 12345
    np.testing.assert_array_equal(history.stores.store_type, version.stores.store_type)


@pytest.fixture(scope="module")
def ensemble_registry(s3: Any, ensemble_version_dir: Path) -> str:
    """The tiny ensemble published (``training.publish``) under its own prefix: its MODEL_REGISTRY URI."""
    publish_version(ensemble_version_dir.parent.parent, BUCKETS["models"], "ensemble-models", client=s3)
    return f"s3://{BUCKETS['models']}/ensemble-models"


def best_model(version_dir: Path) -> str:
    """The manifest's ``default_model`` (training writes the ensemble when the version has one)."""
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["default_model"] == "ensemble"
    return manifest["default_model"]


@pytest.mark.system  # trains the tiny ensemble (LSTM): the slow tier
def test_the_ensemble_version_forecasts_every_store_with_its_best_model(
    s3: Any, settings: None, ensemble_registry: str, ensemble_version_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a registry whose latest version holds RF, LSTM and their blend, trained up to 2014-12-20
    monkeypatch.setenv("MODEL_REGISTRY", ensemble_registry)
    # WHEN the nightly batch runs on data six weeks newer than the model
    result = handler({"run_date": "2015-06-25"}, batch_context())
    # THEN every store gets 42 days from the data's last day, from the manifest's best model
    assert result["status"] == "ok", result
    summary, csv_bytes = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-25")
    assert (summary["model_version"], summary["model"]) == (ensemble_version_dir.name, best_model(ensemble_version_dir))
    assert (summary["model_origin"], summary["history_source"]) == (str(ENSEMBLE_CUTOFF), "data")
    window = (summary["origin"], summary["first_date"], summary["last_date"])
    assert window == ("2015-01-31", "2015-02-01", "2015-03-14")
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    assert len(rows) == summary["rows"] == 8 * 42 and summary["stores_without_history"] == []
    assert sorted({int(row["store"]) for row in rows}) == list(range(1, 9))
    assert {row["model_version"] for row in rows} == {ensemble_version_dir.name}
    for row in rows:
        sunday = (np.datetime64(row["date"]).astype(np.int64) + 3) % 7 == 6
        sales, lower, upper = (float(row[name]) for name in ("sales", "lower", "upper"))
        if sunday:
            assert sales == lower == upper == 0, row
        else:
            assert sales > 1000 and 0 < lower <= sales <= upper, row


class SecondPutFails:
    """A real boto3 S3 client whose second ``put_object`` fails as S3 does under load (nothing is written)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.puts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **params: Any) -> dict[str, Any]:
        self.puts += 1
        if self.puts == 2:
            error = {"Code": "InternalError", "Message": "We encountered an internal error. Please try again."}
            raise ClientError({"Error": error}, "PutObject")
        return self._client.put_object(**params)


@pytest.mark.system  # trains the tiny ensemble (LSTM): the slow tier
def test_a_failure_between_the_two_writes_is_reported_and_caught_by_readers(
    s3: Any, settings: None, ensemble_registry: str, ensemble_version_dir: Path, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # GIVEN a partition committed by the tiny forest
    partition = "forecasts/run_date=2015-06-26"
    assert handler({"run_date": "2015-06-26"}, batch_context())["status"] == "ok"
    summary_before, csv_before = read_committed(s3, BUCKETS["forecasts"], partition)
    # WHEN a rerun with the ensemble version writes forecasts.csv but the PUT of summary.json fails
    monkeypatch.setenv("MODEL_REGISTRY", ensemble_registry)
    # (its own cache: versions trained within one second share a name, and the cache is keyed by name)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "ensemble-cache"))
    client = SecondPutFails(s3)
    monkeypatch.setattr(batch_handler, "s3_client", lambda: client)
    result = handler({"run_date": "2015-06-26"}, batch_context())
    # THEN the run reports the inconsistent partition
    assert client.puts == 2 and result["status"] == "failed"
    assert result["error"].startswith("CommitError: ") and "the partition is inconsistent" in result["error"], result
    assert f"s3://{BUCKETS['forecasts']}/{partition}/forecasts.csv was replaced" in result["error"]
    # AND the new forecasts.csv is in S3 beside the old summary.json, which readers refuse
    csv_now = s3.get_object(Bucket=BUCKETS["forecasts"], Key=f"{partition}/forecasts.csv")["Body"].read()
    assert csv_now != csv_before and f",{ensemble_version_dir.name},".encode() in csv_now
    summary_now = json.loads(s3.get_object(Bucket=BUCKETS["forecasts"], Key=f"{partition}/summary.json")["Body"].read())
    assert summary_now == summary_before
    with pytest.raises(CommitError, match=f"{partition}/forecasts.csv does not match its summary.json"):
        read_committed(s3, BUCKETS["forecasts"], partition)


class PutOfKeyFails:
    """A real boto3 S3 client whose PUT of a key ending in ``suffix`` fails as S3 does under load."""

    def __init__(self, client: Any, suffix: str) -> None:
        self._client = client
        self.suffix = suffix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **params: Any) -> dict[str, Any]:
        if params["Key"].endswith(self.suffix):
            error = {"Code": "InternalError", "Message": "We encountered an internal error. Please try again."}
            raise ClientError({"Error": error}, "PutObject")
        return self._client.put_object(**params)


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("summary.json", "forecasts.csv and s3://batch-test-forecasts/forecasts/run_date=2015-06-27/totals.csv and "
                         "s3://batch-test-forecasts/forecasts/run_date=2015-06-27/history_state.npz were replaced but "
                         "summary.json was not"),
        ("state/latest.json", "the run is committed (s3://batch-test-forecasts/forecasts/run_date=2015-06-27/"
                              "summary.json) but the state pointer s3://batch-test-forecasts/forecasts/state/"
                              "latest.json was not updated"),
    ],
    ids=["summary", "pointer"],
)
def test_the_state_pointer_moves_only_after_a_whole_commit(
    s3: Any, settings: None, monkeypatch: pytest.MonkeyPatch, suffix: str, message: str
) -> None:
    # GIVEN a pointer naming a committed run
    assert handler({"run_date": "2015-06-26"}, batch_context())["status"] == "ok"
    pointer = s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"].read()
    assert json.loads(pointer)["key"] == "forecasts/run_date=2015-06-26/history_state.npz"
    # WHEN a later run fails to write its summary (or the pointer itself)
    client = PutOfKeyFails(s3, suffix)
    monkeypatch.setattr(batch_handler, "s3_client", lambda: client)
    result = handler({"run_date": "2015-06-27"}, batch_context())
    # THEN the run fails saying what was written, and the pointer still names the last committed run
    assert result["status"] == "failed" and message in result["error"], result
    assert s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"].read() == pointer


def test_an_older_file_delivered_again_commits_its_run_but_leaves_the_pointer(s3: Any, settings: None,
                                                                              synthetic: SyntheticData) -> None:
    # GIVEN a night on the whole data, which moved the state pointer to its origin
    train = (synthetic.directory / "train.csv").read_bytes()
    assert handler({"run_date": "2015-07-01"}, batch_context())["status"] == "ok"
    pointer = s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"].read()
    # WHEN a later night gets an older file again (its last three days missing)
    s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=hold_back(train, 3))
    try:
        result = handler({"run_date": "2015-07-02"}, batch_context())
    finally:
        s3.put_object(Bucket=BUCKETS["data"], Key="train.csv", Body=train)
    # THEN its run is committed with the reason, and the pointer still names the newer run
    assert result["status"] == "ok" and result["state_pointer"]["moved"] is False, result
    assert "later than this run's" in result["state_pointer"]["reason"]
    assert result["output"]["state_pointer"] is None
    assert s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"].read() == pointer


def test_the_rollback_command_points_back_on_purpose_and_refuses_an_uncommitted_night(
    s3: Any, settings: None, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN two committed nights, the pointer on the later one
    for run_date in ("2015-07-05", "2015-07-06"):
        assert handler({"run_date": run_date}, batch_context())["status"] == "ok"
    # WHEN the operator rolls back to the earlier night
    pointer = rollback(s3, BUCKETS["forecasts"], "forecasts", np.datetime64("2015-07-05"))
    # THEN the pointer names its state, and a WARNING says what it replaced
    published = json.loads(s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"]
                           .read())
    assert published == pointer.to_dict() and published["run_date"] == "2015-07-05"
    assert "rolled back to run 2015-07-05" in caplog.text and "it named run 2015-07-06" in caplog.text
    # AND a night that was never committed is refused
    with pytest.raises(RollbackError, match="holds no committed run"):
        rollback(s3, BUCKETS["forecasts"], "forecasts", np.datetime64("2014-01-01"))
