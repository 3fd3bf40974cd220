"""The fanned-out night (plan -> shards -> commit) emulated from template.yaml's state machine against a real
moto S3 server: the same forecasts and history state as the single function, and no committed run when a
shard fails or a part does not match."""

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from api_support import batch_context, s3_stack
from batch_lambda import handler
from conftest import HOLDOUT_CUTOFF, TinyForest
from nightly_batch import handler as batch_handler
from nightly_batch import steps
from nightly_batch.fanout import shard_slices
from nightly_batch.output import CommitError, read_committed
from rossmann_core.models.version import load_version
from rossmann_core.serving.history_state import load_state, read_pointer
from scripts.stack.state_machine import ExecutionFailedError, execute
from synthetic import SyntheticData
from training.publish import publish_version

BUCKETS = {"models": "fanout-test-models", "data": "fanout-test-data", "forecasts": "fanout-test-forecasts"}
RUN_SPECIFIC = {"run_date", "run_id", "created_at", "data_age_days", "timings_seconds", "duration_seconds", "output",
                "forecasts_sha256", "forecasts_bytes", "parts", "shards", "horizon_covariates", "status", "accuracy",
                "seconds"}


@pytest.fixture(scope="module")
def version_dir(tiny_forest: TinyForest) -> Path:
    return tiny_forest(HOLDOUT_CUTOFF)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str, version_dir: Path, synthetic: SyntheticData) -> Iterator[Any]:
    batch_handler.reset()
    steps.reset()
    with s3_stack(s3_endpoint, BUCKETS, version_dir, data_files=synthetic.files) as client:
        yield client
    batch_handler.reset()
    steps.reset()


@pytest.fixture()
def env(s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    settings = {"DATA_BUCKET": BUCKETS["data"], "FORECAST_BUCKET": BUCKETS["forecasts"],
                "MODEL_REGISTRY": f"s3://{BUCKETS['models']}/models", "MODEL_CACHE_DIR": str(tmp_path / "cache"),
                "SHARD_STORES": "3"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def partition_keys(s3: Any, run_date: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKETS["forecasts"], Prefix=f"forecasts/run_date={run_date}/")
    return sorted(item["Key"].rsplit("/", 1)[1] for item in listing.get("Contents", []))


def get(s3: Any, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKETS["forecasts"], Key=key)["Body"].read()


def test_shard_slices_cover_every_store_once_in_near_equal_slices() -> None:
    assert shard_slices(8, 3) == [(0, 3), (3, 5), (5, 8)]
    assert shard_slices(8, 8) == shard_slices(8, 100) == [(0, 8)]
    slices = shard_slices(4460, 1500)
    assert len(slices) == 3 and slices[0][0] == 0 and slices[-1][1] == 4460
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))


def test_a_sharded_night_writes_what_the_single_function_writes(s3: Any, env: dict[str, str],
                                                                 synthetic: SyntheticData, version_dir: Path) -> None:
    # GIVEN the single function's run of one night
    single = handler({"run_date": "2015-06-20"}, batch_context())
    assert single["status"] == "ok", single
    single_summary, single_csv = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-20")
    # WHEN the state machine runs the next night on the same data, three stores per shard
    trace: list[dict[str, Any]] = []
    result = execute({"run_date": "2015-06-21"}, trace=trace)
    # THEN it ran plan, one shard per slice, commit, and committed parts listed in summary.json
    assert [t["state"] for t in trace] == ["Plan", "Shard", "Shard", "Shard", "Shards", "Commit"]
    partition = "forecasts/run_date=2015-06-21"
    assert partition_keys(s3, "2015-06-21") == ["history_state.npz", "horizon_covariates.npz", "part-0000.csv",
                                                "part-0001.csv", "part-0002.csv", "summary.json", "totals.csv"]
    summary, csv_bytes = read_committed(s3, BUCKETS["forecasts"], partition)
    assert result["status"] == "ok" and summary["shards"] == 3 and summary["rows"] == synthetic.n_stores * 42
    assert [p["stores"] for p in summary["parts"]] == [3, 2, 3]
    # AND the joined parts are the single run's forecasts byte for byte, from the same history state
    assert csv_bytes == single_csv
    assert get(s3, f"{partition}/history_state.npz") == get(s3, "forecasts/run_date=2015-06-20/history_state.npz")
    assert get(s3, f"{partition}/totals.csv") == get(s3, "forecasts/run_date=2015-06-20/totals.csv")
    assert {k: v for k, v in summary.items() if k not in RUN_SPECIFIC} == \
        {k: v for k, v in single_summary.items() if k not in RUN_SPECIFIC}
    # AND the state pointer names the sharded run's state, which the API's loader accepts
    pointer = read_pointer(s3, BUCKETS["forecasts"], "forecasts")
    assert pointer.key == f"{partition}/history_state.npz" and pointer.run_date == np.datetime64("2015-06-21")
    state = load_state(s3, BUCKETS["forecasts"], pointer, load_version(version_dir))
    assert str(state.origin) == summary["origin"] == "2015-01-31"


