"""What an incremental build needs from the last one to re-plan only the pages a change touches.

After every build the cache keeps a :class:`Snapshot`: the digest of every
input but content/ (the frame), each content file's digest, each product's
:data:`~generator.pages.STRUCTURE` in reading order, which products' cards and
which products' pages every page shows, and digests of the index, the catalog
and the other output files as written. When the next build finds the frame and
the set of content files unchanged, and only product documents changed, none of
them in its structure, then no page appears, disappears or moves, and a page
can change only if it shows the card or the page of a changed product.
:func:`changed_products` finds that case. The build then compares each changed
product's card and page views made from its previous record (still in the
cache) and from the new one, plans only the pages that show what differs, from
the records of the products those pages show and stand-ins holding just the
structure of all the others, and patches the changed products' entries into
the index and the catalog. Anything else (including a stand-in asked for more
than its structure) falls back to the full build.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path

from generator.content import Product
from generator.pages import STRUCTURE, SitePlan
from generator.records import check_types, strings
from generator.snapshot import Inputs

__all__ = ["Snapshot", "Standin", "changed_products", "digest", "others_digest", "snapshot", "structure"]


@dataclass(frozen=True)
class Standin:
    """A product the build did not read: only its structure, so any other field is an error."""

    id: str
    creator: str
    slug: str
    title: str
    tags: tuple[str, ...]
    images: tuple[Path, ...]
    date: dt.date
    draft: bool
    weight: int
    rel: str            # its file, relative to content/


@dataclass(frozen=True)
class Snapshot:
    frame: str
    files: dict[str, str]                   # content file (relative) → digest
    products: tuple[Standin, ...]           # every product, in reading order
    shows: dict[str, tuple[int, ...]]       # page → positions in ``products`` of those it shows
    pages: dict[str, tuple[int, ...]]       # page → positions of those whose product page (view) it shows
    index: str                              # sha256 of index.json as written
    catalog: str                            # sha256 of the catalog as written
    others: str                             # :func:`others_digest` of the output as left

    @property
    def inputs(self) -> Inputs:
        return Inputs(self.frame, self.files)

    def save(self, put: Callable[[str, bytes], None], key: str, last: Snapshot | None) -> None:
        """Store under ``key``; the product and page parts only when they differ from ``last``'s."""
        dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
        put(key, dumps({"version": 2, "frame": self.frame, "index": self.index, "catalog": self.catalog,
                        "others": self.others}).encode())
        put(f"{key}:files", dumps(self.files).encode())
        if last is None or last.products != self.products:
            ps = self.products
            put(f"{key}:products", dumps({
                "rel": [p.rel for p in ps], "id": [p.id for p in ps], "creator": [p.creator for p in ps],
                "slug": [p.slug for p in ps], "title": [p.title for p in ps], "tags": [p.tags for p in ps],
                "images": [[str(i) for i in p.images] for p in ps], "date": [p.date.isoformat() for p in ps],
                "draft": [p.draft for p in ps], "weight": [p.weight for p in ps]}).encode())
        if last is None or last.shows != self.shows or last.pages != self.pages:
            put(f"{key}:shows", dumps([list(self.shows), list(self.shows.values()),
                                       [self.pages.get(page, ()) for page in self.shows]]).encode())

    @classmethod
    def load(cls, get: Callable[[str], bytes | None], key: str) -> Snapshot | None:
        """The snapshot stored under ``key``, or None when there is none or it does not read back exactly."""
        try:
            head, files, products, shows = (json.loads(get(k) or b"null")
                                            for k in (key, f"{key}:files", f"{key}:products", f"{key}:shows"))
            if not isinstance(head, dict) or head.get("version") != 2:
                return None
            standins = tuple(map(
                Standin, _column(products, "id", str), _column(products, "creator", str),
                _column(products, "slug", str), _column(products, "title", str),
                map(strings, _column(products, "tags", list)),
                (tuple(map(Path, strings(i))) for i in _column(products, "images", list)),
                map(dt.date.fromisoformat, _column(products, "date", str)), _column(products, "draft", bool),
                _column(products, "weight", int), _column(products, "rel", str)))
            if len({len(column) for column in products.values()}) != 1:
                return None
            names, found, full = shows
            by_page = dict(zip(strings(names), map(tuple, found), strict=True))
            full_pages = {page: tuple(f) for page, f in zip(by_page, full, strict=True) if f}
            if not _positions(chain(*by_page.values(), *full_pages.values()), len(standins)):
                return None
            if not isinstance(files, dict):
                return None
            check_types(str, *files.values())
            fields = head["frame"], head["index"], head["catalog"], head["others"]
            check_types(str, *fields)
            frame, index, catalog, others = fields
            return cls(frame, files, standins, by_page, full_pages, index, catalog, others)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def structure(product: Product | Standin) -> tuple:
    return tuple(getattr(product, name) for name in STRUCTURE)


def snapshot(inputs: Inputs, products: Iterable[Product | Standin], site_plan: SitePlan, index: bytes,
             catalog: str, stamps: dict[str, str], last: Snapshot | None = None) -> Snapshot:
    """The snapshot after a build that read ``products`` (records, or stand-ins where it did not)
    and planned ``site_plan``; with ``last``, a partial plan: the pages it left out show what they did."""
    standins = tuple(p if isinstance(p, Standin) else Standin(*structure(p), f"{p.creator}/{p.file.name}")
                     for p in products)
    position = {p.id: i for i, p in enumerate(standins)}

    def positions(found: frozenset[str]) -> tuple[int, ...]:
        return tuple(sorted(position[pid] for pid in found))

    shows = dict(last.shows) if last is not None else {}
    shows.update((page, positions(found)) for page, found in site_plan.shows.items())
    pages = {page: found for page, found in last.pages.items() if page not in site_plan.shows} \
        if last is not None else {}
    pages.update((page, positions(found)) for page, found in site_plan.pages.items())
    return Snapshot(inputs.frame, inputs.content, standins, shows, pages, digest(index),
                    digest(catalog.encode()), others_digest(stamps, shows))


def others_digest(stamps: dict[str, str], pages: Collection[str]) -> str:
    """A digest of the stamps of the output files that are not pages (images, assets, index.json)."""
    found = hashlib.sha256()
    for rel in sorted(stamps.keys() - pages):
        found.update(f"{rel}\0{stamps[rel]}\0".encode())
    return found.hexdigest()


def changed_products(last: Snapshot | None, inputs: Inputs, content_root: Path) -> list[Path] | None:
    """The product documents changed since ``last``, or None when more than that changed.

    More means: the frame, any file added or removed, or any change to a file
    that is not a product document (a profile, an image) or is a symlink.
    """
    if last is None or last.frame != inputs.frame or last.files.keys() != inputs.content.keys():
        return None
    products = {p.rel for p in last.products}
    changed = [rel for rel, found in inputs.content.items() if last.files[rel] != found]
    if not all(rel in products for rel in changed):
        return None
    paths = [content_root / rel for rel in changed]
    return None if any(path.is_symlink() for path in paths) else paths


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _positions(values: Iterable[object], count: int) -> bool:
    """Whether every value is an int in range(count)."""
    found = list(values)
    return set(map(type, found)) <= {int} and (not found or (min(found) >= 0 and max(found) < count))  # type: ignore[type-var]


def _column(columns: object, name: str, kind: type) -> list:
    found = columns[name] if isinstance(columns, dict) else None
    if not isinstance(found, list):
        raise ValueError(f"no column {name}")
    check_types(kind, *found)
    return found
