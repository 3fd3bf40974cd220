"""TensorFlow is training-only: nothing under functions/ or layers/ imports it."""

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRAINING_ONLY = ("tensorflow", "keras", "tf2onnx")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_serving_source_imports_tensorflow() -> None:
    sources = [*REPO.glob("functions/**/*.py"), *REPO.glob("layers/**/*.py")]
    assert any(path.name == "sequences.py" for path in sources)
    offenders = {str(path.relative_to(REPO)): sorted(imported_modules(path) & set(TRAINING_ONLY)) for path in sources}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_lstm_serving_modules_load_without_tensorflow() -> None:
    script = (
        "import json, sys\n"
        "import rossmann_core.models.forecast, rossmann_core.models.lstm_runtime, rossmann_core.features.sequences\n"
        f"print(json.dumps([m for m in {TRAINING_ONLY!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(result.stdout) == []
