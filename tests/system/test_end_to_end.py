"""End to end: scripts/local_up.sh brings the stack up on 127.0.0.1, the nightly batch's output lands
in the S3-API server, the API answers over HTTP from the newest data the batch published (its origin
moves as held-back days are appended), and scripts/local_down.sh stops everything."""

import csv
import io
import json
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from conftest import HOLDOUT_CUTOFF, TinyForest
from nightly_batch.output import read_committed
from scripts.stack.template import REPO_ROOT, bucket_names, load_template
from synthetic import SyntheticData


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(synthetic: SyntheticData, tiny_forest: TinyForest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Any]]:
    """GIVEN the session's tiny forest trained up to HOLDOUT_CUTOFF, three weeks before the generated data
    ends, WHEN scripts/local_up.sh runs with it (the data's last 7 days held back for a second night)."""
    models = tiny_forest(HOLDOUT_CUTOFF).parent
    state = tmp_path_factory.mktemp("e2e-state")
    ports = {"moto": free_port(), "api": free_port()}
    up = subprocess.run(
        ["scripts/local_up.sh", "--data-dir", str(synthetic.directory), "--model-dir", str(models),
         "--state-dir", str(state), "--moto-port", str(ports["moto"]), "--api-port", str(ports["api"])],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    info = {"state": state, "ports": ports, "up": up}
    try:
        yield info
    finally:
        down = subprocess.run(["scripts/local_down.sh", "--state-dir", str(state)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60)
        assert down.returncode == 0, down.stderr
        assert not list(state.glob("*.pid"))
        assert not any(port_open(port) for port in ports.values()), "local_down.sh left a server listening"


def test_one_command_brings_the_stack_up_and_the_batch_output_lands_in_s3(stack: dict[str, Any],
                                                                           synthetic: SyntheticData) -> None:
    assert stack["up"].returncode == 0, stack["up"].stdout + stack["up"].stderr
    info = json.loads((stack["state"] / "stack.json").read_text())
    buckets = bucket_names(load_template())
    assert info["buckets"] == buckets
    s3 = boto3.client("s3", endpoint_url=info["s3_endpoint"], region_name="eu-central-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    summary, csv_bytes = read_committed(s3, buckets["ForecastBucket"], "forecasts/run_date=2015-06-20")
    assert summary["rows"] == synthetic.n_stores * 42 == csv_bytes.count(b"\n") - 1
    assert summary["model_version"] == info["model_version"]
    assert summary["run_id"].startswith("local-")


def test_the_api_answers_over_http_with_the_published_model(stack: dict[str, Any]) -> None:
    assert stack["up"].returncode == 0, stack["up"].stderr
    info = json.loads((stack["state"] / "stack.json").read_text())
    with httpx.Client(base_url=info["api_url"], timeout=30) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["model_version"] == info["model_version"]
        response = client.post("/forecasts", json={"stores": [1, 2], "horizon_days": 42})
        assert response.status_code == 200, response.text
        assert [len(store["date"]) for store in response.json()["stores"]] == [42, 42]
        unknown = client.get("/stores/99999/forecast")
        assert unknown.status_code == 404 and unknown.json() == {"detail": "unknown store: 99999"}


def s3_client(info: dict[str, Any]) -> Any:
    return boto3.client("s3", endpoint_url=info["s3_endpoint"], region_name="eu-central-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_the_api_origin_moves_with_each_nightly_run(stack: dict[str, Any]) -> None:
    assert stack["up"].returncode == 0, stack["up"].stderr
    info = json.loads((stack["state"] / "stack.json").read_text())
    # THEN before any run the model's own state serves; after each run, the data's last day, without a restart
    steps = [(o["origin"], o["history_source"], o["history_run_date"]) for o in info["origins"]]
    assert steps == [(str(HOLDOUT_CUTOFF), "model_state", None), ("2015-01-24", "nightly_batch", "2015-06-20"),
                     ("2015-01-31", "nightly_batch", "2015-06-21")]
    assert all(o["model_origin"] == str(HOLDOUT_CUTOFF) for o in info["origins"])
    with httpx.Client(base_url=info["api_url"], timeout=30) as client:
        health = client.get("/health").json()
        answer = client.get("/stores/1/forecast").json()
    assert (health["origin"], health["history_run_date"]) == ("2015-01-31", "2015-06-21")
    assert (answer["origin"], answer["start"], answer["history_source"]) == ("2015-01-31", "2015-02-01",
                                                                             "nightly_batch")


def test_the_api_answers_as_the_batch_csv_to_the_cent(stack: dict[str, Any], synthetic: SyntheticData) -> None:
    # GIVEN the second run's committed forecasts (an RF-only model: per-store rows, so exact)
    info = json.loads((stack["state"] / "stack.json").read_text())
    summary, csv_bytes = read_committed(s3_client(info), info["buckets"]["ForecastBucket"],
                                        "forecasts/run_date=2015-06-21")
    batch = {(int(r["store"]), r["date"]): tuple(round(float(r[k]) * 100) for k in ("sales", "lower", "upper"))
             for r in csv.DictReader(io.StringIO(csv_bytes.decode()))}
    # WHEN the API is asked for every store, and for one store alone
    with httpx.Client(base_url=info["api_url"], timeout=30) as client:
        every = client.post("/forecasts", json={"stores": "all"}).json()
        alone = client.get("/stores/4/forecast", params={"start": "2015-02-10", "horizon_days": 7}).json()
    # THEN every store and day is the batch's to the cent
    api = {(s["store"], day): tuple(round(s[k][i] * 100) for k in ("sales", "lower", "upper"))
           for s in every["stores"] for i, day in enumerate(s["date"])}
    assert len(api) == summary["rows"] == synthetic.n_stores * 42
    assert api == batch
    assert [tuple(round(alone["stores"][0][k][i] * 100) for k in ("sales", "lower", "upper")) for i in range(7)] == [
        batch[4, day] for day in alone["stores"][0]["date"]]
