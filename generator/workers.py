"""Worker processes for the build: read + Markdown for changed documents, render pages.

The pool is forked at the start of a build, while the parent is still small, so
workers do not inherit (and count again) the model the parent loads later. Each
worker compiles the templates once and keeps its Jinja2 environment across chunks.
"""
from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from generator.cache import html_reader
from generator.config import SiteConfig
from generator.content import FileTask, Record, load_file, markdown_source
from generator.diagnostics import BuildError, Diagnostic, Report
from generator.markup import LEAD
from generator.markup import render as render_markdown
from generator.render import PageJob, SiteGlobals, make_env, render_page
from generator.snapshot import file_digest
from generator.views import use_html_source

Markup = tuple[str, str]     # sanitised HTML, the start of its plain text (LEAD characters)
Seen = tuple[os.stat_result, str]   # a file's stat and the digest of the bytes read after it


class Workers:
    """A process pool when ``jobs`` > 1 (else everything runs inline), shut down on exit."""

    def __init__(self, jobs: int, start: bool = True) -> None:
        """``start``: fork the workers now; else at :meth:`start` or when first given more than a few items."""
        self.jobs = jobs or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        if start:
            self.start()

    def start(self) -> None:
        if self.jobs > 1 and self.pool is None:
            # Workers make no lasting reference cycles, and die with the build: no cycle collection.
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                            initializer=gc.disable)
            # The first submit forks every worker: do it now, before the parent loads the catalog,
            # so workers do not start with (and count again) hundreds of MB they never use.
            self.pool.submit(os.getpid).result()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Drop the work not yet started and wait for the rest: afterwards no worker writes anything."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` in a worker (here, at once, without workers)."""
        self.start()
        if self.pool is not None:
            return self.pool.submit(fn, *args)
        done: Future = Future()
        done.set_result(fn(*args))
        return done

    def map_chunks(self, fn: Callable[..., Any], items: list, args: tuple, chunk: int,
                   inline_below: int, done: Callable[[int], None] = lambda n: None,
                   weight: Callable[[Any], int] | None = None,
                   pack: Callable[[list], Any] | None = None) -> Iterator[Any]:
        """``fn(part, *args)`` for consecutive parts of ``items``, in order; inline when few items.

        A part holds ``chunk`` items, or with ``weight`` items worth about ``chunk`` in all.
        ``pack``: what a part sent to a worker becomes (``fn`` there gets that instead).
        """
        chunks = _split(items, chunk, weight)
        if len(items) >= inline_below:
            self.start()
        if self.pool is None or len(items) < inline_below:
            return _inline(fn, chunks, args, done)
        pack = pack or (lambda part: part)
        # Submitted now: the caller may do other work before it asks for the first result.
        return _results(chunks, [self.pool.submit(fn, pack(part), *args) for part in chunks], done)


def _inline(fn: Callable[..., Any], chunks: list[list], args: tuple, done: Callable[[int], None]) -> Iterator[Any]:
    for part in chunks:
        result = fn(part, *args)
        done(len(part))
        yield result


def _results(chunks: list[list], futures: list[Future], done: Callable[[int], None]) -> Iterator[Any]:
    try:
        for part, future in zip(chunks, futures):
            result = future.result()
            done(len(part))
            yield result
    finally:
        for future in futures:
            future.cancel()


def _split(items: list, chunk: int, weight: Callable[[Any], int] | None) -> list[list]:
    if weight is None:
        return [items[i:i + chunk] for i in range(0, len(items), chunk)]
    chunks: list[list] = [[]]
    total = 0
    for item in items:
        if total >= chunk:
            chunks.append([])
            total = 0
        chunks[-1].append(item)
        total += weight(item)
    return [part for part in chunks if part]


# --- objects many parts share -----------------------------------------------------------

@dataclass(frozen=True)
class Packed:
    """A part pickled with references into a :class:`Shared` table instead of copies."""

    table: str      # the table's file
    data: bytes


