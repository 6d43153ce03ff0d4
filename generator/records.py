"""Checked records as JSON for the build cache: fast to load, unable to run anything.

The cache may come back from a CI cache action, so an entry is data, never
code: plain JSON arrays, each field type-checked on the way back in. An entry
that does not fit exactly raises ``ValueError`` and the document is read again.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from generator.content import Creator, Link, Product

_PRODUCT = "product/1"
_CREATOR = "creator/1"


def dump_record(record: Creator | Product) -> bytes:
    if isinstance(record, Product):
        r = record
        row: list = [_PRODUCT, r.id, r.creator, r.slug, r.title, r.link, r.partner, r.merchant, r.price,
                     r.currency, r.stock, list(r.tags), [str(p) for p in r.images], r.date.isoformat(),
                     r.draft, r.description, r.weight, r.body, str(r.file), r.body_line]
    else:
        c = record
        row = [_CREATOR, c.id, c.name, c.tagline, None if c.avatar is None else str(c.avatar),
               list(c.interests), [[link.title, link.url] for link in c.links], c.weight, c.bio,
               str(c.file), c.body_line]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def load_record(data: bytes, file: Path | None = None) -> Creator | Product:
    """The record in ``data``; ``file``, when given, is its path as this build names it (the
    cache key includes the path, so it is the one stored), and saves parsing it again."""
    row = json.loads(data)
    if not isinstance(row, list) or not row:
        raise ValueError("not a cached record")
    if row[0] == _PRODUCT and len(row) == 20:
        (_, pid, creator, slug, title, link, partner, merchant, price, currency, stock, tags, images,
         date, draft, description, weight, body, path, body_line) = row
        check_types(str, pid, creator, slug, title, link, partner, merchant, currency, date, description, body, path)
        check_types(int, price, stock, weight, body_line)
        check_types(bool, draft)
        return Product(pid, creator, slug, title, link, partner, merchant, price, currency, stock,
                       strings(tags), tuple(Path(p) for p in strings(images)), dt.date.fromisoformat(date),
                       draft, description, weight, body, _path(path, file), body_line)
    if row[0] == _CREATOR and len(row) == 11:
        _, cid, name, tagline, avatar, interests, links, weight, bio, path, body_line = row
        check_types(str, cid, name, tagline, bio, path)
        check_types(int, weight, body_line)
        if avatar is not None:
            check_types(str, avatar)
        if not isinstance(links, list) or not all(isinstance(x, list) and len(x) == 2 for x in links):
            raise ValueError("bad links in a cached record")
        return Creator(cid, name, tagline, None if avatar is None else Path(avatar), strings(interests),
                       tuple(Link(*strings(x)) for x in links), weight, bio, _path(path, file), body_line)
    raise ValueError("not a cached record")


def _path(stored: str, known: Path | None) -> Path:
    return known if known is not None and str(known) == stored else Path(stored)


def check_types(kind: type, *values: object) -> None:
    """Raise ValueError unless every value is exactly of ``kind`` (cached data is checked, never trusted)."""
    for value in values:
        # bool is an int subclass: an int field must not hold true/false, nor the reverse.
        if type(value) is not kind:
            raise ValueError(f"a cached field is not {kind.__name__}")


def strings(values: object) -> tuple[str, ...]:
    """A JSON list of strings as a tuple; ValueError for anything else."""
    if not isinstance(values, list):
        raise ValueError("not a list in a cached record")
    check_types(str, *values)
    return tuple(values)
