"""One home for the settings: the table in docs/operations.md is generated from SETTINGS, and template.yaml
sets only settings SETTINGS knows, on functions that read them, and every setting a function needs."""

from typing import Any

import pytest

from rossmann_core.serving.settings import SETTINGS
from scripts.stack.template import REPO_ROOT, load_template, resources_of_type
from scripts.write_settings_table import DEFAULT_DOC, main, settings_table

ROLE_OF_CODE = {"functions/api": "api", "functions/batch": "batch"}


def function_environments() -> dict[str, tuple[str, set[str]]]:
    """Logical id -> (its role, the environment variable names it gets: Globals' and its own)."""
    template = load_template()
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    found = {}
    for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
        properties: dict[str, Any] = function["Properties"]
        own = set(properties.get("Environment", {}).get("Variables", {}))
        found[logical_id] = (ROLE_OF_CODE[properties["CodeUri"].rstrip("/")], shared | own)
    return found


def test_the_docs_table_is_the_generated_one() -> None:
    assert main(["--check"]) == 0, "run .venv/bin/python scripts/write_settings_table.py"
    assert all(f"`{s.name}`" in DEFAULT_DOC.read_text() for s in SETTINGS)


def test_the_table_names_every_setting_once_with_its_readers() -> None:
    lines = settings_table()
    assert len(lines) == 2 + len(SETTINGS) and len({s.name for s in SETTINGS}) == len(SETTINGS)
    registry = next(line for line in lines if "`MODEL_REGISTRY`" in line)
    assert "required by API, batch" in registry


@pytest.mark.parametrize(("logical_id", "role", "names"),
                         [(k, *v) for k, v in sorted(function_environments().items())])
def test_the_template_sets_known_settings_that_its_function_reads(logical_id: str, role: str, names: set[str]) -> None:
    known = {s.name: s for s in SETTINGS}
    assert names <= set(known), f"{logical_id} sets {sorted(names - set(known))}, which SETTINGS does not list"
    assert all(role in known[name].readers for name in names), f"{logical_id} gets settings it never reads"
    required = {s.name for s in SETTINGS if role in s.required_by}
    assert required <= names, f"{logical_id} lacks {sorted(required - names)}"


def test_a_stale_table_is_caught(tmp_path: Any) -> None:
    doc = tmp_path / "operations.md"
    doc.write_text("# Ops\n<!-- generated:settings -->\n| old |\n<!-- /generated:settings -->\n")
    assert main(["--doc", str(doc), "--check"]) == 1
    assert main(["--doc", str(doc)]) == 0 and main(["--doc", str(doc), "--check"]) == 0
    assert str(REPO_ROOT) not in doc.read_text()
