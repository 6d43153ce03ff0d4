"""Documents read through the build cache; the changed ones are read and rendered in workers."""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from generator import __version__
from generator.cache import BuildCache
from generator.config import SiteConfig
from generator.content import FileTask, Record, markdown_source
from generator.diagnostics import Diagnostic
from generator.progress import Progress
from generator.records import dump_record, load_record
from generator.snapshot import FileDigests
from generator.workers import Workers, load_chunk


class DocumentLoader:
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
        # An empty cache has nothing to find: the workers take each file's digest as they read it.
        keys: list[str | None] = ([self._key(task, listings) for task in tasks] if self.cache.has_documents()
                                  else [None] * len(tasks))
        hits = self.cache.documents([k for k in keys if k])
        answers: list[tuple[Record, list[Diagnostic]] | None] = [None] * len(tasks)
        for i, key in enumerate(keys):
            if key in hits:
                data, body_key = hits[key]
                with contextlib.suppress(Exception):   # an unreadable entry is a miss, never trusted
                    record = load_record(data, tasks[i].path)
                    self.markup_keys[markdown_source(record)] = body_key
                    answers[i] = (record, [])
        missing = [i for i, answer in enumerate(answers) if answer is None]
        self.progress.begin("reading", len(missing))
        fresh: list[tuple[str, bytes, str]] = []
        results = self.workers.map_chunks(load_chunk, [tasks[i] for i in missing], (config, content_root),
                                          chunk=64, inline_below=128, done=self.progress.advance)
        for i, (record, diagnostics, markup, seen) in zip(missing, (a for chunk in results for a in chunk)):
            answers[i] = (record, diagnostics)
            if keys[i] is None:
                if seen is not None:
                    self.digests.note(str(tasks[i].path), *seen)
                keys[i] = self._key(tasks[i], listings) if seen is not None else ""
            if record is None:
                continue
            body_key = self.markup_keys[markdown_source(record)] = markup_key(markdown_source(record))
            if markup is not None:
                self.new_markup.append((body_key, *markup))
            if not diagnostics and keys[i]:
                fresh.append((keys[i], dump_record(record), body_key))
        self.cache.put_documents(fresh)
        return answers  # type: ignore[return-value]

    def cached(self, task: FileTask, digest: str) -> Record:
        """The record of ``task``'s document as it was when its bytes had ``digest``, if still cached."""
        key = self._key(task, {}, digest)
        data = self.cache.documents([key]).get(key) if key else None
        try:
            return load_record(data[0], task.path) if data else None
        except Exception:   # an unreadable entry is a miss, never trusted
            return None

    def _key(self, task: FileTask, listings: dict[Path, str], digest: str | None = None) -> str:
        try:
            data = self.digests(str(task.path)) if digest is None else digest
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


def markup_key(body: str) -> str:
    return hashlib.sha256(f"{__version__}\0{body}".encode()).hexdigest()
