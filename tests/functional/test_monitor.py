"""Accuracy monitoring of live forecasts: nights played on a real S3-API server (moto) with the batch handler,
the monitor's accuracy.json checked against an offline computation (csv + math, no numpy) from the same files."""

import csv
import datetime as dt
import hashlib
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api_support import batch_context, s3_stack
from batch_lambda import handler
from conftest import HOLDOUT_CUTOFF, TinyForest
from nightly_batch import handler as batch_handler
from nightly_batch.monitor import WINDOW_DAYS, WORST_STORES
from scripts.stack.nights import last_day, play_nights
from synthetic import SyntheticData

BUCKETS = {"models": "monitor-test-models", "data": "monitor-test-data", "forecasts": "monitor-test-forecasts"}
NIGHTS = 9
TAMPERED_NIGHT = 3



@pytest.fixture(scope="module")
def s3(s3_endpoint: str, tiny_forest: TinyForest, synthetic: SyntheticData,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The S3 server with the model (trained up to HOLDOUT_CUTOFF), store.csv, and the batch's settings."""
    version_dir = tiny_forest(HOLDOUT_CUTOFF)
    settings = {"DATA_BUCKET": BUCKETS["data"], "FORECAST_BUCKET": BUCKETS["forecasts"],
                "MODEL_REGISTRY": f"s3://{BUCKETS['models']}/models",
                "MODEL_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    batch_handler.reset()
    with s3_stack(s3_endpoint, BUCKETS, version_dir, settings, (synthetic.directory / "store.csv",)) as client:
        yield client
    batch_handler.reset()


def run(event: dict[str, Any], client: Any, tamper_after: str) -> dict[str, Any]:
    """The batch handler; after the night ``tamper_after`` its forecasts.csv is replaced (an uncommitted CSV)."""
    result = handler(event, batch_context())
    if event["run_date"] == tamper_after:
        key = f"forecasts/run_date={tamper_after}/forecasts.csv"
        body = client.get_object(Bucket=BUCKETS["forecasts"], Key=key)["Body"].read()
        client.put_object(Bucket=BUCKETS["forecasts"], Key=key, Body=body.replace(b".00,", b".50,"))
    return result


@pytest.fixture(scope="module")
def nights(s3: Any, synthetic: SyntheticData) -> list[dict[str, Any]]:
    train = (synthetic.directory / "train.csv").read_bytes()
    tampered = str(last_day(train) - NIGHTS + 1 + TAMPERED_NIGHT)
    return play_nights(s3, BUCKETS["data"], train, NIGHTS, lambda event: run(event, s3, tampered))


def offline_accuracy(client: Any, train_csv: Path, run_date: str) -> dict[str, Any]:
    """The monitor's figures recomputed from the same files: every partition before ``run_date`` whose CSV has
    the sha256 its summary.json names, matched by (store, date) to open days with sales > 0 in the last
    WINDOW_DAYS days of ``train_csv``."""
    with train_csv.open() as f:
        rows = list(csv.DictReader(f))
    last = max(dt.date.fromisoformat(r["Date"]) for r in rows)
    first = last - dt.timedelta(days=WINDOW_DAYS - 1)
    actual = {(int(r["Store"]), r["Date"]): float(r["Sales"]) for r in rows
              if first <= dt.date.fromisoformat(r["Date"]) <= last and r["Open"] == "1" and float(r["Sales"]) > 0}
    listing = client.list_objects_v2(Bucket=BUCKETS["forecasts"], Prefix="forecasts/run_date=")["Contents"]
    partitions = sorted({item["Key"].rsplit("/", 1)[0] for item in listing})
    scored, skipped = [], []
    for partition in partitions:
        if partition.split("=")[1] >= run_date:
            continue
        summary, body = (client.get_object(Bucket=BUCKETS["forecasts"], Key=f"{partition}/{name}")["Body"].read()
                         for name in ("summary.json", "forecasts.csv"))
        summary = json.loads(summary)
        if hashlib.sha256(body).hexdigest() != summary["forecasts_sha256"]:
            skipped.append(partition.split("=")[1])
            continue
        origin = dt.date.fromisoformat(summary["origin"])
        for r in csv.DictReader(io.StringIO(body.decode())):
            a = actual.get((int(r["store"]), r["date"]))
            if a is not None:
                lead = (dt.date.fromisoformat(r["date"]) - origin).days
                scored.append((int(r["store"]), (lead + 6) // 7, a, float(r["sales"]), float(r["lower"]),
                               float(r["upper"])))

    def figures(subset: list[tuple]) -> dict[str, Any]:
        errors = [(f - a) / a for _, _, a, f, _, _ in subset]
        return {"rows": len(subset), "rmspe": math.sqrt(sum(e * e for e in errors) / len(errors)),
                "coverage_90": sum(lo <= a <= up for _, _, a, _, lo, up in subset) / len(subset),
                "bias": sum(errors) / len(errors)}

    by_week, by_store = defaultdict(list), defaultdict(list)
    for row in scored:
        by_week[row[1]].append(row)
        by_store[row[0]].append(row)
    stores = sorted(({"store": s, **figures(rs)} for s, rs in by_store.items()),
                    key=lambda f: (-f["rmspe"], f["store"]))
    return {**figures(scored), "lead_weeks": {str(w): figures(rs) for w, rs in by_week.items()},
            "worst_stores": stores[:WORST_STORES], "skipped": skipped, "window": (str(first), str(last))}


def assert_close(report: dict[str, Any], expected: dict[str, Any]) -> None:
    assert report["rows"] == expected["rows"]
    for key in ("rmspe", "coverage_90", "bias"):
        assert report[key] == pytest.approx(expected[key], abs=2e-6), key


def test_each_night_scores_the_earlier_runs_on_the_newly_arrived_days(nights: list[dict[str, Any]]) -> None:
    assert [n["status"] for n in nights] == ["ok"] * (NIGHTS + 1)
    assert nights[0]["rows"] == 0 and nights[0]["rmspe"] is None  # nothing earlier to score yet
    assert all(n["rows"] > 0 for n in nights[1:])
    rows = [n["rows"] for n in nights]
    assert rows[1:WINDOW_DAYS + 1] == sorted(rows[1:WINDOW_DAYS + 1]) and rows[WINDOW_DAYS] > 3 * rows[1]
    # (more runs overlap the 7-day window as nights pass; a closed Sunday adds no rows)


def test_the_monitor_figures_match_an_offline_computation_from_the_same_files(
    s3: Any, nights: list[dict[str, Any]], synthetic: SyntheticData
) -> None:
    final = nights[-1]
    key = f"monitoring/run_date={final['run_date']}/accuracy.json"
    report = json.loads(s3.get_object(Bucket=BUCKETS["forecasts"], Key=key)["Body"].read())
    expected = offline_accuracy(s3, synthetic.directory / "train.csv", final["run_date"])
    assert (report["window"]["first_day"], report["window"]["last_day"]) == expected["window"]
    assert_close(report, expected)
    assert sorted(report["lead_weeks"]) == sorted(expected["lead_weeks"])
    for week, figures in expected["lead_weeks"].items():
        assert_close(report["lead_weeks"][week], figures)
    assert [s["store"] for s in report["worst_stores"]] == [s["store"] for s in expected["worst_stores"]]
    for got, want in zip(report["worst_stores"], expected["worst_stores"], strict=True):
        assert_close(got, want)
    # the tampered partition (its CSV no longer matches its summary) is skipped, named, and never scored
    assert expected["skipped"] == [nights[TAMPERED_NIGHT]["run_date"]]
    assert [s["run_date"] for s in report["runs_skipped"]] == expected["skipped"]
    assert "CommitError" in report["runs_skipped"][0]["reason"]
    assert nights[TAMPERED_NIGHT]["run_date"] not in [r["run_date"] for r in report["runs"]]
    pointer = json.loads(s3.get_object(Bucket=BUCKETS["forecasts"], Key="forecasts/state/latest.json")["Body"].read())
    state = s3.get_object(Bucket=BUCKETS["forecasts"], Key=pointer["key"])["Body"].read()
    assert report["data"] == {"uri": f"s3://{BUCKETS['forecasts']}/{pointer['key']}",
                              "sha256": hashlib.sha256(state).hexdigest()}, "scored against the committed state"


def offline_chain_day_totals(client: Any, train_csv: Path, run_date: str, skipped: list[str]) -> dict[str, Any]:
    """The chain's daily totals of every committed run before ``run_date`` (csv + math), scored against the sum of
    every forecast store's actual that day (closed: 0) in the monitor's window, when each store has its row."""
    with train_csv.open() as f:
        rows = list(csv.DictReader(f))
    last = max(dt.date.fromisoformat(r["Date"]) for r in rows)
    first = last - dt.timedelta(days=WINDOW_DAYS - 1)
    actual = {(int(r["Store"]), r["Date"]): float(r["Sales"]) if r["Open"] == "1" else 0.0 for r in rows
              if first <= dt.date.fromisoformat(r["Date"]) <= last}
    listing = client.list_objects_v2(Bucket=BUCKETS["forecasts"], Prefix="forecasts/run_date=")["Contents"]
    scored = []
    for partition in sorted({item["Key"].rsplit("/", 1)[0] for item in listing}):
        if partition.split("=")[1] >= run_date or partition.split("=")[1] in skipped:
            continue
        forecasts, totals = (client.get_object(Bucket=BUCKETS["forecasts"], Key=f"{partition}/{name}")["Body"].read()
                             for name in ("forecasts.csv", "totals.csv"))
        stores = {int(r["store"]) for r in csv.DictReader(io.StringIO(forecasts.decode()))}
        for r in csv.DictReader(io.StringIO(totals.decode())):
            if (r["group_by"], r["period_kind"]) != ("chain", "day"):
                continue
            day = [actual.get((s, r["period"])) for s in stores]
            if None in day or sum(day) <= 0:
                continue
            a = sum(day)
            scored.append(((float(r["sales"]) - a) / a, float(r["lower"]) <= a <= float(r["upper"])))
    errors = [e for e, _ in scored]
    return {"totals": len(scored), "rmspe": math.sqrt(sum(e * e for e in errors) / len(errors)),
            "coverage_90": sum(c for _, c in scored) / len(scored), "bias": sum(errors) / len(errors)}


def test_the_totals_figures_match_an_offline_computation(s3: Any, nights: list[dict[str, Any]],
                                                         synthetic: SyntheticData) -> None:
    final = nights[-1]
    key = f"monitoring/run_date={final['run_date']}/accuracy.json"
    report = json.loads(s3.get_object(Bucket=BUCKETS["forecasts"], Key=key)["Body"].read())
    expected = offline_chain_day_totals(s3, synthetic.directory / "train.csv", final["run_date"],
                                        [nights[TAMPERED_NIGHT]["run_date"]])
    chain = report["totals"]["chain_day"]
    assert chain["totals"] == expected["totals"] > 0
    for name in ("rmspe", "coverage_90", "bias"):
        assert chain[name] == pytest.approx(expected[name], abs=1e-6)
    assert {"state_day", "store_type_day"} <= set(report["totals"])
    assert final["chain_totals_coverage_90"] == chain["coverage_90"]


def test_a_failed_scheduled_night_raises_for_the_dead_letter_queue_a_manual_run_returns_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nightly_batch.handler import BatchFailedError

    monkeypatch.delenv("DATA_BUCKET", raising=False)
    scheduled = json.loads((Path(__file__).resolve().parents[2] / "events" / "batch_scheduled.json").read_text())
    with pytest.raises(BatchFailedError, match="DATA_BUCKET"):
        handler(scheduled, batch_context())
    failure = handler({"run_date": "2015-02-01"}, batch_context())
    assert failure["status"] == "failed" and "DATA_BUCKET" in failure["error"]
