"""Packaging: `sam build` output fits the 150 MB budget and its handlers run on Lambda's Python 3.12."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from scripts.stack.template import REPO_ROOT


def python312() -> str:
    found = subprocess.run(["scripts/find_python312.sh"], cwd=REPO_ROOT, capture_output=True, text=True)
    if found.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(found.stderr)
        pytest.skip(found.stderr.strip())
    return found.stdout.strip()


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python312()
    build = tmp_path_factory.mktemp("sam") / "build"
    result = subprocess.run(["scripts/build_package.sh"], cwd=REPO_ROOT, env={**os.environ, "BUILD_DIR": str(build)},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    build.joinpath("size.txt").write_text(result.stdout)
    return build


def test_api_function_and_layers_fit_150_mb_unzipped(build_dir: Path) -> None:
    report = build_dir.joinpath("size.txt").read_text()
    total = float(re.search(r"ApiFunction \+ layers, unzipped: ([\d.]+) MB", report).group(1))
    assert total <= 150
    runtime = build_dir / "RuntimeLayer" / "python"
    assert (runtime / "onnxruntime").is_dir() and not list(runtime.rglob("tests"))


def test_built_handlers_serve_a_forecast_on_python_312(build_dir: Path, synthetic_version_dir: Path) -> None:
    models = synthetic_version_dir.parent
    result = subprocess.run([python312(), "-I", "scripts/stack/smoke_lambda.py", str(build_dir), str(models)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert '"python": "3.12' in result.stdout.splitlines()[-1]
