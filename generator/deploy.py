"""Publish a built site to S3 + CloudFront and sync its catalog to the table.

Order is what keeps the live site whole: new assets, then the catalog (so the
API knows a product before its page is visible), then pages deepest first,
then the sitemap, and only then deletions. Stopping anywhere leaves old pages
next to the assets they reference, so a rerun simply finishes the job.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from functions import store
from functions.catalog import Catalog, CatalogError
from functions.catalog import load as load_catalog
from generator import deploy_catalog
from generator.deploy_aws import (
    DeployError,
    Progress,
    Targets,
    client,
    delete_all,
    explain,
    invalidate,
    put_all,
    read_bucket,
)
from generator.deploy_catalog import CatalogDiff
from generator.deploy_plan import Plan, human_size, make_plan, scan
from generator.local_env import reachable

__all__ = ["DeployError", "DeployReport", "Targets", "deploy"]

T = TypeVar("T")
STILL_WORKS = "the live site still works (old pages and the assets they use are in place); run deploy again"


@dataclass(frozen=True)
class DeployReport:
    """What a deploy did (or, in a dry run, would do)."""

    site: Path
    targets: Targets
    plan: Plan
    catalog: CatalogDiff
    dry_run: bool
    seconds: float
    invalidation_id: str | None = None

    def summary(self) -> str:
        """What a deploy did, in four lines."""
        plan, t = self.plan, self.targets
        uploaded = f"uploaded {len(plan.uploads)} files"
        if plan.uploads:
            uploaded += (f" ({human_size(plan.upload_bytes)}; {len(plan.new)} new, "
                         f"{len(plan.uploads) - len(plan.new)} changed)")
        lines = [f"deployed {self.site} to s3://{t.bucket} in {self.seconds:.2f}s",
                 f"  {uploaded}, skipped {len(plan.skipped)} unchanged, deleted {len(plan.deletes)}",
                 f"  catalog → table {t.table}: {self.catalog.summary()} (sold counters untouched)",
                 f"  {self._invalidation()}"]
        return "\n".join(lines)

    def _invalidation(self) -> str:
        paths = self.plan.invalidation
        if not paths:
            return "invalidation: none (no page changed)"
        if not self.targets.distribution_id:
            return "invalidation: skipped (no distribution: set CHUCHUANG_DISTRIBUTION_ID or deploy.distribution_id)"
        shown = " ".join(paths) if len(paths) <= 4 else " ".join(paths[:4]) + " …"
        verb = "would invalidate" if self.dry_run else f"invalidation {self.invalidation_id}:"
        return f"{verb} {len(paths)} path{'s' * (len(paths) != 1)} on {self.targets.distribution_id} ({shown})"

    def plan_text(self) -> str:
        """The ``--dry-run`` output: every upload in order, deletions, invalidation and catalog changes."""
        plan, t = self.plan, self.targets
        out = [f"dry run, nothing changed: {self.site} → s3://{t.bucket}, table {t.table}, "
               f"distribution {t.distribution_id or '(none)'}",
               f"upload {len(plan.uploads)} files ({human_size(plan.upload_bytes)}), in this order:"]
        for step in plan.steps:
            for f in step.files:
                state = "new" if f.key in plan.new else "changed"
                out.append(f"  {step.name:<8} {state:<8} {f.key}  [{f.content_type}; {f.cache_control}]")
        out.append(f"skip {len(plan.skipped)} unchanged files")
        out.append(f"delete {len(plan.deletes)} files (after every upload):")
        out += [f"  {key}" for key in plan.deletes]
        out.append(self._invalidation())
        if plan.invalidation:
            out += [f"  {path}" for path in plan.invalidation]
        out.append(f"catalog → table {t.table}: {self.catalog.summary()}")
        out += [f"  {change}" for change in self.catalog.changes]
        return "\n".join(out)


def deploy(site: Path, catalog_path: Path, targets: Targets, *, dry_run: bool = False, jobs: int = 8,
           s3: Any = None, cloudfront: Any = None) -> DeployReport:
    """Publish ``site`` and sync ``catalog_path``; with ``dry_run`` only read and plan. Raises DeployError."""
    started = time.perf_counter()
    if not (site / "index.html").is_file():
        raise DeployError(f"{site} has no index.html: refusing to publish an empty or partial site "
                          "(it would delete the live pages)")
    catalog = _read_catalog(catalog_path)
    if targets.endpoint and not reachable(targets.endpoint):
        raise DeployError(f"no AWS endpoint answers at {targets.endpoint} (AWS_ENDPOINT_URL)")
    s3 = s3 or client("s3", targets, jobs)
    cloudfront = cloudfront or client("cloudfront", targets, jobs)
    with _table_environment(targets):
        local = scan(site)
        remote = _step(targets, "cannot read the bucket", partial(read_bucket, s3, targets.bucket, local, jobs))
        plan = make_plan(local, remote)
        if targets.distribution_id:
            _step(targets, "cannot read the distribution",
                  partial(cloudfront.get_distribution, Id=targets.distribution_id))
        diff = _step(targets, "cannot read the table",
                     lambda: deploy_catalog.diff(catalog, deploy_catalog.table_products()))
        if dry_run:
            return DeployReport(site, targets, plan, diff, True, time.perf_counter() - started)
        invalidation = _publish(plan, catalog, targets, s3, cloudfront, jobs)
    return DeployReport(site, targets, plan, diff, False, time.perf_counter() - started, invalidation)


def _publish(plan: Plan, catalog: Catalog, targets: Targets, s3: Any, cloudfront: Any, jobs: int) -> str | None:
    """Assets, catalog, pages (deepest first), sitemap, deletions, invalidation; returns the invalidation id."""
    progress = Progress()

    def run(what: str, action: Callable[[], object]) -> None:
        _step(targets, lambda: f"{what} failed after {progress.uploaded} of {len(plan.uploads)} uploads", action,
              after=f"; {STILL_WORKS}")

    assets = [step for step in plan.steps if step.name == "assets"]
    for step in assets:
        run("uploading assets", partial(put_all, s3, targets.bucket, step.files, jobs, progress))
    run("syncing the catalog", partial(store.sync_catalog, catalog))
    for step in plan.steps:
        if step not in assets:
            run(f"uploading {step.name}", partial(put_all, s3, targets.bucket, step.files, jobs, progress))
    run("deleting files that left the site", partial(delete_all, s3, targets.bucket, plan.deletes))
    if not (plan.invalidation and targets.distribution_id):
        return None
    return _step(targets, "the site is published but the CloudFront invalidation failed",
                 partial(invalidate, cloudfront, targets.distribution_id, plan.invalidation),
                 after="; edge copies of changed pages expire on their own within seconds (max-age=0)")


def _read_catalog(path: Path) -> Catalog:
    try:
        return load_catalog(path)
    except FileNotFoundError:
        raise DeployError(f"no catalog at {path} (build first, or pass --catalog)") from None
    except (CatalogError, OSError, ValueError) as exc:
        raise DeployError(f"{path}: {exc}") from None


@contextmanager
def _table_environment(targets: Targets) -> Iterator[None]:
    """Point :mod:`functions.store` (which reads the environment) at the target table and region."""
    names = ("CHUCHUANG_TABLE", "AWS_DEFAULT_REGION")
    saved = {name: os.environ.get(name) for name in names}
    moved = saved["AWS_DEFAULT_REGION"] != targets.region   # store's cached clients keep their region
    os.environ.update(CHUCHUANG_TABLE=targets.table, AWS_DEFAULT_REGION=targets.region)
    if moved:
        store.reset()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if moved:
            store.reset()


def _step(targets: Targets, what: str | Callable[[], str], action: Callable[[], T], after: str = "") -> T:
    """Run one step; any AWS or local failure becomes a one-line DeployError saying ``what`` failed."""
    try:
        return action()
    except DeployError as exc:
        reason = str(exc)
    except (BotoCoreError, ClientError, OSError, RuntimeError) as exc:
        reason = explain(exc, targets)
    raise DeployError(f"{what() if callable(what) else what}: {reason}{after}")
