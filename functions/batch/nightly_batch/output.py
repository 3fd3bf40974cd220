"""The nightly batch's output: ``forecasts.csv`` bytes and the commit to S3.

Layout: ``<prefix>/run_date=YYYY-MM-DD/forecasts.csv``, then ``totals.csv`` (:mod:`.totals`), then
``history_state.npz`` (the history the
run forecast from, :mod:`rossmann_core.serving.history_state`), then ``summary.json``, then the
state pointer ``<prefix>/state/latest.json``. Each S3 PUT is atomic (readers see the old object or
the new one, never part of one), and nothing is written until the whole forecast exists and has
passed its checks. ``summary.json`` is the commit marker: it carries the sha256 and size of the
``forecasts.csv`` and of the state it describes, so a reader (or the next run) can tell a consistent
partition from a run that died between PUTs. The pointer is written after it, so it names
committed runs only.

A sharded run (:mod:`.fanout`) writes the same partition in other pieces: ``history_state.npz`` and
``horizon_covariates.npz`` (plan), one ``part-NNNN.csv`` per shard instead of ``forecasts.csv``
(shards), then ``totals.csv`` and ``summary.json`` listing every part with its sha256, rows and stores, then the pointer
(commit). :func:`read_committed` returns the same CSV bytes for both layouts.
"""

import json
import logging
from typing import Any

import numpy as np

from rossmann_core.errors import RossmannError
from rossmann_core.models.forecast import Forecast
from rossmann_core.serving.history_state import HISTORY_STATE_FILE, StatePointer, read_pointer
from rossmann_core.storage import s3_key, sha256_hex

CSV_COLUMNS = ("store", "date", "model_version", "sales", "lower", "upper")
FORECASTS_FILE = "forecasts.csv"
TOTALS_FILE = "totals.csv"
"""The night's totals (:mod:`nightly_batch.totals`), committed with the forecasts."""
SUMMARY_FILE = "summary.json"
COVARIATES_FILE = "horizon_covariates.npz"
"""Sharded runs: the horizon's covariates the plan assumed for every store (a Panel's arrays, .npz)."""


log = logging.getLogger(__name__)


class CommitError(RossmannError):
    """A partition whose objects and summary.json (the commit marker) do not belong together (a PUT failed
    after the CSV was replaced, or a reader found a CSV its summary does not describe), or a committed run
    whose state pointer could not be written."""


def partition_prefix(prefix: str, run_date: np.datetime64) -> str:
    """``forecasts/run_date=2015-06-20`` (no trailing slash)."""
    return s3_key(prefix, f"run_date={run_date}")


def part_file(shard: int) -> str:
    """``part-0007.csv``: the CSV of shard 7 of a sharded run."""
    return f"part-{shard:04d}.csv"


