"""SnapStart: the template enables it for the API, and under it the model is loaded before init ends."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack.template import REPO_ROOT, load_template

LOADED_AFTER_IMPORT = """
import json, sys, threading
started = []
start = threading.Thread.start
threading.Thread.start = lambda thread: (started.append(thread.name), start(thread))[1]
import api_lambda
from forecast_api import model_state
loaded = model_state.loaded_version()
computed = sorted(set(vars(model_state.get_servable())) & {"origin_stats", "assumed"})
print(json.dumps({"loaded": loaded, "threads": started, "computed": computed}))
"""


def test_the_api_function_uses_snapstart_on_a_published_alias() -> None:
    api = load_template()["Resources"]["ApiFunction"]["Properties"]
    assert api["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert api["AutoPublishAlias"] == "live"


@pytest.mark.parametrize(("initialization", "in_init"), [("snap-start", True), ("on-demand", False)])
def test_under_snapstart_the_model_is_loaded_during_init(synthetic_version_dir: Path, tmp_path: Path,
                                                         initialization: str, in_init: bool) -> None:
    env = {**os.environ, "MODEL_REGISTRY": str(synthetic_version_dir.parent), "MODEL_CACHE_DIR": str(tmp_path),
           "AWS_LAMBDA_INITIALIZATION_TYPE": initialization}
    env.pop("FORECAST_BUCKET", None)
    result = subprocess.run([sys.executable, "-c", LOADED_AFTER_IMPORT], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # snap-start: loaded before import returns, so the snapshot holds it; on demand: in a background thread
    assert ("model-preload" not in answer["threads"]) is in_init
    if in_init:
        assert answer["loaded"] == synthetic_version_dir.name
    # AND what every forecast reads is in the snapshot too; on demand the first forecast computes it
    assert answer["computed"] == (["assumed", "origin_stats"] if in_init else [])
