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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from functions.catalog import Catalog, PartnerEntry, product_line
from functions.catalog import Product as CatalogProduct
from generator import __version__
from generator.assets import OutputFile, collect_static
from generator.cache import BuildCache
from generator.config import SiteConfig, load_config
from generator.content import Content, FileTask, Product, read_content
from generator.delta import (
    Snapshot,
    changed_products,
    digest,
    others_digest,
    snapshot,
    structure,
)
from generator.diagnostics import BuildError
from generator.inputs import related_inputs, related_lookup, render_inputs
from generator.loader import DocumentLoader
from generator.pages import SitePlan, index_entry, plan, product_views
from generator.progress import Progress
from generator.related import related
from generator.render import Fingerprinter, PageJob, SiteGlobals, make_env
from generator.snapshot import (
    FileDigests,
    Inputs,
    output_stamps,
    outputs_digest,
    read_inputs,
    stamp,
    template_digests,
)
from generator.views import SHARED_VIEWS, ProductCard
from generator.workers import (
    Packed,
    Shared,
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
        previous = None if options.clean else _previous_build(cache, site_key)
        # Without a previous build to compare with, the inputs are digested as the build reads them.
        inputs = read_inputs(root, templates, state, digests) if previous else None
        # One stat per file the last build wrote: the no-change check and the page keys use them.
        written = _previous_files(cache, options.out)
        stamps = output_stamps(options.out, written)
        if previous and inputs and previous[0] == inputs.digest \
                and previous[1] == outputs_digest(stamps, options.catalog):
            pages = previous[2]
            return BuildResult(pages, 0, pages, 0, time.perf_counter() - started, options.catalog, options.out)
        last = Snapshot.load(cache.get, f"snapshot:{site_key}") if inputs else None
        changed = changed_products(last, inputs, root / "content") if inputs else None
        # Only a few documents to read and pages to render: no worker processes unless needed.
        with Workers(options.jobs, start=changed is None) as workers, _no_cyclic_gc():
            result, stamps, after = _build(options, cache, workers, templates, today, progress, started, digests,
                                           stamps, inputs or state, last, changed, written)
        cache.put(f"build:{site_key}", json.dumps(
            [after.inputs.digest, outputs_digest(stamps, options.catalog), result.pages]).encode())
        after.save(cache.put, f"snapshot:{site_key}", last)
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


@dataclass(frozen=True)
class _Model:
    """What the pages are rendered from: the plan and the files besides the pages."""

    plan: SitePlan
    index: bytes                    # index.json
    catalog: str
    images: list[OutputFile]
    products: tuple                 # every product (records, or stand-ins where not read), in reading order
    produced: list[str] | None      # every file of the site; None: the plan's pages and files
    pages: int


def _build(options: BuildOptions, cache: BuildCache, workers: Workers, templates: Path, today: dt.date,
           progress: Progress, started: float, digests: FileDigests, stamps: dict[str, str], inputs: Inputs | str,
           last: Snapshot | None, changed: list[Path] | None, written: list[str] | None,
           ) -> tuple[BuildResult, dict[str, str], Snapshot]:
    """The build proper; returns its result, the output's stamps after it and the next snapshot.

    ``inputs``: the digests of the inputs, or the build's settings to take them with (once read);
    ``written``: the files the last build wrote, when the cache knows them.
    """
    root = options.root
    config, report = load_config(root / "site.yaml")
    if config is None:
        raise BuildError(report)
    if options.base_url:
        config = _with_base_url(config, options.base_url)
    loader = DocumentLoader(cache, workers, (root / "site.yaml").read_bytes(), progress, digests)
    old_keys = {} if options.clean else cache.page_keys(str(options.out.resolve()))
    static = collect_static(templates / "static")
    site = SiteGlobals(config.title, config.description, config.language, config.disclosure, config.base_url)
    env = make_env(templates, site, static.urls)
    uses = template_digests(env, templates)
    fingerprint = Fingerprinter(SHARED_VIEWS)
    salt = fingerprint(__version__, site, static.urls)
    out = options.out
    previous = out if out.is_dir() else None
    staging = out.with_name(f".{out.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    sources = hashlib.sha256("".join(sorted(uses.values())).encode()).hexdigest()
    rendering = _Rendering(workers, cache, progress, templates,
                           (staging, previous, templates, site, static.urls, sources, _write, cache.path))
    try:
        model = None
        if last is not None and changed is not None and written is not None:
            model = _changed_model(options, config, cache, loader, today, last, changed, stamps, old_keys, written)
        if model is None:
            # Nothing to reuse: the pages without related products are rendered while those are ranked.
            model = _full_model(options, config, cache, loader, workers, today,
                                early=None if old_keys else rendering.submit)
        site_plan = model.plan

        def keys_of_jobs() -> dict[str, str]:
            return {job.out: fingerprint(salt, uses.get(job.template, job.template), job.template, job.meta,
                                         job.context) for job in site_plan.jobs}

        # With no keys from before nothing can be reused: the keys are taken while the workers render.
        keys = keys_of_jobs() if old_keys else {}
        # A page is reused only if its key matches and its file is the one the last build left.
        reused = {j.out for j in site_plan.jobs
                  if j.out in old_keys and old_keys[j.out] == f"{keys[j.out]}|{stamps.get(j.out, 'missing')}"}
        todo = [j for j in site_plan.jobs if j.out not in reused]
        rendering.submit([j for j in todo if j.out not in rendering.submitted], site_plan.cards)
        if not keys:
            keys.update(keys_of_jobs())
        changed_files = rendering.finish()
        for item in [*static.files, *model.images, OutputFile("index.json", model.index)]:
            if stage(previous, staging, item.path, item.data, _write):
                changed_files.append(item.path)
    except BaseException:
        workers.stop()      # a failed page or Ctrl-C: no worker may still be writing into staging
        rendering.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    produced = model.produced or [j.out for j in site_plan.jobs] + [f.path for f in static.files] + \
        [f.path for f in model.images] + ["index.json"]
    # The stamps name what the last build wrote (or, when the cache did not know, all files found there).
    removed = _commit(staging, out, changed_files, produced, list(stamps))
    stamps = {rel: found for rel, found in stamps.items() if rel not in removed}
    stamps.update((rel, stamp(out / rel)) for rel in changed_files)
    cache.put(f"files:{out.resolve()}", json.dumps(produced).encode())
    if not options.catalog.is_file() or options.catalog.read_bytes() != model.catalog.encode():
        _write_atomic(options.catalog, model.catalog.encode())
    recorded = {rel: f"{key}|{stamps.get(rel, 'missing')}" for rel, key in keys.items()}
    if model.produced is not None:      # a partial plan: the other pages keep their keys
        recorded = {**old_keys, **recorded}
    cache.set_page_keys(str(out.resolve()), recorded, None if options.clean else old_keys)
    if isinstance(inputs, str):     # every document was read: their digests are known
        inputs = read_inputs(root, templates, inputs, digests)
    after = snapshot(inputs, model.products, site_plan, model.index, model.catalog, stamps,
                     last if model.produced is not None else None)
    cache.commit()
    return BuildResult(model.pages, len(todo), model.pages - len(todo), len(changed_files),
                       time.perf_counter() - started, options.catalog, options.out,
                       tuple(sorted(j.out for j in todo))), stamps, after


def _full_model(options: BuildOptions, config: SiteConfig, cache: BuildCache, loader: DocumentLoader,
                workers: Workers, today: dt.date,
                early: Callable[[list[PageJob], Mapping[str, ProductCard]], object] | None = None) -> _Model:
    """Every document read (through the cache), every page planned; ``early`` gets the pages
    that show no related products as soon as they are planned (see :func:`plan`)."""
    workers.start()
    content, content_report = read_content(options.root / "content", config, loader=loader)
    if not content_report.ok:
        raise BuildError(content_report)
    related_key, related_ids = related_lookup(content, cache)
    # Related products are ranked by a worker while this process stores the new Markdown, takes
    # the leads and images, and plans (and hands to ``early``) the pages that do not show them.
    pending = None if related_ids is not None else workers.submit(related, related_inputs(content))
    cache.put_markups(loader.new_markup)
    fresh = {key: (len(html), lead) for key, html, lead in loader.new_markup}
    rendered, image_files = render_inputs(content, cache, loader.markup_keys, fresh)

    def ranked() -> dict[str, tuple[str, ...]]:
        ids = pending.result()
        cache.db.execute("DELETE FROM kv WHERE key LIKE 'related:%'")
        cache.put(related_key, json.dumps(ids, separators=(",", ":")).encode())
        return ids

    site_plan = plan(config, content, rendered, related_ids=related_ids if pending is None else ranked, early=early)
    catalog_text = _catalog_text(config, content, today, cache)
    index = _index_text([index_entry(card) for card in site_plan.index]).encode()
    return _Model(site_plan, index, catalog_text, image_files, content.products, None, len(site_plan.jobs))


def _changed_model(options: BuildOptions, config: SiteConfig, cache: BuildCache, loader: DocumentLoader,
                   today: dt.date, last: Snapshot, changed: list[Path], stamps: dict[str, str],
                   old_keys: dict[str, str], produced: list[str]) -> _Model | None:
    """Only the pages that show a changed product (or whose file is not as left) re-planned; None
    when that cannot be done exactly, and the full build runs instead (see delta.py)."""
    content_root = options.root / "content"
    index_path = options.out / "index.json"
    if not index_path.is_file() or not options.catalog.is_file():
        return None
    index = index_path.read_bytes()
    catalog = options.catalog.read_text(encoding="utf-8")
    if digest(index) != last.index or digest(catalog.encode()) != last.catalog \
            or others_digest(stamps, last.shows) != last.others:
        return None     # not as the last build left them: only the full build makes them anew

    def task(i: int) -> FileTask:
        return FileTask("product", content_root / last.products[i].rel, last.products[i].creator)

    position = {p.rel: i for i, p in enumerate(last.products)}
    touched = sorted(position[path.relative_to(content_root).as_posix()] for path in changed)
    profiles = [FileTask("creator", content_root / rel, rel.partition("/")[0])
                for rel in last.files if rel.count("/") == 1 and rel.endswith("/_index.md")]
    answers = _read(loader, profiles + [task(i) for i in touched], config, content_root)
    if answers is None:
        return None
    creators = {c.id: c for c in answers[:len(profiles)]}
    records = dict(zip(touched, answers[len(profiles):]))
    if any(structure(records[i]) != structure(last.products[i]) for i in touched):
        return None
    cache.put_markups(loader.new_markup)
    cards, pages = _changed_views(config, Content(creators, last.products), last, records, loader, cache)
    wanted = {page for page, shown in last.shows.items()
              if not cards.isdisjoint(shown) or not pages.isdisjoint(last.pages.get(page, ()))
              or old_keys.get(page, "").rpartition("|")[2] != stamps.get(page)}
    needed = sorted(set().union(*(last.shows[page] for page in wanted)) - set(touched))
    shown = _read(loader, [task(i) for i in needed], config, content_root)
    if shown is None:
        return None
    records.update(zip(needed, shown))
    read = Content(creators, tuple(records[i] for i in sorted(records)))
    content = Content(creators, tuple(records.get(i, p) for i, p in enumerate(last.products)))
    _, related_ids = related_lookup(content, cache)
    if related_ids is None:
        return None
    rendered, image_files = render_inputs(read, cache, loader.markup_keys)
    try:
        site_plan = plan(config, content, rendered, related_ids=related_ids, wanted=wanted)
    except AttributeError:      # a page showed more of a product than its structure
        return None
    edited = Content(creators, tuple(records[i] for i in touched))
    return _Model(site_plan, _patched_index(index, site_plan), _patched_catalog(catalog, config, edited, today),
                  image_files, content.products, produced, len(last.shows))


def _read(loader: DocumentLoader, tasks: list[FileTask], config: SiteConfig, content_root: Path) -> list | None:
    """The records of ``tasks``; None if any has a problem (the full build reports it, in reading order)."""
    answers = loader(tasks, config, content_root)
    if any(record is None or diagnostics for record, diagnostics in answers):
        return None
    return [record for record, _ in answers]


def _changed_views(config: SiteConfig, standins: Content, last: Snapshot, records: dict[int, Product],
                   loader: DocumentLoader, cache: BuildCache) -> tuple[set[int], set[int]]:
    """Which changed products (by position) show a different card, and which a different product page.

    A page shows a product through its card or its product page; each is made from
    the product's previous record (still in the cache; if not, it counts as changed)
    and from the new one, among the same other products.
    """
    olds = [loader.cached(FileTask("product", record.file, record.creator), last.files[last.products[i].rel])
            for i, record in records.items()]
    before = _product_views(config, standins, [old for old in olds if old is not None], cache, loader)
    after = _product_views(config, standins, list(records.values()), cache, loader)
    cards = {i for i, r in records.items() if before.get(r.id, ())[:1] != after.get(r.id, ())[:1]}
    pages = {i for i, r in records.items() if before.get(r.id) != after.get(r.id)}
    return cards, pages


def _index_text(entries: list[dict]) -> str:
    """index.json: one product per line, so a partial build can replace one line."""
    return '{"version":1,"products":[\n' + ",\n".join(map(_index_line, entries)) + "\n]}"


def _index_line(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _product_views(config: SiteConfig, standins: Content, products: list[Product], cache: BuildCache,
                   loader: DocumentLoader) -> dict[str, tuple]:
    """Each published one of ``products``: its card and what its page shows besides cards, among
    the other products of ``standins``."""
    rendered, _ = render_inputs(Content({}, tuple(products)), cache, loader.markup_keys)
    mine = {p.id: p for p in products}
    content = Content(standins.creators, tuple(mine.get(p.id, p) for p in standins.products))
    return product_views(config, content, rendered, [p.id for p in products if not p.draft])


def _patched_index(index: bytes, site_plan: SitePlan) -> bytes:
    """index.json (as :func:`_index_text` wrote it) with the entry of every product the plan
    built a card for written anew."""
    lines = index.decode().split("\n")
    for i, line in enumerate(lines[1:-1], start=1):
        card = site_plan.cards.get(line[7:line.find('"', 7)])     # every line starts {"id":"<id>"
        if card is not None:
            lines[i] = _index_line(index_entry(card)) + ("," if line.endswith(",") else "")
    return "\n".join(lines).encode()


def _patched_catalog(text: str, config: SiteConfig, edited: Content, today: dt.date) -> str:
    """The catalog (as ``document_text`` wrote it, one product per line) with the products in
    ``edited`` made anew; their structure, so the set of products, is unchanged."""
    lines = text.split("\n")
    for pid, product in make_catalog(config, edited, today).products.items():
        mark = f',"id":{json.dumps(pid)},'     # unique: a quote inside a JSON string is escaped
        at = next(i for i, line in enumerate(lines) if mark in line)
        lines[at] = product_line(product) + ("," if lines[at].endswith(",") else "")
    return "\n".join(lines)


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


class _Rendering:
    """Pages handed to the workers in one or more batches; the pages each staged, collected at the end.

    Only pages whose bytes differ from the previous output are staged.
    """

    def __init__(self, workers: Workers, cache: BuildCache, progress: Progress, templates: Path,
                 args: tuple) -> None:
        self.workers, self.cache, self.progress, self.templates, self.args = workers, cache, progress, templates, args
        self.batches: list[Iterator[list[str]]] = []
        self.submitted: set[str] = set()
        self.shared: Shared | bool | None = None    # False: none could be written
        self.parallel: bool | None = None

    def submit(self, jobs: list[PageJob], cards: Mapping[str, ProductCard]) -> None:
        """Hand ``jobs`` out; ``cards``: the plan's cards so far, which workers get once (see Shared)."""
        if self.parallel is None:   # decided once per build: a full build has started the workers
            self.parallel = self.workers.pool is not None or len(jobs) >= PARALLEL_THRESHOLD
        self.cache.commit()     # worker processes read rendered Markdown from the cache while they render
        if self.batches:
            self.progress.more(len(jobs))
        else:
            self.progress.begin("rendering", len(jobs))
        # Listing pages cost as much as hundreds of product pages: start them first, in chunks
        # of similar cost, so no worker is left with a long page at the end while the other idles.
        jobs = sorted(jobs, key=_cost, reverse=True)
        chunk = max(16, min(256, sum(map(_cost, jobs)) // (self.workers.jobs * 8) or 1))
        self.batches.append(self.workers.map_chunks(
            render_chunk, jobs, self.args, chunk=chunk, inline_below=0 if self.parallel else len(jobs) + 1,
            done=self.progress.advance, weight=_cost, pack=partial(self._pack, cards)))
        self.submitted.update(job.out for job in jobs)

    def _pack(self, cards: Mapping[str, ProductCard], part: list[PageJob]) -> Packed | list[PageJob]:
        if self.shared is None:     # the first part for a worker: the cards planned so far go once
            try:
                self.shared = Shared(cards.values())
            except OSError:         # no writable temporary folder: every part carries its cards
                self.shared = False
        return self.shared.pack(part) if self.shared else part

    def finish(self) -> list[str]:
        """Wait for every batch; the pages staged."""
        try:
            staged = [out for batch in self.batches for part in batch for out in part]
        except TemplateFailure as failure:
            raise template_error(self.templates, failure) from None
        self.close()
        return staged

    def close(self) -> None:
        """Remove the shared cards' file; only once no worker is running."""
        if self.shared:
            self.shared.remove()


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
