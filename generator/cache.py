"""The build cache (``.chuchuang-cache/``): rendered Markdown, processed images, page keys.

One SQLite file, safe to restore from any CI cache. A cache written by another
chuchuang version, or one that SQLite cannot read, is discarded, never trusted.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from generator import __version__

SCHEMA = f"chuchuang-cache-7/{__version__}"
_BATCH = 500    # keys per "IN (...)" lookup, well under SQLite's variable limit

# 16 KiB pages (set when the file is created): a rendered body of a few KB fits in one page
# instead of a chain of 4 KiB overflow pages; storing 10,000 bodies took 0.07 s instead of 0.11-0.19 s.
_TABLES = """
PRAGMA page_size = 16384;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS markup (key TEXT PRIMARY KEY, html TEXT NOT NULL, lead TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (key TEXT PRIMARY KEY, view TEXT NOT NULL, files TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (path TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pages (site TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (site, path));
CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, record BLOB NOT NULL, markup TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


def html_reader(path: Path) -> tuple[sqlite3.Connection, Callable[[str], str]]:
    """A read-only connection to a cache and its markup key → HTML lookup (for worker processes)."""
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    db.execute("BEGIN")     # one read transaction (one lock) for all lookups until the caller closes it

    def lookup(key: str) -> str:
        rows = db.execute("SELECT html FROM markup WHERE key = ?", (key,)).fetchall()
        if not rows:
            raise LookupError(f"rendered Markdown {key} is not in the build cache")
        return rows[0][0]

    return db, lookup


class BuildCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "cache.sqlite"
        self._verified = folder / "cache.verified"
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path
        for attempt in range(2):
            db = None
            try:
                # As left by close() and untouched since: no need to read all of it again (a file
                # restored by a CI cache, or left by a crash, has another stat and is checked).
                trusted = self._verified.is_file() and self._verified.read_text() == _stat(path)
                db = sqlite3.connect(path)
                if not trusted and db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("cache failed its integrity check")
                db.executescript(_TABLES)
                row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is not None and row[0] != SCHEMA:
                    raise sqlite3.DatabaseError("cache written by another chuchuang version")
                if row is None:
                    db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
                    db.commit()
                return db
            except sqlite3.DatabaseError:
                if db is not None:
                    db.close()
                for stale in [*self.folder.glob("cache.sqlite*"), self._verified]:
                    stale.unlink(missing_ok=True)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def leads(self, keys: list[str]) -> dict[str, tuple[int, str]]:
        """Each markup's HTML size and its lead (the start of its plain text, see put_markups)."""
        found: dict[str, tuple[int, str]] = {}
        for rows in self._many("SELECT key, length(html), lead FROM markup WHERE key IN ({})", keys):
            found.update((row[0], (row[1], row[2])) for row in rows)
        return found

    def put_markups(self, rows: list[tuple[str, str, str]]) -> None:
        """(markup key, sanitised HTML, lead): the lead is as much of the plain text as summaries use."""
        self.db.executemany("INSERT OR REPLACE INTO markup VALUES (?, ?, ?)", rows)

    def has_documents(self) -> bool:
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0] == 1

    def documents(self, keys: list[str]) -> dict[str, tuple[bytes, str]]:
        """Checked documents by content key: the record as JSON (see records.py) and its body's markup key."""
        found: dict[str, tuple[bytes, str]] = {}
        for rows in self._many("SELECT key, record, markup FROM documents WHERE key IN ({})", keys):
            found.update((row[0], (bytes(row[1]), row[2])) for row in rows)
        return found

    def put_documents(self, rows: list[tuple[str, bytes, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", rows)

    def get(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def put(self, key: str, value: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))

    def _many(self, sql: str, keys: list[str]):
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH):
            part = unique[start:start + _BATCH]
            yield self.db.execute(sql.format(",".join("?" * len(part))), part).fetchall()

    def image(self, key: str) -> tuple[dict, list[str]] | None:
        row = self.db.execute("SELECT view, files FROM images WHERE key = ?", (key,)).fetchone()
        return (json.loads(row[0]), json.loads(row[1])) if row else None

    def put_image(self, key: str, view: dict, files: list[tuple[str, bytes]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?)", files)
        self.db.execute("INSERT OR REPLACE INTO images VALUES (?, ?, ?)",
                        (key, json.dumps(view), json.dumps([p for p, _ in files])))

    def blob(self, path: str) -> bytes | None:
        row = self.db.execute("SELECT data FROM blobs WHERE path = ?", (path,)).fetchone()
        return bytes(row[0]) if row else None

    def page_keys(self, site: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, key FROM pages WHERE site = ?", (site,)))

    def set_page_keys(self, site: str, keys: dict[str, str], old: dict[str, str] | None = None) -> None:
        """Record ``keys``; with the ``old`` ones (as :meth:`page_keys` gave them) only the differences."""
        if old is None:
            self.db.execute("DELETE FROM pages WHERE site = ?", (site,))
            old = {}
        gone = [(site, p) for p in old if p not in keys]
        self.db.executemany("DELETE FROM pages WHERE site = ? AND path = ?", gone)
        self.db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)",
                            [(site, p, k) for p, k in keys.items() if old.get(p) != k])

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        """Close, and note the file's stat: the next open trusts it while the stat is unchanged."""
        self.db.close()
        if not self.path.with_name(self.path.name + "-journal").exists():
            temporary = self._verified.with_suffix(".tmp")
            temporary.write_text(_stat(self.path))
            temporary.replace(self._verified)


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
