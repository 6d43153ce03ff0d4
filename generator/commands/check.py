"""``chuchuang check [PATHS...] [--format text|json]``: validate only; exit 1 on any error."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.config import load_config
from generator.content import read_content


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("check", help="validate site.yaml and content without writing anything")
    p.add_argument("paths", nargs="*", type=Path,
                   help="only report problems in these files or folders (the whole site is still read)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    config, report = load_config(root / "site.yaml")
    products = creators = 0
    if config is not None:
        only = _expand(args.paths) if args.paths else None
        content, content_report = read_content(root / "content", config, only=only)
        report.extend(content_report)
        products, creators = len(content.products), len(content.creators)
    if args.format == "json":
        print(report.format("json"))
    elif report.items:
        print(report.format(), file=sys.stderr)
    if args.format == "text":
        errors = len(report.errors)
        status = f"{errors} error{'s' * (errors != 1)}" if errors else "ok"
        print(f"checked {creators} creators, {products} products: {status}", file=sys.stderr)
    return 0 if report.ok else 1


def _expand(paths: list[Path]) -> set[Path]:
    files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files.update(p for p in path.rglob("*") if p.is_file())
            files.add(path)
        else:
            files.add(path)
    return files
