"""The build: config + content → model → pages + catalog → disk, atomically.

Pages are written to a staging folder beside the output and swapped in only
when everything succeeded, so a failed build leaves the previous site intact.
A page whose inputs (its data, the templates, the config, chuchuang's version)
hash to the key recorded last time is linked from the previous output instead
of being rendered again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from functions.catalog import Catalog, PartnerEntry
from functions.catalog import Product as CatalogProduct
from generator import __version__
from generator.assets import AVATAR_WIDTHS, IMAGE_WIDTHS, ImageError, OutputFile, collect_static, process_image
from generator.cache import BuildCache
from generator.config import SiteConfig, load_config
from generator.content import Content, read_content
from generator.diagnostics import BuildError, Report
from generator.markup import render as render_markdown
from generator.pages import Rendered, plan
from generator.render import PageJob, SiteGlobals, fingerprint, make_env, render_page
from generator.views import ImageView

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


def load_site(root: Path) -> tuple[SiteConfig, Content]:
    """Read and check site.yaml and content; raise BuildError with every problem."""
    config, report = load_config(root / "site.yaml")
    if config is None:
        raise BuildError(report)
    content, content_report = read_content(root / "content", config)
    if not content_report.ok:
        raise BuildError(content_report)
    return config, content


def build(options: BuildOptions) -> BuildResult:
    """Build the showcase into ``options.out`` and write the catalog beside it."""
    started = time.perf_counter()
    root = options.root
    config, content = load_site(root)
    if options.base_url:
        config = _with_base_url(config, options.base_url)
    today = options.today or _today()
    cache = BuildCache(root / ".chuchuang-cache")
    try:
        rendered, image_files = _render_inputs(content, cache)
        site_plan = plan(config, content, rendered)
        templates = root / "templates" if (root / "templates").is_dir() else DEFAULT_TEMPLATES
        static = collect_static(templates / "static")
        site = SiteGlobals(config.title, config.description, config.language, config.disclosure,
                           config.base_url)
        salt = fingerprint(__version__, _tree_hash(templates), asdict(site), static.urls)
        site_key = str(options.out.resolve())
        old_keys = {} if options.clean else cache.page_keys(site_key)
        keys = {job.out: fingerprint(salt, job.template, job.meta, job.context) for job in site_plan.jobs}
        reuse = [j for j in site_plan.jobs if old_keys.get(j.out) == keys[j.out] and (options.out / j.out).is_file()]
        reused = {j.out for j in reuse}
        todo = [j for j in site_plan.jobs if j.out not in reused]
        staging = options.out.with_name(f".{options.out.name}.staging-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for job in reuse:
                _link(options.out / job.out, staging / job.out)
            written = _render_all(templates, site, static.urls, todo, staging, options.jobs)
            extra = [*static.files, *image_files,
                     OutputFile("index.json", json.dumps(site_plan.index, ensure_ascii=False,
                                                         separators=(",", ":")).encode())]
            for item in extra:
                written += _write_or_link(options.out / item.path, staging / item.path, item.data)
            catalog_text = make_catalog(config, content, today).to_json()
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _swap(staging, options.out)
        _write_atomic(options.catalog, catalog_text.encode())
        cache.set_page_keys(site_key, keys)
        cache.commit()
    finally:
        cache.close()
    return BuildResult(len(site_plan.jobs), len(todo), len(reuse), written,
                       time.perf_counter() - started, options.catalog, options.out,
                       tuple(sorted(j.out for j in todo)))


def _today() -> dt.date:
    # SOURCE_DATE_EPOCH makes rate selection reproducible (reproducible-builds.org convention).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def _with_base_url(config: SiteConfig, base_url: str) -> SiteConfig:
    from dataclasses import replace
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


def _render_inputs(content: Content, cache: BuildCache) -> tuple[Rendered, list[OutputFile]]:
    """Markdown and images, each done once per distinct input and cached across builds."""
    html: dict[str, str] = {}
    text: dict[str, str] = {}
    docs = [(p.id, p.body) for p in content.published]
    docs += [(f"creator:{c.id}", c.bio) for c in content.creators.values()]
    for key, body in docs:
        digest = hashlib.sha256(f"{__version__}\0{body}".encode()).hexdigest()
        hit = cache.markup(digest)
        if hit is None:
            result = render_markdown(body)
            hit = (result.html, result.text, result.words)
            cache.put_markup(digest, *hit)
        html[key], text[key] = hit[0], hit[1]
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


_worker_env: jinja2.Environment | None = None


def _init_worker(templates: Path, site: SiteGlobals, assets: dict[str, str]) -> None:
    global _worker_env
    _worker_env = make_env(templates, site, assets)


class _TemplateFailure(Exception):
    """A render error reduced to picklable facts, so it survives a worker process."""

    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(name, line, message)
        self.name, self.line, self.message = name, line, message


def _render_chunk(jobs: list[PageJob], staging: Path, templates: Path) -> int:
    assert _worker_env is not None
    for job in jobs:
        try:
            data = render_page(_worker_env, job)
        except jinja2.TemplateSyntaxError as exc:
            raise _TemplateFailure(exc.filename or exc.name or job.template, exc.lineno, exc.message or str(exc)) from None
        except Exception as exc:  # any template bug: report its place, never a traceback
            name, line = _template_frame(exc, templates)
            raise _TemplateFailure(name if name != "?" else job.template, line, f"{type(exc).__name__}: {exc}") from None
        _write(staging / job.out, data)
    return len(jobs)


def _render_all(templates: Path, site: SiteGlobals, assets: dict[str, str], jobs: list[PageJob],
                staging: Path, workers: int) -> int:
    workers = workers or os.cpu_count() or 1
    try:
        if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
            chunks = [jobs[i::workers * 4] for i in range(workers * 4)]
            with ProcessPoolExecutor(workers, initializer=_init_worker,
                                     initargs=(templates, site, assets)) as pool:
                return sum(pool.map(_render_chunk, chunks, [staging] * len(chunks), [templates] * len(chunks)))
        _init_worker(templates, site, assets)
        return _render_chunk(jobs, staging, templates)
    except _TemplateFailure as failure:
        raise _template_error(templates, failure.name, failure.line, failure.message) from None


def _template_frame(exc: BaseException, templates: Path) -> tuple[str, int]:
    """The innermost template file and line in a render traceback (Jinja maps them back)."""
    place = ("?", 1)
    tb = exc.__traceback__
    folder = str(templates.resolve())
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(folder) or filename.startswith(str(templates)):
            place = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return place


def _template_error(templates: Path, name: str, line: int, message: str) -> BuildError:
    report = Report()
    path = Path(name)
    if not path.is_absolute() and not path.is_relative_to(templates):
        path = templates / name
    report.add(path, line, 1, "template.error", message, hint="fix the template; the previous site is still in place")
    return BuildError(report)


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_or_link(previous: Path, target: Path, data: bytes) -> int:
    """Link the previous file when its bytes are the same; else write. Returns files written."""
    try:
        if previous.stat().st_size == len(data) and previous.read_bytes() == data:
            _link(previous, target)
            return 0
    except OSError:
        pass
    _write(target, data)
    return 1


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` in place of ``out`` with two renames; the old tree goes last."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
