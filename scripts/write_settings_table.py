"""Rewrite the settings table of docs/operations.md from ``rossmann_core.serving.settings.SETTINGS``.

The table lives between ``<!-- generated:settings -->`` and ``<!-- /generated:settings -->``; ``--check`` writes
nothing and exits 1 when it differs from what SETTINGS gives (tests/unit/test_settings_table.py runs it).

    .venv/bin/python scripts/write_settings_table.py [--doc docs/operations.md] [--check]
"""

import argparse
import sys
from pathlib import Path

from rossmann_core.serving.settings import SETTINGS, Setting
from scripts.write_results import replace_block, settle, table

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOC = REPO_ROOT / "docs" / "operations.md"
BLOCK = "settings"
READERS = {"api": "API", "batch": "batch"}


def reader_text(setting: Setting) -> str:
    """Who reads ``setting`` and who needs it, e.g. ``API, batch (required by batch)``."""
    readers = ", ".join(READERS[r] for r in setting.readers)
    if not setting.required_by:
        return readers
    return f"{readers} (required by {', '.join(READERS[r] for r in setting.required_by)})"


def settings_table(settings: tuple[Setting, ...] = SETTINGS) -> list[str]:
    """The Markdown table of every setting: variable, read by, default, meaning."""
    rows = [[f"`{s.name}`", reader_text(s), s.default or "required", s.meaning] for s in settings]
    return table(["Variable", "Read by", "Default", "Meaning"], rows)


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` only compare) the table; 1 when ``--check`` finds it stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the table is stale")
    args = parser.parse_args(argv)
    text = args.doc.read_text()
    return settle(args.doc, text, replace_block(text, BLOCK, settings_table()), args.check,
                  "scripts/write_settings_table.py")


if __name__ == "__main__":
    sys.exit(main())
