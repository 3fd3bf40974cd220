"""The nightly batch's output: ``forecasts.csv`` bytes and the two-object commit to S3.

Layout: ``<prefix>/run_date=YYYY-MM-DD/forecasts.csv`` then ``summary.json``. Each S3 PUT is atomic
(readers see the old object or the new one, never part of one), and nothing is written until the
whole forecast exists and has passed its checks. ``summary.json`` is written last, as the commit
marker: it carries the sha256 and row count of the ``forecasts.csv`` it describes, so a reader (or
the next run) can tell a consistent pair from a run that died between the two PUTs.
"""

import json
from typing import Any

import numpy as np

from rossmann_core.errors import RossmannError
from rossmann_core.models.forecast import Forecast
from rossmann_core.storage import s3_key, sha256_hex

CSV_COLUMNS = ("store", "date", "model_version", "sales", "lower", "upper")
FORECASTS_FILE = "forecasts.csv"
SUMMARY_FILE = "summary.json"


class CommitError(RossmannError):
    """A partition whose forecasts.csv and summary.json (the commit marker) do not belong together:
    the summary PUT failed after the CSV was replaced, or a reader found a CSV its summary does not describe."""


def partition_prefix(prefix: str, run_date: np.datetime64) -> str:
    """``forecasts/run_date=2015-06-20`` (no trailing slash)."""
    return s3_key(prefix, f"run_date={run_date}")


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


def commit(client: Any, bucket: str, partition: str, csv_bytes: bytes, summary: dict[str, Any]) -> dict[str, str]:
    """PUT ``forecasts.csv`` then ``summary.json`` (the commit marker); return their S3 URIs.

    A rerun for the same partition overwrites both keys, so there is never a second copy. If the
    second PUT fails the error says the pair is inconsistent (the bucket keeps old versions).
    """
    csv_key, summary_key = f"{partition}/{FORECASTS_FILE}", f"{partition}/{SUMMARY_FILE}"
    body = json.dumps(summary, indent=2, sort_keys=True).encode()
    client.put_object(Bucket=bucket, Key=csv_key, Body=csv_bytes, ContentType="text/csv")
    try:
        client.put_object(Bucket=bucket, Key=summary_key, Body=body, ContentType="application/json")
    except Exception as error:
        raise CommitError(
            f"s3://{bucket}/{csv_key} was replaced but {SUMMARY_FILE} was not ({error}); "
            "the partition is inconsistent until a rerun"
        ) from error
    return {"forecasts": f"s3://{bucket}/{csv_key}", "summary": f"s3://{bucket}/{summary_key}"}


def read_committed(client: Any, bucket: str, partition: str) -> tuple[dict[str, Any], bytes]:
    """The committed (summary, forecasts.csv) of a partition; raises CommitError if they do not match."""
    summary = json.loads(client.get_object(Bucket=bucket, Key=f"{partition}/{SUMMARY_FILE}")["Body"].read())
    csv_bytes = client.get_object(Bucket=bucket, Key=f"{partition}/{FORECASTS_FILE}")["Body"].read()
    if sha256_hex(csv_bytes) != summary["forecasts_sha256"]:
        raise CommitError(f"{partition}/{FORECASTS_FILE} does not match its {SUMMARY_FILE}: a run died between PUTs")
    return summary, csv_bytes
