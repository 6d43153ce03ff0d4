"""The build: config + content → model → pages + catalog → disk, atomically.

Pages are written to a staging folder beside the output and swapped in only
when everything succeeded, so a failed build leaves the previous site intact.
A page whose inputs (its data, the templates it uses, the config, chuchuang's
version) hash to the key recorded last time is linked from the previous output
instead of being rendered again. When no input file changed at all and the
output is as the last build left it, the build stops after comparing digests.
Documents are read, checked and rendered to HTML once per change (cached by
their bytes), in worker processes when there are many.
"""
from __future__ import annotations

import contextlib
import gc
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from functions.catalog import Catalog, PartnerEntry
from functions.catalog import Product as CatalogProduct
from generator import __version__
from generator.assets import (
    AVATAR_WIDTHS,
    IMAGE_WIDTHS,
    ImageError,
    OutputFile,
    collect_static,
    process_image,
)
from generator.cache import BuildCache
from generator.config import SiteConfig, load_config
from generator.content import Content, Creator, FileTask, Product, Record, read_content
from generator.diagnostics import BuildError, Diagnostic, Report
from generator.markup import LEAD
from generator.markup import render as render_markdown
from generator.pages import Rendered, plan
from generator.progress import Progress
from generator.records import dump_record, load_record
from generator.related import RelatedInput, related
from generator.render import Fingerprinter, PageJob, SiteGlobals, make_env
from generator.snapshot import FileDigests, inputs_digest, output_stamps, outputs_digest, stamp, template_digests
from generator.views import Html, ImageView
from generator.workers import (
    TemplateFailure,
    Workers,
    load_chunk,
    render_chunk,
    same_bytes,
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
        stamps = output_stamps(options.out, _previous_files(cache, options.out, walk=False))
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
    loader = _Loader(cache, workers, (root / "site.yaml").read_bytes(), progress, digests)
    content, content_report = read_content(content_root, config, loader=loader)
    if not content_report.ok:
        raise BuildError(content_report)
    cache.put_markups(loader.new_markup)
    if options.base_url:
        config = _with_base_url(config, options.base_url)
    related_key, related_ids = _related_lookup(content, cache)
    # Related products are computed by a worker while this process renders Markdown leads and the catalog.
    pending = None if related_ids is not None else workers.submit(related, _related_inputs(content))
    rendered, image_files = _render_inputs(content, cache, loader.markup_keys)
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
            if _stage(previous, staging, item.path, item.data):
                changed.append(item.path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    produced = [j.out for j in site_plan.jobs] + [f.path for f in static.files] + \
        [f.path for f in image_files] + ["index.json"]
    removed = _commit(staging, out, changed, produced, _previous_files(cache, out) or [])
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



class _Loader:
    """Reads documents through the cache; the changed ones are read and rendered in workers.

    A document's cache key is its bytes, its place, the listing of its folder's
    images/ and site.yaml's bytes (partner domains decide links), so a cached
    record is exactly what reading the file again would give. Only documents
    without any diagnostic are cached: a file with a problem is read every time.
    """

    def __init__(self, cache: BuildCache, workers: Workers, config_bytes: bytes, progress: Progress,
                 digests: FileDigests | None = None) -> None:
        self.cache, self.workers, self.progress = cache, workers, progress
        # Digests of file bytes, shared with the input digest: each file is read once.
        self.digests = FileDigests() if digests is None else digests
        self.salt = hashlib.sha256(__version__.encode() + b"\0" + config_bytes).hexdigest()
        self.new_markup: list[tuple[str, str, str]] = []
        self.markup_keys: dict[str, str] = {}     # body → markup key, so no body is hashed twice

    def __call__(self, tasks: list[FileTask], config: SiteConfig, content_root: Path,
                 ) -> list[tuple[Record, list[Diagnostic]]]:
        listings: dict[Path, str] = {}
        keys = [self._key(task, listings) for task in tasks]
        hits = self.cache.documents([k for k in keys if k])
        answers: list[tuple[Record, list[Diagnostic]] | None] = [None] * len(tasks)
        for i, key in enumerate(keys):
            if key in hits:
                data, body_key = hits[key]
                with contextlib.suppress(Exception):   # an unreadable entry is a miss, never trusted
                    record = load_record(data, tasks[i].path)
                    self.markup_keys[_source(record)] = body_key
                    answers[i] = (record, [])
        missing = [i for i, answer in enumerate(answers) if answer is None]
        self.progress.begin("reading", len(missing))
        fresh: list[tuple[str, bytes, str]] = []
        results = self.workers.map_chunks(load_chunk, [tasks[i] for i in missing], (config, content_root),
                                          chunk=64, inline_below=128, done=self.progress.advance)
        for i, (record, diagnostics, markup) in zip(missing, (a for chunk in results for a in chunk)):
            answers[i] = (record, diagnostics)
            if record is None:
                continue
            body_key = self.markup_keys[_source(record)] = markup_key(_source(record))
            if markup is not None:
                self.new_markup.append((body_key, *markup))
            if not diagnostics and keys[i]:
                fresh.append((keys[i], dump_record(record), body_key))
        self.cache.put_documents(fresh)
        return answers  # type: ignore[return-value]

    def _key(self, task: FileTask, listings: dict[Path, str]) -> str:
        try:
            data = self.digests(str(task.path))
        except OSError:
            return ""
        folder = task.path.parent
        if folder not in listings:
            listings[folder] = _images_listing(folder / "images")
        listing = listings[folder]
        if listing is None:
            return ""
        head = f"{self.salt}\0{task.kind}\0{task.creator}\0{task.path}\0{listing}\0{data}"
        return hashlib.sha256(head.encode()).hexdigest()


def _images_listing(folder: Path) -> str | None:
    """The names in a creator's images/ folder, or None when a symlink makes it uncacheable."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return ""
    if any(entry.is_symlink() for entry in entries):
        return None
    return "/".join(f"{e.name}:{int(e.is_file())}" for e in entries)


def _source(record: Creator | Product) -> str:
    """The Markdown a record's page shows: a creator's bio or a product's body."""
    return record.bio if isinstance(record, Creator) else record.body


def markup_key(body: str) -> str:
    return hashlib.sha256(f"{__version__}\0{body}".encode()).hexdigest()


def _render_inputs(content: Content, cache: BuildCache, known_keys: dict[str, str],
                   ) -> tuple[Rendered, list[OutputFile]]:
    """Markdown and images, each done once per distinct input and cached across builds.

    Bodies stay in the cache: the plan gets an :class:`Html` reference and the
    first characters of the text (for summaries), never the whole HTML.
    """
    html: dict[str, Html] = {}
    text: dict[str, str] = {}
    docs = [(p.id, p.body) for p in content.published]
    docs += [(f"creator:{c.id}", c.bio) for c in content.creators.values()]
    keys = [known_keys.get(body) or markup_key(body) for _, body in docs]
    known = cache.leads(keys)
    fresh = []
    for (name, body), digest in zip(docs, keys):
        hit = known.get(digest)
        if hit is None:
            result = render_markdown(body)
            hit = known[digest] = (len(result.html), result.text[:LEAD])
            fresh.append((digest, result.html, hit[1]))
        html[name], text[name] = Html(digest, hit[0]), hit[1]
    cache.put_markups(fresh)
    files: dict[str, bytes] = {}
    images: dict[str, tuple[ImageView, ...]] = {}
    avatars: dict[str, ImageView] = {}
    for product in content.published:
        images[product.id] = tuple(_image(path, IMAGE_WIDTHS, product.title, False, cache, files)
                                   for path in product.images)
    for creator in content.creators.values():
        if creator.avatar:
            avatars[creator.id] = _image(creator.avatar, AVATAR_WIDTHS, creator.name, True, cache, files)
    return Rendered(html, text, images, avatars), [OutputFile(p, d) for p, d in sorted(files.items())]


def _related_inputs(content: Content) -> list[RelatedInput]:
    return [RelatedInput(p.id, p.tags, p.creator, p.date, p.title) for p in content.published]


def _related_lookup(content: Content, cache: BuildCache) -> tuple[str, dict[str, tuple[str, ...]] | None]:
    """The cache key of the related products and, when cached, them: they change only when an
    id, tag, creator, date or title does."""
    digest = hashlib.sha256(__version__.encode())
    for p in content.published:
        digest.update(repr((p.id, p.tags, p.creator, p.date.isoformat(), p.title)).encode())
    key = f"related:{digest.hexdigest()}"
    raw = cache.get(key)
    if raw is not None:
        try:
            found = json.loads(raw)
            return key, {pid: tuple(ids) for pid, ids in found.items()}
        except (ValueError, AttributeError, TypeError):
            pass
    return key, None


def _image(path: Path, widths: tuple[int, ...], alt: str, square: bool, cache: BuildCache,
           files: dict[str, bytes]) -> ImageView:
    source = path.read_bytes()
    key = hashlib.sha256(source + repr((widths, square, __version__)).encode()).hexdigest()
    hit = cache.image(key)
    if hit is not None:
        view_data, paths = hit
        blobs = {p: cache.blob(p) for p in paths}
        if all(b is not None for b in blobs.values()):
            files.update(blobs)  # type: ignore[arg-type]
            return ImageView(**{**view_data, "alt": alt})
    try:
        view, outputs = process_image(source, widths, alt, square)
    except ImageError as exc:
        report = Report()
        report.add(path, 1, 1, "content.image", str(exc), hint="re-export it as JPEG, PNG or WebP")
        raise BuildError(report) from None
    cache.put_image(key, asdict(view), [(f.path, f.data) for f in outputs])
    files.update({f.path: f.data for f in outputs})
    return view


def _render_all(workers: Workers, templates: Path, site: SiteGlobals, assets: dict[str, str], sources: str,
                jobs: list[PageJob], staging: Path, previous: Path | None, progress: Progress,
                markups: Path) -> list[str]:
    """Render ``jobs``; pages whose bytes differ from ``previous`` are staged. Returns those."""
    progress.begin("rendering", len(jobs))
    # Listing pages cost as much as hundreds of product pages: start them first, in chunks
    # of similar cost, so no worker is left with a long page at the end while the other idles.
    jobs = sorted(jobs, key=_cost, reverse=True)
    chunk = max(16, min(256, len(jobs) // (workers.jobs * 8) or 1))
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


def _stage(previous: Path | None, staging: Path, rel: str, data: bytes) -> bool:
    """Stage ``data`` unless the previous output already has these bytes; True when staged."""
    if previous is not None and same_bytes(previous / rel, data):
        return False
    _write(staging / rel, data)
    return True


def _previous_files(cache: BuildCache, out: Path, walk: bool = True) -> list[str] | None:
    """What the last build wrote to ``out``; when the cache does not know, all files found
    there (or None with ``walk=False``)."""
    raw = cache.get(f"files:{out.resolve()}")
    try:
        return [str(p) for p in json.loads(raw)] if raw else (_walk(out) if walk else None)
    except (ValueError, TypeError):
        return _walk(out) if walk else None


def _walk(out: Path) -> list[str]:
    return [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()] if out.is_dir() else []


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
