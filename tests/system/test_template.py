"""template.yaml: SAM and cfn-lint accept it, and it keeps the security and wiring promises in README."""

import os
import re
import subprocess

import pytest

from scripts.stack.template import REPO_ROOT, TEMPLATE, load_template, resources_of_type

SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
CFN_LINT = REPO_ROOT / ".venv" / "bin" / "cfn-lint"
TOOL_ENV = {**os.environ, "AWS_DEFAULT_REGION": "eu-central-1", "SAM_CLI_TELEMETRY": "0"}

template = load_template()


def run_tool(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, env=TOOL_ENV, capture_output=True, text=True, timeout=300)


def test_sam_validate_lint_passes() -> None:
    if not SAM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SAM} is missing: scripts/run_tests.sh runs scripts/setup_sam.sh first")
        pytest.skip("aws-sam-cli not installed: run scripts/setup_sam.sh")
    result = run_tool([str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_passes() -> None:
    result = run_tool([str(CFN_LINT), str(TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_bucket_is_encrypted_private_and_tls_only() -> None:
    policies = {
        policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in resources_of_type(template, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in resources_of_type(template, "AWS::S3::Bucket").items():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert all(properties["PublicAccessBlockConfiguration"].values()), name
        deny = [s for s in policies[name] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name


def test_api_needs_signed_requests_and_batch_runs_on_a_schedule() -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    api_events = functions["ApiFunction"]["Properties"]["Events"].values()
    assert {event["Type"] for event in api_events} == {"HttpApi"}
    assert all(event["Properties"]["Auth"]["Authorizer"] == "AWS_IAM" for event in api_events)
    http_api = resources_of_type(template, "AWS::Serverless::HttpApi")["ForecastHttpApi"]["Properties"]
    assert http_api["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    batch_events = functions["BatchFunction"]["Properties"]["Events"].values()
    assert [event["Type"] for event in batch_events] == ["Schedule"]


def test_only_the_batch_and_its_steps_write_and_only_their_own_keys() -> None:
    bucket = "arn:${AWS::Partition}:s3:::${ForecastBucket}"
    for name, function in resources_of_type(template, "AWS::Serverless::Function").items():
        statements = [s for p in function["Properties"]["Policies"] if "Statement" in p for s in p["Statement"]]
        templates = {key for p in function["Properties"]["Policies"] for key in p if key != "Statement"}
        assert templates <= {"S3ReadPolicy"}, name
        writes = [s for s in statements if s["Effect"] == "Allow" and s["Action"] != "s3:GetObject"]
        if name == "BatchFunction":
            assert writes == [
                {"Sid": "WriteForecastsOnly", "Effect": "Allow", "Action": "s3:PutObject",
                 "Resource": [{"Fn::Sub": f"{bucket}/forecasts/*"}, {"Fn::Sub": f"{bucket}/monitoring/*"}]},
                {"Sid": "ListForecastBucket", "Effect": "Allow", "Action": "s3:ListBucket",
                 "Resource": {"Fn::Sub": bucket}},
                {"Sid": "DeadLetterQueueKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": {"Fn::GetAtt": ["OpsKey", "Arn"]}},
            ]
        elif name in STEP_WRITES:
            puts = [s for s in writes if s["Action"] == "s3:PutObject"]
            assert [r["Fn::Sub"].removeprefix(f"{bucket}/") for s in puts for r in as_list(s["Resource"])] == \
                STEP_WRITES[name], name
            others = [s["Sid"] for s in writes if s["Action"] != "s3:PutObject"]
            assert others == (["ListForecastBucket"] if name != "BatchShardFunction" else []), name
        else:
            assert writes == [], name


def test_the_night_may_read_the_state_pointer_and_the_committed_state_it_reads() -> None:
    # The single function and the plan step read the pointer and the committed history state (a delta feed is
    # appended to it; the monitor scores against it); the commit step reads the pointer (it never moves it back).
    # moto does not enforce IAM, so only this test stands between a missing grant and a failed night in AWS.
    bucket = "arn:${AWS::Partition}:s3:::${ForecastBucket}"
    functions = resources_of_type(template, "AWS::Serverless::Function")
    needed = {"BatchFunction": {"forecasts/state/latest.json", "forecasts/run_date=*/history_state.npz"},
              "BatchPlanFunction": {"forecasts/state/latest.json", "forecasts/run_date=*/history_state.npz"},
              "BatchCommitFunction": {"forecasts/state/latest.json"}}
    for name, keys in needed.items():
        statements = [s for p in functions[name]["Properties"]["Policies"] if "Statement" in p for s in p["Statement"]]
        readable = {r["Fn::Sub"].removeprefix(f"{bucket}/") for s in statements if s["Action"] == "s3:GetObject"
                    for r in as_list(s["Resource"])}
        assert keys <= readable, name


STEP_WRITES = {
    "BatchPlanFunction": ["forecasts/run_date=*/history_state.npz", "forecasts/run_date=*/horizon_covariates.npz"],
    "BatchShardFunction": ["forecasts/run_date=*/part-*.csv"],
    "BatchCommitFunction": ["forecasts/run_date=*/totals.csv", "forecasts/run_date=*/summary.json",
                            "forecasts/state/latest.json", "monitoring/*"],
}
"""The keys each step of the nightly state machine may write: the plan its state, a shard its part, the commit
the totals, the marker, the pointer and the accuracy report."""


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_the_api_reads_only_the_history_state_of_the_forecast_bucket() -> None:
    api = resources_of_type(template, "AWS::Serverless::Function")["ApiFunction"]["Properties"]
    statements = [s for p in api["Policies"] if "Statement" in p for s in p["Statement"]]
    bucket = "arn:${AWS::Partition}:s3:::${ForecastBucket}"
    assert statements == [{"Sid": "ReadHistoryStateOnly", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [
        {"Fn::Sub": f"{bucket}/forecasts/state/latest.json"},
        {"Fn::Sub": f"{bucket}/forecasts/run_date=*/history_state.npz"},
    ]}]
    assert [p["S3ReadPolicy"]["BucketName"] for p in api["Policies"] if "S3ReadPolicy" in p] == [{"Ref": "ModelBucket"}]
    assert api["Environment"]["Variables"]["FORECAST_BUCKET"] == {"Ref": "ForecastBucket"}


def test_handlers_and_layer_folders_exist() -> None:
    for name, function in resources_of_type(template, "AWS::Serverless::Function").items():
        module, _, attribute = function["Properties"]["Handler"].partition(".")
        source = (REPO_ROOT / function["Properties"]["CodeUri"] / f"{module}.py").read_text()
        assert re.search(rf"^(def {attribute}\(|{attribute} = )", source, re.MULTILINE), name
    for layer in resources_of_type(template, "AWS::Serverless::LayerVersion").values():
        assert (REPO_ROOT / layer["Properties"]["ContentUri"]).is_dir()
    assert (REPO_ROOT / "layers/core/python/rossmann_core/__init__.py").is_file()