def forecasts_csv(forecast: Forecast, model_version: str) -> bytes:
    """CSV with CSV_COLUMNS, one row per store and day in the forecast's order; euros to the cent."""
    dates = forecast.date.astype(str)
    lines = [",".join(CSV_COLUMNS)]
    lines += [
        f"{store},{date},{model_version},{sales:.2f},{lower:.2f},{upper:.2f}"
        for store, date, sales, lower, upper in zip(
            forecast.store.tolist(), dates.tolist(), forecast.sales.tolist(), forecast.lower.tolist(),
            forecast.upper.tolist(),
        )
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def put_in_order(client: Any, bucket: str, partition: str,
                 objects: tuple[tuple[str, bytes, str], ...]) -> list[str]:
    """PUT (name, body, content type) objects under ``partition`` in order; return their S3 URIs.

    A failed first PUT writes nothing; a failure after it raises CommitError saying what was replaced
    and what was not (the bucket keeps old versions).
    """
    written: list[str] = []
    for name, body, content_type in objects:
        key = f"{partition}/{name}"
        try:
            client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        except Exception as error:
            if not written:
                raise
            pending = [other for other, _, _ in objects[len(written):]]
            raise CommitError(
                f"{' and '.join(written)} {'was' if len(written) == 1 else 'were'} replaced but "
                f"{' and '.join(pending)} {'was' if len(pending) == 1 else 'were'} not ({error}); "
                "the partition is inconsistent until a rerun"
            ) from error
        written.append(f"s3://{bucket}/{key}")
    return written


def summary_object(summary: dict[str, Any]) -> tuple[str, bytes, str]:
    return SUMMARY_FILE, json.dumps(summary, indent=2, sort_keys=True).encode(), "application/json"


def pointer_move(client: Any, bucket: str, prefix: str, pointer: StatePointer) -> dict[str, Any]:
    """Whether tonight's commit moves the state pointer: not when the committed pointer names a later origin (an
    older data file delivered again would move the API and the page back a day); then a WARNING says so. Only
    ``scripts/rollback_state.py`` moves the pointer back, on purpose."""
    current = read_pointer(client, bucket, prefix)
    if current is None or pointer.origin >= current.origin:
        return {"moved": True}
    reason = (f"the committed state pointer names origin {current.origin} (run {current.run_date}), later than "
              f"this run's {pointer.origin}: left alone")
    log.warning("state pointer not moved back: %s", reason,
                extra={"event": "pointer_kept", "kept_run_date": str(current.run_date), "origin": str(pointer.origin)})
    return {"moved": False, "reason": reason, "kept_run_date": str(current.run_date)}


def put_pointer(client: Any, bucket: str, pointer_key: str, pointer: StatePointer, committed: str) -> str:
    """PUT the state pointer after the commit marker ``committed``; CommitError if it fails."""
    try:
        client.put_object(Bucket=bucket, Key=pointer_key, Body=json.dumps(pointer.to_dict(), indent=2).encode(),
                          ContentType="application/json")
    except Exception as error:
        raise CommitError(
            f"the run is committed ({committed}) but the state pointer s3://{bucket}/{pointer_key} was not "
            f"updated ({error}); the API keeps its previous history until a rerun"
        ) from error
    return f"s3://{bucket}/{pointer_key}"


def pointer_after_commit(client: Any, bucket: str, pointer_key: str, pointer: StatePointer, summary: dict[str, Any],
                         committed: str) -> str | None:
    """PUT the state pointer after the commit marker ``committed`` when the summary says it moves
    (:func:`pointer_move`); its URI, or None when it was left alone."""
    if not summary["state_pointer"]["moved"]:
        return None
    return put_pointer(client, bucket, pointer_key, pointer, committed)


def totals_fields(totals_bytes: bytes, members: dict[str, dict[str, list[int]]]) -> dict[str, Any]:
    """The summary's record of ``totals.csv``: its file name, sha256, size and each group's member stores."""
    return {"totals": {"file": TOTALS_FILE, "sha256": sha256_hex(totals_bytes), "bytes": len(totals_bytes),
                       "members": members}}


def commit(client: Any, bucket: str, partition: str, csv_bytes: bytes, totals_bytes: bytes, state: bytes,
           summary: dict[str, Any], pointer_key: str, pointer: StatePointer) -> dict[str, str | None]:
    """PUT ``forecasts.csv``, ``totals.csv``, ``history_state.npz``, ``summary.json`` (the commit marker, with the
    sha256 of each), then the state pointer at ``pointer_key``; return their S3 URIs.

    A rerun for the same partition overwrites its keys, so there is never a second copy. A failed
    first PUT writes nothing; a failure after it raises CommitError saying what was replaced (the
    bucket keeps old versions), and a failed pointer PUT says the run is committed but not pointed to.
    """
    objects = ((FORECASTS_FILE, csv_bytes, "text/csv"), (TOTALS_FILE, totals_bytes, "text/csv"),
               (HISTORY_STATE_FILE, state, "application/octet-stream"), summary_object(summary))
    written = put_in_order(client, bucket, partition, objects)
    uris = dict(zip(("forecasts", "totals", "history_state", "summary"), written, strict=True))
    return {**uris, "state_pointer": pointer_after_commit(client, bucket, pointer_key, pointer, summary, written[-1])}


def commit_summary(client: Any, bucket: str, partition: str, totals_bytes: bytes, summary: dict[str, Any],
                   pointer_key: str, pointer: StatePointer) -> dict[str, str | None]:
    """A sharded run's commit, once its parts and state are in place and verified: ``totals.csv``, then
    ``summary.json``, then the state pointer; return their S3 URIs."""
    objects = ((TOTALS_FILE, totals_bytes, "text/csv"), summary_object(summary))
    totals, written = put_in_order(client, bucket, partition, objects)
    return {"totals": totals, "summary": written,
            "state_pointer": pointer_after_commit(client, bucket, pointer_key, pointer, summary, written)}


def read_parts(client: Any, bucket: str, partition: str, parts: list[dict[str, Any]]) -> bytes:
    """The parts a summary lists, each checked against its sha256, as one CSV (the first part's header only)."""
    pieces = []
    for number, part in enumerate(parts):
        body = client.get_object(Bucket=bucket, Key=f"{partition}/{part['file']}")["Body"].read()
        if sha256_hex(body) != part["sha256"]:
            raise CommitError(f"{partition}/{part['file']} does not match its {SUMMARY_FILE}: a later run replaced it "
                              "or died before its commit")
        pieces.append(body if number == 0 else body[body.index(b"\n") + 1:])
    return b"".join(pieces)


def read_committed_totals(client: Any, bucket: str, partition: str, summary: dict[str, Any]) -> bytes | None:
    """The committed ``totals.csv`` a summary describes (None for a run written before totals); CommitError if it
    does not match the summary."""
    if "totals" not in summary:
        return None
    body = client.get_object(Bucket=bucket, Key=f"{partition}/{TOTALS_FILE}")["Body"].read()
    if sha256_hex(body) != summary["totals"]["sha256"]:
        raise CommitError(f"{partition}/{TOTALS_FILE} does not match its {SUMMARY_FILE}: a run died between PUTs")
    return body


def read_committed(client: Any, bucket: str, partition: str) -> tuple[dict[str, Any], bytes]:
    """The committed (summary, forecasts CSV) of a partition, one run's or a sharded run's parts joined;
    raises CommitError if the CSV or a part does not match the summary."""
    summary = json.loads(client.get_object(Bucket=bucket, Key=f"{partition}/{SUMMARY_FILE}")["Body"].read())
    if "parts" in summary:
        return summary, read_parts(client, bucket, partition, summary["parts"])
    csv_bytes = client.get_object(Bucket=bucket, Key=f"{partition}/{FORECASTS_FILE}")["Body"].read()
    if sha256_hex(csv_bytes) != summary["forecasts_sha256"]:
        raise CommitError(f"{partition}/{FORECASTS_FILE} does not match its {SUMMARY_FILE}: a run died between PUTs")
    return summary, csv_bytes