class Shared:
    """Objects that many parts sent to workers hold (product cards), pickled once into a file
    each worker loads once; a part then carries references to them, not copies. Only
    instances of classes are shared (not str, int, tuple, list or dict).

    A card is on its creator's page, its tags' pages and beside related products, so
    without this the 10,000 cards of a catalog went to the workers 80,000 times.
    """

    def __init__(self, objects: Iterable[object]) -> None:
        self.objects = list(objects)
        self._index = {id(o): i for i, o in enumerate(self.objects)}
        handle, self.path = tempfile.mkstemp(prefix="chuchuang-shared-", suffix=".pickle")
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump(self.objects, file, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            self.remove()
            raise

    def pack(self, part: list) -> Packed:
        buffer = io.BytesIO()
        _SharingPickler(buffer, self._index, self.objects).dump(part)
        return Packed(self.path, buffer.getvalue())

    def remove(self) -> None:
        """Delete the file (once no worker will load it any more)."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class _SharingPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, index: dict[int, int], objects: list) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.index, self.objects = index, objects

    def reducer_override(self, obj: object) -> object:
        # Called for objects of classes only, not for str, int, tuple, list or dict (persistent_id
        # would be called for every object of a part, a million times at 10,000 products).
        at = self.index.get(id(obj))
        return (_shared, (at,)) if at is not None and self.objects[at] is obj else NotImplemented


_table: tuple[str, list] | None = None     # the last Shared table this process loaded


def _shared(at: int) -> object:
    """Object ``at`` of the table :func:`unpack` loaded (a reference in a packed part)."""
    assert _table is not None
    return _table[1][at]


def unpack(part: list | Packed) -> list:
    """A part as it was before :meth:`Shared.pack` (a plain list is returned as it is)."""
    global _table
    if not isinstance(part, Packed):
        return part
    if _table is None or _table[0] != part.table:
        with open(part.table, "rb") as file:
            _table = (part.table, pickle.load(file))
    return pickle.loads(part.data)


# --- reading documents -----------------------------------------------------------------

def markup(body: str) -> Markup:
    result = render_markdown(body)
    return result.html, result.text[:LEAD]


def load_chunk(tasks: list[FileTask], config: SiteConfig, content_root: Path,
               ) -> list[tuple[Record, list[Diagnostic], Markup | None, Seen | None]]:
    """Read and check documents and render the Markdown of the valid ones; with each, the
    file's stat (taken first) and digest, so the caller need not read it again.

    All the chunk's files are read before any Markdown is rendered: alternating YAML and
    Markdown document by document made each 10% dearer (the CPU's caches hold one at a time).
    """
    loaded = []
    for task in tasks:
        try:
            seen: Seen | None = (os.stat(task.path), file_digest(str(task.path)))
        except OSError:
            seen = None     # load_file says why
        loaded.append((*load_file(task, config, content_root), seen))
    # A draft's page is never built: its Markdown is not rendered.
    return [(record, diagnostics, None if record is None or getattr(record, "draft", False)
             else markup(markdown_source(record)), seen) for record, diagnostics, seen in loaded]


# --- rendering pages -------------------------------------------------------------------

_env: tuple[tuple, jinja2.Environment] | None = None


def _environment(templates: Path, site: SiteGlobals, assets: dict[str, str], sources: str) -> jinja2.Environment:
    global _env
    key = (str(templates), site, tuple(sorted(assets.items())), sources)
    if _env is None or _env[0] != key:
        _env = (key, make_env(templates, site, assets))
    return _env[1]


class TemplateFailure(Exception):
    """A render error reduced to picklable facts, so it survives a worker process."""

    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(name, line, message)
        self.name, self.line, self.message = name, line, message


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def render_chunk(jobs: list[PageJob] | Packed, staging: Path, previous: Path | None, templates: Path,
                 site: SiteGlobals, assets: dict[str, str], sources: str, write: Callable[[Path, bytes], None],
                 markups: Path) -> list[str]:
    """Render ``jobs``; stage those whose bytes differ from ``previous``; return their paths.

    ``sources`` is a digest of the templates' text: a worker (or a long-lived
    ``serve`` process) keeps its compiled templates only while it is unchanged.
    Bodies (:class:`Html`) are read from the build cache at ``markups`` as pages print them.
    """
    jobs = unpack(jobs)
    env = _environment(templates, site, assets, sources)
    db, lookup = html_reader(markups)
    previous_source = use_html_source(lookup)
    try:
        return _render_jobs(env, jobs, staging, previous, templates, write)
    finally:
        use_html_source(previous_source)
        db.close()


def _render_jobs(env: jinja2.Environment, jobs: list[PageJob], staging: Path, previous: Path | None,
                 templates: Path, write: Callable[[Path, bytes], None]) -> list[str]:
    staged = []
    for job in jobs:
        try:
            data = render_page(env, job)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateFailure(exc.filename or exc.name or job.template, exc.lineno,
                                  exc.message or str(exc)) from None
        except Exception as exc:  # any template bug: report its place, never a traceback
            name, line = _template_frame(exc, templates)
            raise TemplateFailure(name if name != "?" else job.template, line,
                                  f"{type(exc).__name__}: {exc}") from None
        if stage(previous, staging, job.out, data, write):
            staged.append(job.out)
    return staged


def stage(previous: Path | None, staging: Path, rel: str, data: bytes,
          write: Callable[[Path, bytes], None]) -> bool:
    """Write ``data`` to ``staging/rel`` unless the previous output already has these bytes; True when staged."""
    if previous is not None and same_bytes(previous / rel, data):
        return False
    write(staging / rel, data)
    return True


def template_error(templates: Path, failure: TemplateFailure) -> BuildError:
    report = Report()
    path = Path(failure.name)
    if not path.is_absolute() and not path.is_relative_to(templates):
        path = templates / failure.name
    report.add(path, failure.line, 1, "template.error", failure.message,
               hint="fix the template; the previous site is still in place")
    return BuildError(report)


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
