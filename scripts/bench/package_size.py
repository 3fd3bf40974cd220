"""Unzipped size of the API function plus its two layers, built with plain ``pip install --target``.

No SAM and no local Python 3.12 needed: pip fetches the Lambda (cp312, manylinux x86_64) wheels of
the pinned requirements, the code is copied, nothing is pruned, so this is an upper bound of what
``scripts/build_package.sh`` (sam build, pruned runtime layer) deploys. Prints the breakdown by
package and exits 1 above the budget.

    .venv/bin/python scripts/bench/package_size.py [--out build/package] [--limit-mb 150]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.stack.package import MB, package_bytes, tree_bytes

REPO = Path(__file__).resolve().parents[2]
PLATFORM_ARGS = [
    "--platform", "manylinux_2_34_x86_64", "--platform", "manylinux_2_28_x86_64",
    "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
    "--python-version", "3.12", "--implementation", "cp", "--only-binary=:all:",
]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def pip_target(requirements: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         *PLATFORM_ARGS, "--target", str(target), "-r", str(requirements)],
        check=True,
    )


def build(out: Path) -> dict[str, Path]:
    """The three deployed folders: function code + its requirements, core layer, runtime layer."""
    folders = {"ApiFunction": out / "function", "CoreLayer": out / "core" / "python",
               "RuntimeLayer": out / "runtime" / "python"}
    shutil.copytree(REPO / "functions" / "api", folders["ApiFunction"], ignore=IGNORED)
    pip_target(REPO / "functions" / "api" / "requirements.txt", folders["ApiFunction"])
    shutil.copytree(REPO / "layers" / "core" / "python", folders["CoreLayer"], ignore=IGNORED)
    pip_target(REPO / "layers" / "runtime" / "requirements.txt", folders["RuntimeLayer"])
    return folders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="build folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--limit-mb", type=float, default=150.0)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="api-package-"))
    if args.out and out.exists():
        shutil.rmtree(out)
    try:
        folders = build(out)
        rows = [(name, entry, size) for name, folder in folders.items()
                for entry, size in package_bytes(folder).items()]
        total = sum(size for *_, size in rows)
        print(f"API function + layers (pip --target, unpruned), unzipped: {total / MB:.1f} MB "
              f"(limit {args.limit_mb:g} MB)")
        for name, folder in folders.items():
            print(f"  {name:<13} {tree_bytes(folder) / MB:7.1f} MB")
        print("  by package:")
        for name, entry, size in sorted(rows, key=lambda row: -row[2])[: args.top]:
            print(f"    {size / MB:7.1f} MB  {name}/{entry}")
        rest = sorted(rows, key=lambda row: -row[2])[args.top:]
        print(f"    {sum(r[2] for r in rest) / MB:7.1f} MB  {len(rest)} smaller entries")
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    return 0 if total <= args.limit_mb * MB else 1


if __name__ == "__main__":
    sys.exit(main())
