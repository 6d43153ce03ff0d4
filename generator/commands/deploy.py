"""``chuchuang deploy [--dry-run] [--from DIR] [--out DIR] [--catalog PATH]``: build, publish, sync."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.build import BuildOptions, build
from generator.config import SiteConfig, load_config
from generator.diagnostics import BuildError

DESCRIPTION = """\
Build the site (or take --from DIR), upload to the S3 bucket only the files whose content or headers
changed, delete the files that left the site, invalidate the changed paths in CloudFront and sync
catalog.json to the DynamoDB table (sold counters are kept; removed products are unpublished).
Targets come from site.yaml's deploy: section; CHUCHUANG_BUCKET, CHUCHUANG_DISTRIBUTION_ID and
CHUCHUANG_TABLE override it, and boto3 reads AWS_ENDPOINT_URL, AWS_REGION and the credentials."""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("deploy", help="build, publish to S3 + CloudFront and sync the catalog to the table",
                         description=DESCRIPTION)
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (uploads, deletions, invalidation, catalog changes) and change nothing")
    p.add_argument("--from", dest="source", type=Path, metavar="DIR", default=None,
                   help="publish this already built folder instead of building")
    p.add_argument("--out", type=Path, default=None, help="where to build (default: public/)")
    p.add_argument("--catalog", type=Path, default=None,
                   help="catalog.json to write and sync (default: beside the site folder)")
    p.add_argument("--jobs", type=int, default=8, help="parallel uploads (default: 8)")
    p.set_defaults(run=run)


def _fail(message: str, code: int = 1) -> int:
    print(f"chuchuang deploy: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    """0 deployed (or planned), 1 content, input or AWS errors (one line), 2 usage errors."""
    from generator.deploy import (  # boto3: imported only when deploying
        DeployError,
        Targets,
        deploy,
    )

    if args.source is not None and args.out is not None:
        return _fail("--from DIR publishes a folder as it is; --out only says where to build", 2)
    if args.jobs < 1:
        return _fail("--jobs must be 1 or more", 2)
    root = Path(args.root)
    site = args.source if args.source is not None else (args.out or root / "public")
    catalog = args.catalog if args.catalog is not None else site.resolve().parent / "catalog.json"
    if catalog.resolve().is_relative_to(site.resolve()):
        return _fail("--catalog must not be inside the published folder (it holds commission rates)", 2)
    if args.source is not None and not args.source.is_dir():
        return _fail(f"{args.source} is not a folder")
    config: SiteConfig | None = None
    if args.source is None or (root / "site.yaml").exists():
        config, report = load_config(root / "site.yaml")
        if config is None:
            print(report.format(), file=sys.stderr)
            return _fail(f"{len(report.errors)} errors in site.yaml; nothing was deployed")
    targets = Targets.resolve(config.deploy if config else None)
    if not targets.bucket:
        return _fail("no bucket to deploy to: set deploy.bucket in site.yaml or CHUCHUANG_BUCKET")
    if args.source is None:
        try:
            result = build(BuildOptions(root=root, out=site, catalog=catalog))
        except BuildError as exc:
            print(exc.report.format(), file=sys.stderr)
            return _fail(f"build failed: {len(exc.report.errors)} errors; nothing was deployed")
        print(result.summary(), file=sys.stderr)
    try:
        report = deploy(site, catalog, targets, dry_run=args.dry_run, jobs=args.jobs)
    except DeployError as exc:
        return _fail(str(exc))
    print(report.plan_text() if args.dry_run else report.summary())
    return 0
