"""Digests of a build's inputs and outputs, and of each template with what it uses.

A no-change rebuild compares one digest of every input file (site.yaml, content,
templates; by their bytes, so a CI checkout with fresh mtimes still matches) and
one of the output tree's (path, size, mtime) with those recorded by the last
build, and stops there. A template's digest covers the templates it extends,
includes or imports, transitively, so a changed template changes the keys of
exactly the pages that use it.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta


def _files(folder: Path) -> list[tuple[str, str]]:
    """(relative path, absolute path) of every file below ``folder``, sorted, dot-entries skipped.

    The order and the rules are ``os.walk``'s (a folder's files before its sub-folders,
    symlinked folders listed but not entered, unreadable folders skipped), with one
    ``scandir`` per folder and no ``relpath``: an output tree has a folder per page.
    """
    found: list[tuple[str, str]] = []

    def visit(top: str, prefix: str) -> None:
        try:
            with os.scandir(top) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                found.append((prefix + entry.name, entry.path))
            elif not entry.is_symlink():
                folders.append(entry)
        for entry in folders:
            visit(entry.path, f"{prefix}{entry.name}/")

    visit(str(folder), "")
    return found


def file_digest(path: str) -> str:
    """The SHA-256 of one file's bytes (the unit both the input digest and the document keys use)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return "%d:%s" % (len(data), hashlib.sha256(data).hexdigest())


class FileDigests:
    """File digests by path, trusted from the last build while a file's stat is unchanged.

    Git's index does the same: a file whose size, mtime, ctime and inode are as
    recorded is not read again. ctime changes on every write and cannot be set
    back, so a tool that restores an mtime still shows. A file changed less than
    two seconds before it was recorded could change again within one clock tick
    unseen, so such entries are not kept ("racily clean" in git's words). A
    checkout (a CI run restoring the cache) gives every file a new ctime and
    inode, so everything is read again there.
    """

    RACY_NS = 2_000_000_000

    def __init__(self, recorded: bytes | None = None) -> None:
        self.known: dict[str, str] = {}               # this build's digests, by path
        self._old: dict[str, list[str]] = {}
        self._new: dict[str, list[str]] = {}
        self._trusted_before = time.time_ns() - self.RACY_NS
        try:
            old = json.loads(recorded) if recorded else {}
            self._old = old if isinstance(old, dict) else {}
        except ValueError:
            self._old = {}

    def __call__(self, path: str) -> str:
        found = self.known.get(path)
        if found is not None:
            return found
        st = os.stat(path)
        hit = self._old.get(path)
        key = _stat_key(st)
        return self.note(path, st, hit[1] if isinstance(hit, list) and len(hit) == 2 and hit[0] == key
                         else file_digest(path))

    def note(self, path: str, st: os.stat_result, digest: str) -> str:
        """Take ``digest`` as the one of ``path`` (whose stat, taken before reading it, is ``st``)."""
        if max(st.st_mtime_ns, st.st_ctime_ns) < self._trusted_before:
            self._new[path] = [_stat_key(st), digest]
        self.known[path] = digest
        return digest

    def record(self) -> bytes:
        return json.dumps(self._new, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Inputs:
    """Every input file by its bytes: the frame (site.yaml, templates, the build's settings)
    and each content file, which an incremental build compares one by one."""

    frame: str
    content: dict[str, str]     # content file, relative to content/ → its digest

    @property
    def digest(self) -> str:
        digest = hashlib.sha256(f"{self.frame}\0".encode())
        for rel, found in self.content.items():
            digest.update(f"{rel}\0{found}\0".encode())
        return digest.hexdigest()


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def read_inputs(root: Path, templates: Path, extra: str, files: FileDigests) -> Inputs:
    """The digests of site.yaml, every content file and every template file, by bytes.

    Each file is read at most once per build (``files`` keeps its digest for
    the document loader's cache key), and not at all while its stat is unchanged.
    """
    frame = hashlib.sha256(extra.encode())
    config = root / "site.yaml"
    frame.update(b"site.yaml\0" + (config.read_bytes() if config.is_file() else b"-"))
    frame.update(f"\0templates\0{templates.resolve()}\0".encode())
    for rel, found in _digests(templates, files).items():
        frame.update(f"{rel}\0{found}\0".encode())
    content = root / "content"
    frame.update(f"\0content\0{content.resolve()}\0".encode())
    return Inputs(frame.hexdigest(), _digests(content, files))


def _digests(folder: Path, files: FileDigests) -> dict[str, str]:
    found: dict[str, str] = {}
    for rel, path in _files(folder):
        try:
            found[rel] = files(path)
        except OSError:
            found[rel] = "missing"
    return found


def stamp(path: str | Path) -> str:
    """A file's size, mtime and inode: it changes whenever the file is written or replaced."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def output_stamps(out: Path, known: list[str] | None = None) -> dict[str, str]:
    """The :func:`stamp` of the ``known`` files of ``out`` (those the last build wrote), by
    relative path; of every file below it (one walk of the tree) when that is not known."""
    if known is not None:
        top = str(out)
        return {rel: stamp(f"{top}/{rel}") for rel in known}
    return {rel: stamp(path) for rel, path in _files(out)} if out.is_dir() else {}


def outputs_digest(stamps: dict[str, str], catalog: Path) -> str:
    """One hash of the output tree's stamps (see :func:`output_stamps`) and the catalog's."""
    digest = hashlib.sha256(f"catalog\0{stamp(catalog)}\0".encode())
    for rel, found in sorted(stamps.items()):
        digest.update(f"{rel}\0{found}\0".encode())
    return digest.hexdigest()


def template_digests(env: jinja2.Environment, templates: Path) -> dict[str, str]:
    """For every template, a hash of its source and of every template it uses, transitively."""
    sources: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    for rel, path in _files(templates):
        if rel.startswith("static/"):
            continue
        source = Path(path).read_text(encoding="utf-8", errors="replace")
        sources[rel] = source
        try:
            found = list(meta.find_referenced_templates(env.parse(source)))
            # A dynamic reference (None) could be any template: depend on all of them.
            uses[rel] = {name for name in found if name} if None not in found else {"*"}
        except jinja2.TemplateSyntaxError:
            uses[rel] = set()   # rendering reports the error with its place
    result: dict[str, str] = {}
    for name in sources:
        closure, stack = set(), [name]
        while stack:
            current = stack.pop()
            if current in closure:
                continue
            closure.add(current)
            stack.extend(sources if "*" in uses.get(current, ()) else uses.get(current, ()))
        digest = hashlib.sha256()
        for used in sorted(closure):
            digest.update(f"{used}\0{sources.get(used, '')}\0".encode())
        result[name] = digest.hexdigest()
    return result
