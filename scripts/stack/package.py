"""Size check of the ``sam build`` output: a function plus its layers, unzipped, against a budget.

``python -m scripts.stack.package --build-dir .aws-sam/build --function ApiFunction --limit-mb 150`` prints
the breakdown by folder and by top-level package and exits 1 when the total exceeds the limit
(Lambda's hard limit is 250 MB; the budget leaves room for a growing model runtime).
"""

import argparse
import sys
from pathlib import Path

from .template import load_template

MB = 1_000_000


def tree_bytes(path: Path) -> int:
    """Bytes of all regular files under ``path`` (symlinks not followed)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def package_bytes(folder: Path) -> dict[str, int]:
    """Bytes per top-level entry of ``folder`` (a package, module or dist-info folder)."""
    return {p.name: tree_bytes(p) if p.is_dir() else p.stat().st_size for p in folder.iterdir()}


def deployed_folders(build_dir: Path, function: str) -> dict[str, Path]:
    """The function's code folder and its layers' ``python/`` folders, as the built template names them."""
    template = load_template(build_dir / "template.yaml")
    resources = template["Resources"]
    properties = resources[function]["Properties"]
    layers = properties.get("Layers") or template.get("Globals", {}).get("Function", {}).get("Layers", [])
    folders = {function: build_dir / properties["CodeUri"]}
    for layer in layers:
        name = layer["Ref"]
        folders[name] = (build_dir / resources[name]["Properties"]["ContentUri"]).resolve() / "python"
    return folders


def report(build_dir: Path, function: str, limit_mb: float, top: int = 12) -> bool:
    """Print the breakdown; True when the total is within ``limit_mb``."""
    folders = deployed_folders(build_dir, function)
    rows = [(name, entry, size) for name, folder in folders.items() for entry, size in package_bytes(folder).items()]
    total = sum(size for *_, size in rows)
    print(f"{function} + layers, unzipped: {total / MB:.1f} MB (limit {limit_mb:g} MB)")
    for name, folder in folders.items():
        print(f"  {name:<16} {tree_bytes(folder) / MB:7.1f} MB  {folder}")
    print("  largest packages:")
    for name, entry, size in sorted(rows, key=lambda row: -row[2])[:top]:
        print(f"    {size / MB:7.1f} MB  {name}/{entry}")
    return total <= limit_mb * MB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack.package", description=__doc__)
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--function", default="ApiFunction")
    parser.add_argument("--limit-mb", type=float, default=150.0)
    args = parser.parse_args(argv)
    return 0 if report(args.build_dir, args.function, args.limit_mb) else 1


if __name__ == "__main__":
    sys.exit(main())
