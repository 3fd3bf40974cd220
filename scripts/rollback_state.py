"""Point the API back at an earlier committed night's history state, on purpose (the nightly batch never moves
the state pointer back by itself: docs/operations.md, "When the forecasts go wrong").

The night's ``summary.json`` must exist and its ``history_state.npz`` must match the sha256 the summary names; the
pointer then names that state, and the change is logged at WARNING with the pointer it replaced.

    .venv/bin/python scripts/rollback_state.py --bucket FORECAST_BUCKET --run-date 2015-06-20 [--prefix forecasts]
"""

import argparse
import json
import logging
import sys
from typing import Any

import numpy as np

from nightly_batch import output as batch_output
from rossmann_core.errors import RossmannError
from rossmann_core.serving.history_state import HISTORY_STATE_FILE, StatePointer, pointer_key, read_pointer
from rossmann_core.serving.settings import DEFAULT_FORECAST_PREFIX
from rossmann_core.storage import s3_client, sha256_hex

log = logging.getLogger("rollback_state")


class RollbackError(RossmannError):
    """The night asked for is not a committed run whose state can be served."""


def rollback(client: Any, bucket: str, prefix: str, run_date: np.datetime64) -> StatePointer:
    """Point ``prefix``'s state pointer at the committed state of ``run_date``; return the new pointer."""
    partition = batch_output.partition_prefix(prefix, run_date)
    try:
        summary = json.loads(client.get_object(Bucket=bucket, Key=f"{partition}/{batch_output.SUMMARY_FILE}")
                             ["Body"].read())
        state = client.get_object(Bucket=bucket, Key=f"{partition}/{HISTORY_STATE_FILE}")["Body"].read()
    except client.exceptions.NoSuchKey:
        raise RollbackError(f"s3://{bucket}/{partition} holds no committed run") from None
    if sha256_hex(state) != summary["history_state"]["sha256"]:
        raise RollbackError(f"s3://{bucket}/{partition}/{HISTORY_STATE_FILE} does not match its summary.json")
    pointer = StatePointer(run_date=np.datetime64(summary["run_date"], "D"), key=f"{partition}/{HISTORY_STATE_FILE}",
                           sha256=summary["history_state"]["sha256"], bytes=len(state),
                           origin=np.datetime64(summary["origin"], "D"), model_version=summary["model_version"],
                           stores_not_in_model=tuple(summary.get("stores_not_in_model", ())))
    previous = read_pointer(client, bucket, prefix)
    batch_output.put_pointer(client, bucket, pointer_key(prefix), pointer, f"s3://{bucket}/{partition}")
    log.warning("state pointer rolled back to run %s (origin %s); it named run %s (origin %s)", pointer.run_date,
                pointer.origin, None if previous is None else previous.run_date,
                None if previous is None else previous.origin, extra={"event": "pointer_rollback"})
    return pointer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default=DEFAULT_FORECAST_PREFIX)
    parser.add_argument("--run-date", required=True, type=np.datetime64)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        pointer = rollback(s3_client(), args.bucket, args.prefix, args.run_date)
    except RossmannError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return 2
    print(json.dumps(pointer.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
