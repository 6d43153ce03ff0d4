"""``chuchuang build [--out DIR] [--clean] [--jobs N] [--base-url URL]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.build import BuildOptions, build
from generator.diagnostics import BuildError


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("build", help="build the showcase (incremental) and catalog.json")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: public/)")
    p.add_argument("--catalog", type=Path, default=None,
                   help="where to write catalog.json (default: beside the output folder, never inside it)")
    p.add_argument("--clean", action="store_true", help="ignore the previous build and render every page")
    p.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core)")
    p.add_argument("--base-url", default=None, help="override site.yaml base_url, e.g. for a preview under a sub-path")
    p.add_argument("--format", choices=("text", "json"), default="text", help="diagnostics format")
    p.set_defaults(run=run)


def options_from(args: argparse.Namespace) -> BuildOptions:
    root = Path(args.root)
    out = args.out if args.out is not None else root / "public"
    catalog = args.catalog if args.catalog is not None else out.resolve().parent / "catalog.json"
    return BuildOptions(root=root, out=out, catalog=catalog, clean=args.clean, jobs=args.jobs,
                        base_url=args.base_url)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        print("chuchuang build: --jobs must be 0 (one per core) or more", file=sys.stderr)
        return 2
    options = options_from(args)
    if options.catalog.resolve().is_relative_to(options.out.resolve()):
        print("chuchuang build: --catalog must not be inside the published folder", file=sys.stderr)
        return 2
    try:
        result = build(options)
    except BuildError as exc:
        print(exc.report.format(args.format), file=sys.stderr if args.format == "text" else sys.stdout)
        print(f"build failed: {len(exc.report.errors)} errors; nothing was written", file=sys.stderr)
        return 1
    print(result.summary(), file=sys.stderr)
    return 0
