"""``chuchuang``: one entry point, one module per verb in ``generator.commands``.

Exit codes: 0 ok, 1 content or input errors (reported, nothing written),
2 usage errors.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from generator import __version__
from generator.local_env import use_serve_backend

VERBS = ("new", "check", "build", "serve", "deploy", "commissions")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="chuchuang", description="A creator's shop window, from Markdown to orders.")
    root.add_argument("--version", action="version", version=f"chuchuang {__version__}")
    root.add_argument("-C", "--root", default=".", help="the site folder (holding site.yaml); default: current folder")
    verbs = root.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    for verb in VERBS:
        try:
            module = importlib.import_module(f"generator.commands.{verb}")
        except ModuleNotFoundError as exc:
            if exc.name != f"generator.commands.{verb}":
                raise
            continue
        sub = module.add_parser(verbs)
        if sub is not None and sub.get_default("run") is None:
            sub.set_defaults(run=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.verb in ("commissions", "deploy"):
        use_serve_backend(Path(args.root))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
