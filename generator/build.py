"""The build: config + content → model → pages + catalog → disk, atomically.

Pages are written to a staging folder beside the output and swapped in only
when everything succeeded, so a failed build leaves the previous site intact.
A page whose inputs (its data, the templates it uses, the config, chuchuang's
version) hash to the key recorded last time is left as the previous build
wrote it. When no input file changed at all and the output is as the last
build left it, the build stops after comparing digests. Documents are read
through the cache (loader.py), Markdown, images and related products are
prepared once per distinct input (inputs.py), pages are planned (pages.py)
and rendered in worker processes (workers.py).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from functions.catalog import Catalog, PartnerEntry
from functions.catalog import Product as CatalogProduct
from generator import __version__
from generator.assets import OutputFile, collect_static
from generator.cache import BuildCache
from generator.config import SiteConfig, load_config
from generator.content import Content, read_content
from generator.diagnostics import BuildError
from generator.inputs import related_inputs, related_lookup, render_inputs
from generator.loader import DocumentLoader
from generator.pages import plan
from generator.progress import Progress
from generator.related import related
from generator.render import Fingerprinter, PageJob, SiteGlobals, make_env
from generator.snapshot import (
    FileDigests,
    inputs_digest,
    output_stamps,
    outputs_digest,
    stamp,
    template_digests,
)
from generator.workers import (
    TemplateFailure,
    Workers,
    render_chunk,
    stage,
    template_error,
)

# A site without its own templates/ uses the ones this checkout ships.
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PARALLEL_THRESHOLD = 64   # below this many pages a process pool costs more than it saves


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    out: Path
    catalog: Path
    clean: bool = False
    jobs: int = 0             # 0: one per core
    base_url: str | None = None
    today: dt.date | None = None
    progress: bool | None = None    # None: a bar on a terminal, none in CI


@dataclass(frozen=True)
class BuildResult:
    pages: int
    rendered: int
    reused: int
    written: int
    seconds: float
    catalog: Path
    out: Path
    rendered_pages: tuple[str, ...] = ()

    def summary(self) -> str:
        return (f"built {self.pages} pages in {self.seconds:.2f}s: {self.rendered} rendered, "
                f"{self.reused} unchanged; {self.written} files written to {self.out}")


def build(options: BuildOptions) -> BuildResult:
    """Build the showcase into ``options.out`` and write the catalog beside it."""
    started = time.perf_counter()
    root = options.root
    progress = Progress(enabled=options.progress)
    templates = root / "templates" if (root / "templates").is_dir() else DEFAULT_TEMPLATES
    today = options.today or _today()
    site_key = str(options.out.resolve())
    cache = BuildCache(root / ".chuchuang-cache")
    try:
        state = f"{__version__}\0{site_key}\0{options.catalog.resolve()}\0{options.base_url}\0{today}"
        stats_key = f"stats:{root.resolve()}"
        # Digests of input files, by path: each read at most once, none while its stat is as recorded.
        digests = FileDigests(None if options.clean else cache.get(stats_key))
        inputs = "" if options.clean else inputs_digest(root, templates, state, digests)
        previous = _previous_build(cache, site_key)
        # One stat per file the last build wrote: the no-change check and the page keys use them.
        stamps = output_stamps(options.out, _previous_files(cache, options.out))
        if inputs and previous and previous[0] == inputs and previous[1] == outputs_digest(stamps, options.catalog):
            pages = previous[2]
            return BuildResult(pages, 0, pages, 0, time.perf_counter() - started, options.catalog, options.out)
        with Workers(options.jobs) as workers, _no_cyclic_gc():
            result, stamps = _build(options, cache, workers, templates, today, progress, started, digests, stamps)
        # A clean build records the digests the loader took of the documents it read.
        inputs = inputs or inputs_digest(root, templates, state, digests)
        cache.put(f"build:{site_key}", json.dumps(
            [inputs, outputs_digest(stamps, options.catalog), result.pages]).encode())
        cache.put(stats_key, digests.record())
        cache.commit()
        return result
    finally:
        progress.close()
        cache.close()


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """No cycle collection in this process while it builds (workers are forked before).

    The build holds every record and view at once and makes almost no reference
    cycles; each full collection walks all of them, which made a 50,000-product
    rebuild 1.5x slower. Plain reference counting still frees everything else.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _previous_build(cache: BuildCache, site_key: str) -> tuple[str, str, int] | None:
    raw = cache.get(f"build:{site_key}")
    try:
        inputs, outputs, pages = json.loads(raw) if raw else (None, None, None)
    except (ValueError, TypeError):
        return None
    return (inputs, outputs, pages) if isinstance(pages, int) else None


