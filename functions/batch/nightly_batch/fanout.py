"""The nightly run fanned out over store shards: plan, one shard per store slice, commit (Step Functions).

The same run as :func:`nightly_batch.run.run_batch`, cut where the work is per store:

- **plan** (once): load the model version and pin it, read and parse the data, check the run date,
  assume the horizon's covariates for every store (some patterns are chain-wide), then PUT
  ``history_state.npz`` and ``horizon_covariates.npz`` into the partition and return the shard list:
  contiguous slices of the model's stores, ``shard_stores`` each.
- **shard** (one per slice, in parallel): the pinned version, the two objects (sha256 checked against
  the plan), its stores' rows; forecast them with :func:`~nightly_batch.run.forecast_history` (the
  single run's code) and PUT ``part-NNNN.csv``; return its sha256, bytes, rows and stores.
- **commit** (once): check the state is still the plan's, then every part against what its shard
  returned and what it must hold (sha256, exactly the shard's stores with history, ``horizon`` rows
  each); PUT ``summary.json`` listing every part, then the state pointer
  (:func:`~nightly_batch.output.commit_summary`).

Nothing is committed until every part has been verified, so a failed shard leaves no committed run
(a new date has no ``summary.json``; on a rerun the earlier summary no longer matches the replaced
parts and :func:`~nightly_batch.output.read_committed` refuses it). The payloads are small JSON
(shards are row ranges, not store lists), within Step Functions' 256 KB.
"""

import io
import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nightly_batch import output as batch_output
from nightly_batch.run import BatchError, Prepared, forecast_history, prepare_run, read_object, run_summary, stopwatch
from nightly_batch.totals import NightTotals, totals_csv
from rossmann_core.covariates.assume import fit_covariates
from rossmann_core.data.panel import Panel
from rossmann_core.features.history import has_recent_sales
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.history_state import HISTORY_STATE_FILE, StatePointer, pointer_key, read_state
from rossmann_core.serving.settings import BatchSettings
from rossmann_core.storage import sha256_hex


