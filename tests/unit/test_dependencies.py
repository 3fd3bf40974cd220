"""Dependencies are declared once in pyproject.toml's groups; the requirement files pip, SAM and the layer
builds read pin exactly those, and no package is pinned at two versions."""

import tomllib
from pathlib import Path

from scripts.stack.template import REPO_ROOT

GROUP_FILES = {
    "serving": ("layers/runtime/requirements.txt", "functions/api/requirements.txt",
                "functions/batch/requirements.txt"),
    "training": ("training/requirements.txt",),
    "dev": ("requirements-dev.txt",),
}
INCLUDES = {
    "training/requirements.txt": {"layers/runtime/requirements.txt"},
    "requirements-dev.txt": {"training/requirements.txt", "functions/api/requirements.txt"},
}


def groups() -> dict[str, list[str]]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def own_pins(path: str) -> list[str]:
    """The requirement lines of one file, comments and ``-r`` includes left out."""
    lines = [line.split("#")[0].strip() for line in (REPO_ROOT / path).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-r")]


def includes(path: str) -> set[str]:
    """The files ``path`` includes with ``-r``, relative to the repository."""
    base = (REPO_ROOT / path).parent
    lines = [line.strip() for line in (REPO_ROOT / path).read_text().splitlines()]
    found = {(base / line.removeprefix("-r").strip()).resolve() for line in lines if line.startswith("-r")}
    return {str(Path(p).relative_to(REPO_ROOT)) for p in found}


def test_each_group_is_exactly_what_its_requirement_files_pin() -> None:
    declared = groups()
    for group, files in GROUP_FILES.items():
        pinned = [pin for path in files for pin in own_pins(path)]
        assert sorted(pinned) == sorted(declared[group]), f"{group}: {files} differ from pyproject.toml"


def test_every_requirement_is_pinned_once_at_one_version() -> None:
    versions: dict[str, set[str]] = {}
    for pins in groups().values():
        for pin in pins:
            name, _, version = pin.partition("==")
            assert version, f"{pin} is not pinned with =="
            versions.setdefault(name.split("[")[0].lower(), set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}


def test_the_files_include_each_other_as_the_groups_stack() -> None:
    for path, expected in INCLUDES.items():
        assert includes(path) == expected, path
    for path in GROUP_FILES["serving"]:
        assert includes(path) == set(), f"{path} is read by SAM alone: it may include nothing"
