"""What a deploy would do, decided without changing anything.

The built folder is compared with what the bucket holds (never with a local
record CI may not have): a file is uploaded when its content or the headers
it should be served with differ. Uploads are grouped so that a fan never
sees a broken page: assets first, then pages from the deepest up (a product
page exists before the listings that link to it), then the sitemap and
robots.txt; only after all of them, the deletion of what left the site.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"
MAX_INVALIDATION_PATHS = 15      # beyond this, collapse to /<folder>/* and then to /*
PAGE_SUFFIXES = {".html", ".xml", ".json", ".txt"}
LAST_PAGES = ("sitemap.xml", "robots.txt")   # they announce pages, so they go up once the pages are there
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".webmanifest": "application/manifest+json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
# A content hash in the file name (app.b5d6763268.css, 000ddb114c-320.webp): the name changes with the bytes.
_FINGERPRINT = re.compile(r"(?:^|[.-])[0-9a-f]{8,}(?:[.-]|$)")


@dataclass(frozen=True)
class LocalFile:
    """One file of the built site, with the headers it is served with."""

    key: str               # "mei/oolong/index.html"
    path: Path
    size: int
    sha256: str
    md5: str
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class RemoteObject:
    """One object in the bucket; hash and headers are known only once a HEAD request was needed."""

    key: str
    size: int
    etag: str
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True)
class Step:
    name: str                       # "assets", "pages", "sitemap"
    files: tuple[LocalFile, ...]


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]         # uploads, in order; each step completes before the next starts
    skipped: tuple[str, ...]
    deletes: tuple[str, ...]
    invalidation: tuple[str, ...]   # CloudFront paths, URL-encoded, wildcards collapsed
    changed_paths: tuple[str, ...]  # the same before collapsing (what the invalidation must cover)
    new: frozenset[str] = frozenset()   # uploads the bucket did not hold before

    @property
    def uploads(self) -> tuple[LocalFile, ...]:
        return tuple(f for step in self.steps for f in step.files)

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.uploads)


def content_type(key: str, head: bytes = b"") -> str:
    """The Content-Type for a site file; text types carry ``charset=utf-8``, Atom feeds are told from sitemaps."""
    suffix = Path(key).suffix.lower()
    if suffix == ".xml" and b"<feed" in head:
        return _TYPES[".atom"]
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def cache_control(key: str) -> str:
    """A year and ``immutable`` for fingerprinted assets; everything else is revalidated on every request."""
    if key.startswith("assets/") and _FINGERPRINT.search(key.rsplit("/", 1)[-1]):
        return IMMUTABLE
    return REVALIDATE


def scan(site: Path) -> dict[str, LocalFile]:
    """Every publishable file below ``site`` by bucket key (dot-files are never published, .well-known is)."""
    files: dict[str, LocalFile] = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        key = path.relative_to(site).as_posix()
        if any(part.startswith(".") and part != ".well-known" for part in key.split("/")):
            continue
        sha256, md5, size, head = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0, b""
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                head = head or chunk[:512]
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
        files[key] = LocalFile(key, path, size, sha256.hexdigest(), md5.hexdigest(), content_type(key, head),
                               cache_control(key))
    return files


def needs_head(local: LocalFile, remote: RemoteObject) -> bool:
    """Whether the object's metadata must be read to decide (a different size already says "changed")."""
    return local.size == remote.size


def unchanged(local: LocalFile, remote: RemoteObject) -> bool:
    """Same bytes (our ``sha256`` metadata, else a single-part ETag's MD5) and the same headers."""
    if local.size != remote.size:
        return False
    if remote.sha256 is not None:
        same = remote.sha256 == local.sha256
    else:
        same = "-" not in remote.etag and remote.etag == local.md5
    return same and remote.content_type == local.content_type and remote.cache_control == local.cache_control


def make_plan(local: dict[str, LocalFile], remote: dict[str, RemoteObject]) -> Plan:
    """Uploads in publishing order, skips, deletes and the CloudFront paths to invalidate."""
    todo = [f for key, f in sorted(local.items()) if key not in remote or not unchanged(f, remote[key])]
    skipped = tuple(sorted(key for key in local if key in remote and unchanged(local[key], remote[key])))
    deletes = tuple(sorted(key for key in remote if key not in local))
    assets = tuple(f for f in todo if _is_asset(f.key))
    last = tuple(f for f in todo if f.key in LAST_PAGES)
    pages: dict[int, list[LocalFile]] = defaultdict(list)
    for f in todo:
        if not _is_asset(f.key) and f.key not in LAST_PAGES:
            pages[f.key.count("/")].append(f)
    steps = [Step("assets", assets)] if assets else []
    steps += [Step("pages", tuple(pages[depth])) for depth in sorted(pages, reverse=True)]
    if last:
        steps.append(Step("sitemap", last))
    # A new fingerprinted asset was never served under its name; a deleted one may stay at the edge,
    # where it keeps a page still open in a fan's browser working.
    touched = [f.key for f in todo if not (f.key.startswith("assets/") and f.key not in remote)]
    touched += [key for key in deletes if not key.startswith("assets/")]
    changed = tuple(sorted({p for key in touched for p in url_paths(key)}))
    return Plan(tuple(steps), skipped, deletes, collapse(changed), changed,
                frozenset(f.key for f in todo if f.key not in remote))


def _is_asset(key: str) -> bool:
    return key.startswith("assets/") or Path(key).suffix.lower() not in PAGE_SUFFIXES


def url_paths(key: str) -> tuple[str, ...]:
    """The URL paths a bucket key is served under (a folder's index.html also as the folder), URL-encoded."""
    path = "/" + quote(key, safe="/-._~")
    if key == "index.html" or key.endswith("/index.html"):
        return path, path[: -len("index.html")]
    return (path,)


def collapse(paths: tuple[str, ...], limit: int = MAX_INVALIDATION_PATHS) -> tuple[str, ...]:
    """At most ``limit`` paths: the busiest top folders become ``/<folder>/*`` until it fits, else ``/*``."""
    if len(paths) <= limit:
        return paths
    folders: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        folders[path.split("/")[1] if path.count("/") >= 2 else ""].append(path)
    wild: set[str] = set()
    count = len(paths)
    for top, members in sorted(folders.items(), key=lambda item: (-len(item[1]), item[0])):
        if count <= limit or len(members) < 2:
            break
        if top:
            wild.add(top)
            count -= len(members) - 1
    if count > limit:
        return ("/*",)
    return tuple(sorted([f"/{top}/*" for top in wild] +
                        [p for top, members in folders.items() if top not in wild for p in members]))


def covers(invalidation: tuple[str, ...], path: str) -> bool:
    """Whether an invalidation (with CloudFront's trailing ``*``) covers ``path``."""
    return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in invalidation)


def human_size(size: int) -> str:
    """``1536`` → ``1.5 kB``."""
    if size < 1000:
        return f"{size} B"
    value, unit = size / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"