class PutOfPartFails:
    """A real boto3 S3 client whose PUT of one part fails as S3 does under load."""

    def __init__(self, client: Any, name: str) -> None:
        self._client, self.name = client, name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._client, attribute)

    def put_object(self, **params: Any) -> dict[str, Any]:
        if params["Key"].endswith(self.name):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "Please try again."}}, "PutObject")
        return self._client.put_object(**params)


def test_a_failed_shard_leaves_no_committed_run(s3: Any, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a committed night and its pointer
    execute({"run_date": "2015-06-22"})
    pointer = get(s3, "forecasts/state/latest.json")
    # WHEN the second shard of the next night cannot write its part
    client = PutOfPartFails(s3, "part-0001.csv")
    monkeypatch.setattr(steps, "s3_client", lambda: client)
    with pytest.raises(ExecutionFailedError, match=r"state Shard \(BatchShardFunction\) failed: ClientError"):
        execute({"run_date": "2015-06-23"})
    # THEN that night has no summary.json, readers find no run, and the pointer still names the last commit
    assert "summary.json" not in partition_keys(s3, "2015-06-23")
    with pytest.raises(s3.exceptions.NoSuchKey):
        read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-23")
    assert get(s3, "forecasts/state/latest.json") == pointer


def test_commit_refuses_a_part_that_is_not_what_its_shard_wrote(s3: Any, env: dict[str, str]) -> None:
    # GIVEN a plan and its shards' parts
    plan = steps.plan({"run_date": "2015-06-24"}, "test-plan")
    parts = [steps.shard(item, f"test-shard-{item['shard']}") for item in plan["shards"]]
    # WHEN a part loses a store's rows before the commit (another writer, a truncated upload)
    key = "forecasts/run_date=2015-06-24/part-0001.csv"
    lines = get(s3, key).splitlines(keepends=True)
    s3.put_object(Bucket=BUCKETS["forecasts"], Key=key, Body=b"".join(lines[:-42]))
    # THEN the commit fails naming the part, and no run is committed
    with pytest.raises(CommitError, match=f"s3://{BUCKETS['forecasts']}/{key}: its sha256 differs"):
        steps.commit({**plan, "parts": parts}, "test-commit")
    assert "summary.json" not in partition_keys(s3, "2015-06-24")


def test_a_shard_refuses_a_state_replaced_after_the_plan(s3: Any, env: dict[str, str]) -> None:
    plan = steps.plan({"run_date": "2015-06-25"}, "test-plan")
    key = "forecasts/run_date=2015-06-25/history_state.npz"
    s3.put_object(Bucket=BUCKETS["forecasts"], Key=key, Body=get(s3, key) + b"\0")
    with pytest.raises(Exception, match="is not the object the plan wrote"):
        steps.shard(plan["shards"][0], "test-shard")
    assert partition_keys(s3, "2015-06-25") == ["history_state.npz", "horizon_covariates.npz"]


def test_the_plan_payload_stays_small(s3: Any, env: dict[str, str]) -> None:
    plan = steps.plan({"run_date": "2015-06-26"}, "test-plan")
    assert len(json.dumps(plan)) < 8_000, "shards are row ranges, not store lists: far below Step Functions' 256 KB"


@pytest.mark.system  # trains the tiny ensemble (LSTM): the slow tier
def test_the_ensemble_sharded_equals_the_single_run(s3: Any, env: dict[str, str], ensemble_version_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a registry whose latest version serves the RF + LSTM blend (the LSTM scores shards in smaller batches)
    publish_version(ensemble_version_dir.parent.parent, BUCKETS["models"], "ensemble-models", client=s3)
    monkeypatch.setenv("MODEL_REGISTRY", f"s3://{BUCKETS['models']}/ensemble-models")
    # WHEN one night runs as the single function and the next as the state machine
    assert handler({"run_date": "2015-06-27"}, batch_context())["status"] == "ok"
    summary = execute({"run_date": "2015-06-28"})
    # THEN both used the ensemble and wrote the same forecasts
    assert summary["model"] == "ensemble" and summary["model_version"] == ensemble_version_dir.name
    single = read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-27")[1]
    assert read_committed(s3, BUCKETS["forecasts"], "forecasts/run_date=2015-06-28")[1] == single