def shard_slices(n_stores: int, shard_stores: int) -> list[tuple[int, int]]:
    """[start, stop) row ranges cutting ``n_stores`` into ceil(n / shard_stores) slices of near-equal size."""
    count = max(1, -(-n_stores // shard_stores))
    bounds = np.linspace(0, n_stores, count + 1).round().astype(int).tolist()
    return list(itertools.pairwise(bounds))


def covariates_bytes(covariates: Panel) -> bytes:
    """The horizon's covariate panel as an uncompressed ``.npz`` (``Panel.to_arrays``)."""
    buffer = io.BytesIO()
    np.savez(buffer, **covariates.to_arrays())
    return buffer.getvalue()


def read_checked(client: Any, bucket: str, key: str, sha256: str) -> bytes:
    """The object's bytes; BatchError unless they have ``sha256`` (the plan's)."""
    body = read_object(client, bucket, key)
    if sha256_hex(body) != sha256:
        raise BatchError(f"s3://{bucket}/{key} is not the object the plan wrote (sha256 differs): "
                         "another run of the same date replaced it")
    return body


def plan_run(run_date: np.datetime64, settings: BatchSettings, client: Any, version: ModelVersion,
             run_id: str) -> dict[str, Any]:
    """Prepare the run, PUT its state and covariates, return the plan (the state machine's input to the rest)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    prepared = prepare_run(run_date, settings, client, version, stopwatch(timings))
    covariates = covariates_bytes(prepared.covariates)
    batch_output.put_in_order(client, settings.forecast_bucket, prepared.partition, (
        (HISTORY_STATE_FILE, prepared.state, "application/octet-stream"),
        (batch_output.COVARIATES_FILE, covariates, "application/octet-stream"),
    ))
    summary = run_summary(prepared, settings.horizon_days, run_id)
    summary["horizon_covariates"] = {"file": batch_output.COVARIATES_FILE, "sha256": sha256_hex(covariates),
                                     "bytes": len(covariates)}
    timings["put_state"] = round(time.perf_counter() - started - sum(timings.values()), 3)
    return {
        "run_date": str(run_date), "run_id": run_id, "model_version": version.name,
        "summary": summary, "pointer": prepared.pointer.to_dict(),
        "plan_seconds": round(time.perf_counter() - started, 3), "plan_timings": timings,
        "shards": shard_items(prepared, summary, settings.shard_stores),
    }


def shard_items(prepared: Prepared, summary: dict[str, Any], shard_stores: int) -> list[dict[str, Any]]:
    """One self-contained Map item per shard: what its Lambda needs besides its settings."""
    common = {"run_date": summary["run_date"], "run_id": summary["run_id"], "model_version": summary["model_version"],
              "state_sha256": summary["history_state"]["sha256"],
              "covariates_sha256": summary["horizon_covariates"]["sha256"]}
    return [{**common, "shard": number, "rows": [start, stop]}
            for number, (start, stop) in enumerate(shard_slices(len(prepared.has_history), shard_stores))]


def run_shard(item: dict[str, Any], settings: BatchSettings, client: Any, version: ModelVersion) -> dict[str, Any]:
    """Forecast one shard's stores and PUT its part; return what the commit checks."""
    started = time.perf_counter()
    if version.name != item["model_version"]:
        raise BatchError(f"shard {item['shard']} loaded model version {version.name}, the plan pinned "
                         f"{item['model_version']}")
    partition = batch_output.partition_prefix(settings.forecast_prefix, np.datetime64(item["run_date"], "D"))
    bucket = settings.forecast_bucket
    state = read_checked(client, bucket, f"{partition}/{HISTORY_STATE_FILE}", item["state_sha256"])
    history, stores = read_state(state, f"s3://{bucket}/{partition}/{HISTORY_STATE_FILE}")
    covariates_key = f"{partition}/{batch_output.COVARIATES_FILE}"
    with np.load(io.BytesIO(read_checked(client, bucket, covariates_key, item["covariates_sha256"]))) as npz:
        covariates = Panel.from_arrays({key: npz[key] for key in npz.files})
    rows = np.arange(*item["rows"])
    forecast = forecast_history(version, history.take_stores(rows), stores.take(rows),
                                covariates.take_stores(rows), settings.horizon_days)
    body = batch_output.forecasts_csv(forecast, version.name)
    name = batch_output.part_file(item["shard"])
    client.put_object(Bucket=bucket, Key=f"{partition}/{name}", Body=body, ContentType="text/csv")
    return {"shard": item["shard"], "file": name, "sha256": sha256_hex(body), "bytes": len(body),
            "rows": len(forecast.store), "stores": len(np.unique(forecast.store)),
            "seconds": round(time.perf_counter() - started, 3)}


def expected_stores(state: bytes, where: str, shards: list[dict[str, Any]]) -> list[np.ndarray]:
    """Per shard, the store ids its part must hold: its rows' stores with sales in the history."""
    history, _ = read_state(state, where)
    has_history = has_recent_sales(history)
    return [history.store_ids[start:stop][has_history[start:stop]] for start, stop in (s["rows"] for s in shards)]


def check_part(body: bytes, result: dict[str, Any], stores: np.ndarray, horizon: int, where: str) -> None:
    """CommitError unless the part is what its shard reported and holds ``horizon`` rows of each of ``stores``."""
    header, _, rows = body.partition(b"\n")
    ids = np.array([int(line.split(b",", 1)[0]) for line in rows.splitlines()], dtype=np.int64)
    unique, counts = np.unique(ids, return_counts=True)
    problems = [
        (sha256_hex(body) != result["sha256"], "its sha256 differs from what the shard returned"),
        (header.decode() != ",".join(batch_output.CSV_COLUMNS), f"its header is {header[:80]!r}"),
        (not np.array_equal(unique, np.sort(stores)), f"it holds {len(unique)} stores, the shard has {len(stores)} "
                                                      "with history"),
        (bool((counts != horizon).any()), f"a store has other than {horizon} rows"),
        ((len(ids), len(unique)) != (result["rows"], result["stores"]), "its rows or stores differ from the result"),
    ]
    for failed, reason in problems:
        if failed:
            raise batch_output.CommitError(f"{where}: {reason}; nothing committed")


def night_totals(client: Any, bucket: str, partition: str, parts: list[dict[str, Any]], state: bytes,
                 state_key: str, version: ModelVersion, model: str) -> NightTotals:
    """``totals.csv`` of the verified parts joined (the same bytes one function writes for the night)."""
    history, stores = read_state(state, f"s3://{bucket}/{state_key}")
    csv_bytes = batch_output.read_parts(client, bucket, partition, parts)
    return totals_csv(csv_bytes, version, history, stores, fit_covariates(history).state_of_store, model)


def commit_run(plan: dict[str, Any], parts: list[dict[str, Any]], settings: BatchSettings,
               client: Any, version: ModelVersion) -> dict[str, Any]:
    """Verify the state and every part, then PUT ``summary.json`` and the state pointer; return the summary."""
    started = time.perf_counter()
    shards, bucket = plan["shards"], settings.forecast_bucket
    if [p.get("shard") for p in parts] != [s["shard"] for s in shards]:
        raise batch_output.CommitError(f"the shards returned {[p.get('shard') for p in parts]}, the plan listed "
                                       f"{[s['shard'] for s in shards]}; nothing committed")
    summary = plan["summary"]
    partition = batch_output.partition_prefix(settings.forecast_prefix, np.datetime64(plan["run_date"], "D"))
    state_key = f"{partition}/{HISTORY_STATE_FILE}"
    state = read_checked(client, bucket, state_key, summary["history_state"]["sha256"])
    stores = expected_stores(state, f"s3://{bucket}/{state_key}", shards)
    for result, shard_stores in zip(parts, stores, strict=True):
        key = f"{partition}/{result['file']}"
        check_part(read_object(client, bucket, key), result, shard_stores, summary["horizon_days"], f"s3://{bucket}/{key}")
    rows = sum(p["rows"] for p in parts)
    if rows != summary["rows"]:
        raise batch_output.CommitError(f"the parts hold {rows} rows, the plan expects {summary['rows']}; "
                                       "nothing committed")
    summary = {
        **summary,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "shards": len(parts),
        "parts": [{k: p[k] for k in ("file", "sha256", "bytes", "rows", "stores")} for p in parts],
        "forecasts_bytes": sum(p["bytes"] for p in parts),
        "timings_seconds": {**plan["plan_timings"], "plan": plan["plan_seconds"],
                            "shard_max": max(p["seconds"] for p in parts),
                            "shard_total": round(sum(p["seconds"] for p in parts), 3),
                            "verify": round(time.perf_counter() - started, 3)},
    }
    summary["duration_seconds"] = round(plan["plan_seconds"] + summary["timings_seconds"]["shard_max"]
                                        + time.perf_counter() - started, 3)
    if version.name != summary["model_version"]:
        raise BatchError(f"the commit loaded model version {version.name}, the plan pinned {summary['model_version']}")
    night = night_totals(client, bucket, partition, parts, state, state_key, version, summary["model"])
    summary |= batch_output.totals_fields(night.csv, night.members)
    pointer = StatePointer.from_json(json.dumps(plan["pointer"]).encode(), "the plan's state pointer")
    summary["state_pointer"] = batch_output.pointer_move(client, bucket, settings.forecast_prefix, pointer)
    summary["output"] = batch_output.commit_summary(client, bucket, partition, night.csv, summary,
                                                    pointer_key(settings.forecast_prefix), pointer)
    return summary
