"""template.yaml's nightly state machine: a real ASL validator accepts its definition (and refuses a broken
one), its tasks are the batch's step handlers, the payload keys match the code, and it is scheduled,
retried and alarmed."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scripts.stack.state_machine import STATE_MACHINE, definition, task_functions
from scripts.stack.template import REPO_ROOT, load_template, resources_of_type

ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"

template = load_template()
machine = template["Resources"][STATE_MACHINE]["Properties"]


def substituted(states: dict[str, Any]) -> dict[str, Any]:
    """The definition as deployed: each ``${Name}`` replaced by an ARN of the function it names."""
    text = json.dumps(states)
    for placeholder, logical_id in task_functions(template).items():
        text = text.replace(placeholder, f"arn:aws:lambda:eu-central-1:123456789012:function:{logical_id}")
    return json.loads(text)


def validate(states: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    if not ASL_VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{ASL_VALIDATOR} is missing: scripts/setup.sh runs scripts/setup_web.sh (npm ci)")
        pytest.skip("asl-validator not installed: run scripts/setup_web.sh")
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(states))
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=120)


def test_asl_validator_accepts_the_definition(tmp_path: Path) -> None:
    result = validate(substituted(definition(template)), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def next_to_a_missing_state(states: dict[str, Any]) -> None:
    states["States"]["Shards"]["Next"] = "Publish"


def task_without_resource(states: dict[str, Any]) -> None:
    del states["States"]["Commit"]["Resource"]


def bad_items_path(states: dict[str, Any]) -> None:
    states["States"]["Shards"]["ItemsPath"] = "shards"


@pytest.mark.parametrize(("breakage", "message"), [
    (next_to_a_missing_state, "Publish"), (task_without_resource, "/States/Commit"), (bad_items_path, "ItemsPath"),
])
def test_asl_validator_refuses_a_broken_definition(tmp_path: Path, breakage: Any, message: str) -> None:
    broken = substituted(definition(template))
    breakage(broken)
    result = validate(broken, tmp_path)
    assert result.returncode != 0 and message in result.stdout + result.stderr, result.stderr


def test_tasks_are_the_batch_step_handlers_with_retries() -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    handlers = {name: functions[logical_id]["Properties"]["Handler"]
                for name, logical_id in task_functions(template).items()}
    assert handlers == {"${PlanFunctionArn}": "batch_lambda.plan_handler",
                        "${ShardFunctionArn}": "batch_lambda.shard_handler",
                        "${CommitFunctionArn}": "batch_lambda.commit_handler"}
    states = definition(template)["States"]
    shard = states["Shards"]["ItemProcessor"]["States"]["Shard"]
    for task in (states["Plan"], shard, states["Commit"]):
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "States.TaskFailed"} <= retried
        assert task["TimeoutSeconds"] <= 900
    # the payload keys the code reads and writes (nightly_batch.fanout.plan_run / steps.commit)
    assert (states["Shards"]["ItemsPath"], states["Shards"]["ResultPath"]) == ("$.shards", "$.parts")
    shard_function = functions["BatchShardFunction"]["Properties"]
    assert states["Shards"]["MaxConcurrency"] == shard_function["ReservedConcurrentExecutions"]


def test_schedule_starts_one_runner_and_a_failed_execution_alarms() -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    machine_schedule = machine["Events"]["Nightly"]["Properties"]
    function_schedule = functions["BatchFunction"]["Properties"]["Events"]["Nightly"]["Properties"]
    assert machine_schedule["Schedule"] == function_schedule["Schedule"] == {"Ref": "BatchSchedule"}
    assert machine_schedule["State"] == {"Fn::If": ["ScheduleStateMachine", "ENABLED", "DISABLED"]}
    assert function_schedule["State"] == {"Fn::If": ["ScheduleStateMachine", "DISABLED", "ENABLED"]}
    alarm = template["Resources"]["NightlyStateMachineFailedAlarm"]["Properties"]
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert all(m["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": STATE_MACHINE}}]
               for m in alarm["Metrics"] if "MetricStat" in m)
    assert machine["Tracing"] == {"Enabled": True} and machine["Logging"]["Level"] == "ERROR"


def test_the_state_machine_may_invoke_only_the_three_step_functions() -> None:
    invoked = [p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in machine["Policies"] if "LambdaInvokePolicy" in p]
    assert sorted(invoked) == ["BatchCommitFunction", "BatchPlanFunction", "BatchShardFunction"]
    statements = [s for p in machine["Policies"] if "Statement" in p for s in p["Statement"]]
    assert [s["Sid"] for s in statements] == ["ExecutionLogDelivery"]
    assert all(action.startswith("logs:") for action in statements[0]["Action"])
