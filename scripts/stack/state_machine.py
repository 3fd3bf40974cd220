"""Local emulation of the nightly state machine: template.yaml's definition walked in order, in-process.

``execute(event, env)`` reads ``NightlyStateMachine``'s ASL definition from the file its ``DefinitionUri`` names
(``functions/batch/statemachine.asl.json``), maps each Task's ``Resource`` (a ``${...}`` substitution) to its
function's ``Handler`` in ``batch_lambda`` and runs the states as Step Functions would pass data: a Task's input is
the state's input and its result the output; a Map runs its ``ItemProcessor`` for each item at ``ItemsPath`` (one
after another here, up to ``MaxConcurrency`` at once in AWS) and puts the results at ``ResultPath``. Supported:
Task, Map (INLINE), Succeed, Fail, and the paths ``$`` and ``$.key``; a task that raises fails the execution at once
(Retry is not emulated: locally a failure is not transient). With a moto S3 server (``scripts/local_up.sh``):

    .venv/bin/python -m scripts.stack.state_machine --run-date 2015-06-21 [--shard-stores 300]

runs plan, every shard and commit against the local stack of ``--state-dir`` (its ``env`` file).
"""

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rossmann_core.errors import RossmannError

from .template import REPO_ROOT, load_template

STATE_MACHINE = "NightlyStateMachine"
BATCH_ENTRY = "batch_lambda"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ExecutionFailedError(RossmannError):
    """A state of the emulated execution failed; the message names the state and the error."""


@dataclass(frozen=True)
class LambdaContext:
    """What the handlers and Powertools read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-central-1:123456789012:function:{self.function_name}"


def definition_path(template: dict[str, Any] | None = None) -> Path:
    """The ASL file the template's ``DefinitionUri`` names, relative to the repository."""
    return REPO_ROOT / (template or load_template())["Resources"][STATE_MACHINE]["Properties"]["DefinitionUri"]


def definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state machine's ASL definition as deployed (``${...}`` substitutions left in place)."""
    return json.loads(definition_path(template).read_text())


def task_functions(template: dict[str, Any] | None = None) -> dict[str, str]:
    """``${Name}`` of each DefinitionSubstitution -> the logical id of the function it names (``!GetAtt F.Arn``)."""
    template = template or load_template()
    substitutions = template["Resources"][STATE_MACHINE]["Properties"]["DefinitionSubstitutions"]
    return {f"${{{name}}}": value["Fn::GetAtt"][0] for name, value in substitutions.items()}


def handlers(template: dict[str, Any] | None = None) -> dict[str, tuple[str, Handler, int]]:
    """``${Name}`` -> (function logical id, its handler in ``batch_lambda``, its MemorySize)."""
    template = template or load_template()
    entry = importlib.import_module(BATCH_ENTRY)
    found = {}
    for resource, logical_id in task_functions(template).items():
        properties = template["Resources"][logical_id]["Properties"]
        module, _, attribute = properties["Handler"].partition(".")
        if module != BATCH_ENTRY or properties["CodeUri"].rstrip("/") != "functions/batch":
            raise ExecutionFailedError(f"{logical_id} is not a handler of functions/batch/{BATCH_ENTRY}.py")
        found[resource] = (logical_id, getattr(entry, attribute), int(properties["MemorySize"]))
    return found


def path_key(path: str) -> str | None:
    """None for ``$``, ``key`` for ``$.key``; ExecutionFailedError for any other JSONPath."""
    if path == "$":
        return None
    key = path.removeprefix("$.")
    if key == path or not key or any(c in key for c in ".[*@"):
        raise ExecutionFailedError(f"path {path!r}: the emulator supports only $ and $.key")
    return key


def path_get(data: Any, path: str) -> Any:
    """``$`` or ``$.key`` of ``data``."""
    key = path_key(path)
    return data if key is None else data[key]


def with_result(data: Any, path: str | None, result: Any) -> Any:
    """The state's output: ``result`` alone (ResultPath absent or ``$``), else ``data`` with it at ``$.key``."""
    key = None if path is None else path_key(path)
    return result if key is None else {**data, key: result}


def run_states(machine: dict[str, Any], data: Any, tasks: dict[str, tuple[str, Handler, int]],
               trace: list[dict[str, Any]]) -> Any:
    """Run ``machine`` (a definition or a Map's ItemProcessor) from StartAt to its end; its output."""
    name = machine["StartAt"]
    while True:
        state = machine["States"][name]
        kind = state["Type"]
        started = time.perf_counter()
        if kind == "Task":
            logical_id, handler, memory = tasks[state["Resource"]]
            context = LambdaContext(logical_id, memory, f"local-{uuid.uuid4().hex[:12]}")
            try:
                result = handler(data, context)
            except Exception as error:
                raise ExecutionFailedError(f"state {name} ({logical_id}) failed: {type(error).__name__}: {error}") \
                    from error
        elif kind == "Map":
            processor = state["ItemProcessor"]
            if processor.get("ProcessorConfig", {}).get("Mode", "INLINE") != "INLINE":
                raise ExecutionFailedError(f"state {name}: only inline Map states are emulated")
            result = [run_states(processor, item, tasks, trace) for item in path_get(data, state["ItemsPath"])]
        elif kind == "Succeed":
            return data
        elif kind == "Fail":
            raise ExecutionFailedError(f"state {name} failed: {state.get('Error')}: {state.get('Cause')}")
        else:
            raise ExecutionFailedError(f"state {name}: type {kind} is not emulated")
        trace.append({"state": name, "type": kind, "seconds": round(time.perf_counter() - started, 3)})
        data = with_result(data, state.get("ResultPath"), result)
        if state.get("End"):
            return data
        name = state["Next"]


def execute(event: dict[str, Any], env: dict[str, str] | None = None,
            trace: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run one execution of the nightly state machine on ``event`` with ``env`` added to the environment;
    the last state's output (the commit's summary). ``trace`` collects (state, type, seconds) per state run."""
    os.environ.update(env or {})
    template = load_template()
    return run_states(definition(template), event, handlers(template), [] if trace is None else trace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack.state_machine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-date", required=True, help="YYYY-MM-DD")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("LOCAL_STATE_DIR", REPO_ROOT / ".local")))
    parser.add_argument("--shard-stores", type=int, help="stores per shard (default: the SHARD_STORES default)")
    args = parser.parse_args(argv)
    env_file = args.state_dir / "env"
    if not env_file.is_file():
        parser.error(f"{env_file} is missing: start the local stack first (scripts/local_up.sh)")
    env = dict(line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines() if line)
    env["MODEL_CACHE_DIR"] = str(args.state_dir / "cache" / "steps")
    if args.shard_stores:
        env["SHARD_STORES"] = str(args.shard_stores)
    trace: list[dict[str, Any]] = []
    try:
        summary = execute({"run_date": args.run_date}, env, trace)
    except ExecutionFailedError as error:
        print(f"execution failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"states": trace, "summary": {k: summary[k] for k in (
        "run_date", "origin", "rows", "stores", "shards", "parts", "duration_seconds", "output")}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