def _build(options: BuildOptions, cache: BuildCache, workers: Workers, templates: Path, today: dt.date,
           progress: Progress, started: float, digests: FileDigests, stamps: dict[str, str],
           ) -> tuple[BuildResult, dict[str, str]]:
    """The build proper; returns its result and the output's stamps after it."""
    root = options.root
    config, report = load_config(root / "site.yaml")
    if config is None:
        raise BuildError(report)
    content_root = root / "content"
    loader = DocumentLoader(cache, workers, (root / "site.yaml").read_bytes(), progress, digests)
    content, content_report = read_content(content_root, config, loader=loader)
    if not content_report.ok:
        raise BuildError(content_report)
    cache.put_markups(loader.new_markup)
    if options.base_url:
        config = _with_base_url(config, options.base_url)
    related_key, related_ids = related_lookup(content, cache)
    # Related products are computed by a worker while this process renders Markdown leads and the catalog.
    pending = None if related_ids is not None else workers.submit(related, related_inputs(content))
    rendered, image_files = render_inputs(content, cache, loader.markup_keys)
    catalog_text = _catalog_text(config, content, today, cache)
    if pending is not None:
        related_ids = pending.result()
        cache.db.execute("DELETE FROM kv WHERE key LIKE 'related:%'")
        cache.put(related_key, json.dumps(related_ids, separators=(",", ":")).encode())
    site_plan = plan(config, content, rendered, related_ids=related_ids)
    static = collect_static(templates / "static")
    site = SiteGlobals(config.title, config.description, config.language, config.disclosure, config.base_url)
    env = make_env(templates, site, static.urls)
    uses = template_digests(env, templates)
    fingerprint = Fingerprinter()
    salt = fingerprint(__version__, site, static.urls)
    old_keys = {} if options.clean else cache.page_keys(str(options.out.resolve()))
    keys = {job.out: fingerprint(salt, uses.get(job.template, job.template), job.template, job.meta, job.context)
            for job in site_plan.jobs}
    # A page is reused only if its key matches and its file is the one the last build left.
    reuse = [j for j in site_plan.jobs if old_keys.get(j.out) == f"{keys[j.out]}|{stamps.get(j.out, 'missing')}"]
    reused = {j.out for j in reuse}
    todo = [j for j in site_plan.jobs if j.out not in reused]
    out = options.out
    previous = out if out.is_dir() else None
    staging = out.with_name(f".{out.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    cache.commit()      # worker processes read rendered Markdown from the cache while they render
    try:
        sources = hashlib.sha256("".join(sorted(uses.values())).encode()).hexdigest()
        changed = _render_all(workers, templates, site, static.urls, sources, todo, staging, previous, progress,
                              cache.path)
        index = json.dumps(site_plan.index, ensure_ascii=False, separators=(",", ":")).encode()
        for item in [*static.files, *image_files, OutputFile("index.json", index)]:
            if stage(previous, staging, item.path, item.data, _write):
                changed.append(item.path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    produced = [j.out for j in site_plan.jobs] + [f.path for f in static.files] + \
        [f.path for f in image_files] + ["index.json"]
    # The stamps name what the last build wrote (or, when the cache did not know, all files found there).
    removed = _commit(staging, out, changed, produced, list(stamps))
    stamps = {rel: found for rel, found in stamps.items() if rel not in removed}
    stamps.update((rel, stamp(out / rel)) for rel in changed)
    cache.put(f"files:{out.resolve()}", json.dumps(produced).encode())
    if not options.catalog.is_file() or options.catalog.read_bytes() != catalog_text.encode():
        _write_atomic(options.catalog, catalog_text.encode())
    cache.set_page_keys(str(out.resolve()), {rel: f"{key}|{stamps.get(rel, 'missing')}" for rel, key in keys.items()},
                        None if options.clean else old_keys)
    cache.commit()
    written = len(changed)
    return BuildResult(len(site_plan.jobs), len(todo), len(reuse), written,
                       time.perf_counter() - started, options.catalog, options.out,
                       tuple(sorted(j.out for j in todo))), stamps


def _today() -> dt.date:
    # SOURCE_DATE_EPOCH makes rate selection reproducible (reproducible-builds.org convention).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def _with_base_url(config: SiteConfig, base_url: str) -> SiteConfig:
    return replace(config, base_url=base_url.rstrip("/") + "/")


def make_catalog(config: SiteConfig, content: Content, today: dt.date) -> Catalog:
    """The catalog of published products with the rate in force ``today`` and its rule."""
    products = {}
    for p in content.published:
        rate, rule = config.rate_for(p.creator, p.merchant, p.partner, today)
        products[p.id] = CatalogProduct(
            id=p.id, url=f"{p.creator}/{p.slug}/", title=p.title, creator=p.creator, partner=p.partner,
            merchant=p.merchant, price=p.price, currency=p.currency, stock=p.stock, rate=rate,
            rate_rule=rule, link=p.link)
    partners = {pid: PartnerEntry(pid, partner.name, partner.handoff, partner.secret_env)
                for pid, partner in config.partners.items()}
    return Catalog(currency=config.currency, lock_days=config.lock_days, partners=partners, products=products)


def _catalog_text(config: SiteConfig, content: Content, today: dt.date, cache: BuildCache) -> str:
    """The catalog's JSON, reused while no field it holds (nor the config, nor the day) changed."""
    digest = hashlib.sha256(repr((__version__, config, today)).encode())
    for p in content.published:
        digest.update(repr((p.id, p.creator, p.slug, p.title, p.partner, p.merchant, p.price, p.currency,
                            p.stock, p.link)).encode())
    key = f"catalog:{digest.hexdigest()}"
    raw = cache.get(key)
    if raw is not None:
        return raw.decode()
    text = make_catalog(config, content, today).to_json()
    cache.db.execute("DELETE FROM kv WHERE key LIKE 'catalog:%'")
    cache.put(key, text.encode())
    return text



def _render_all(workers: Workers, templates: Path, site: SiteGlobals, assets: dict[str, str], sources: str,
                jobs: list[PageJob], staging: Path, previous: Path | None, progress: Progress,
                markups: Path) -> list[str]:
    """Render ``jobs``; pages whose bytes differ from ``previous`` are staged. Returns those."""
    progress.begin("rendering", len(jobs))
    # Listing pages cost as much as hundreds of product pages: start them first, in chunks
    # of similar cost, so no worker is left with a long page at the end while the other idles.
    jobs = sorted(jobs, key=_cost, reverse=True)
    chunk = max(16, min(256, sum(map(_cost, jobs)) // (workers.jobs * 8) or 1))
    args = (staging, previous, templates, site, assets, sources, _write, markups)
    try:
        return [out for part in workers.map_chunks(render_chunk, jobs, args, chunk=chunk,
                                                   inline_below=PARALLEL_THRESHOLD, done=progress.advance,
                                                   weight=_cost)
                for out in part]
    except TemplateFailure as failure:
        raise template_error(templates, failure) from None


def _cost(job: PageJob) -> int:
    """A page's rough rendering cost: one, plus one per item it lists."""
    return 1 + sum(len(value) for value in job.context.values() if isinstance(value, (list, tuple)))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _previous_files(cache: BuildCache, out: Path) -> list[str] | None:
    """What the last build wrote to ``out``, or None when the cache does not know."""
    raw = cache.get(f"files:{out.resolve()}")
    try:
        return [str(p) for p in json.loads(raw)] if raw else None
    except (ValueError, TypeError):
        return None


def _commit(staging: Path, out: Path, changed: list[str], produced: list[str], before: list[str]) -> set[str]:
    """Move the staged files into ``out`` and remove pages no longer produced; returns those removed.

    Everything that can fail (templates, content, a full disk) happened while
    staging; this step only renames within one filesystem and unlinks.
    """
    if not out.is_dir():
        os.replace(staging, out)    # a first build: the whole tree in one rename
        return set()
    for rel in changed:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    keep = set(produced)
    removed = {rel for rel in before if rel not in keep}
    for rel in removed:
        stale = out / rel
        stale.unlink(missing_ok=True)
        _prune_empty(stale.parent, out)
    shutil.rmtree(staging, ignore_errors=True)
    return removed


def _prune_empty(folder: Path, out: Path) -> None:
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
