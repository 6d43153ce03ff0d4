"""Jinja2 rendering: one environment per process, pages as plain jobs."""
from __future__ import annotations

import hashlib
import io
import json
import pickle
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2


@dataclass(frozen=True)
class SiteGlobals:
    title: str
    description: str
    language: str
    disclosure: str
    base_url: str       # ends with "/"; may carry a sub-path for previews


@dataclass(frozen=True)
class PageMeta:
    path: str           # site-relative URL path, "" for home
    title: str
    description: str
    kind: str


@dataclass(frozen=True)
class PageJob:
    out: str            # site-relative output file, e.g. "lin-xiaoyu/index.html"
    template: str
    meta: PageMeta | None
    context: dict[str, Any]


class Fingerprinter:
    """Stable hashes of views, dicts and strings; each view object is hashed once.

    Pages share their cards (a card appears on its creator's page, its tags' pages
    and as a related product), so a view's digest is remembered by identity for the
    life of one build and a page's key costs the size of its own data, not of
    everything it embeds again. Values are serialised with pickle (C speed); every
    view inside is replaced by its digest, so equal data gives equal keys.
    """

    def __init__(self) -> None:
        self._memo: dict[int, tuple[object, str]] = {}
        self._names: dict[type, tuple[str, ...]] = {}

    def __call__(self, *parts: object) -> str:
        return hashlib.sha256(self._dump(parts)).hexdigest()

    def _dump(self, value: object) -> bytes:
        buffer = io.BytesIO()
        _ViewPickler(buffer, self).dump(value)
        return buffer.getvalue()

    def view(self, value: object) -> str:
        hit = self._memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        kind = type(value)
        names = self._names.get(kind)
        if names is None:
            names = self._names[kind] = tuple(f.name for f in fields(kind))
        data = (kind.__qualname__, tuple(getattr(value, name) for name in names))
        digest = "v" + hashlib.sha256(self._dump(data)).hexdigest()
        self._memo[id(value)] = (value, digest)   # the reference keeps the id from being reused
        return digest


class _ViewPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, owner: Fingerprinter) -> None:
        super().__init__(file, protocol=5)
        self.owner = owner

    def persistent_id(self, obj: object) -> str | None:
        kind = type(obj)
        if kind in _PLAIN:
            return None
        if kind not in _VIEWS:
            _VIEWS[kind] = is_dataclass(obj) and not isinstance(obj, type)
        return self.owner.view(obj) if _VIEWS[kind] else None


_PLAIN = frozenset({str, int, bool, float, type(None), tuple, list, dict, bytes})
_VIEWS: dict[type, bool] = {}


def fingerprint(*parts: object) -> str:
    """A stable hash of any mix of views, dicts and strings."""
    return Fingerprinter()(*parts)


def make_env(templates: Path, site: SiteGlobals, assets: dict[str, str]) -> jinja2.Environment:
    """The one Jinja2 environment of a process: autoescape, StrictUndefined, compiled once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    parts = urlsplit(site.base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    base_path = parts.path if parts.path.endswith("/") else parts.path + "/"

    def url(path: str = "") -> str:
        return path if path.startswith("/") else base_path + path

    def asset(name: str) -> str:
        return url(assets[name])

    env.globals.update(
        site=site,
        url=url,
        abs_url=lambda path="": origin + url(path),
        asset=asset,
        has_asset=lambda name: name in assets,
    )
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["rfc3339"] = lambda d: f"{d.isoformat()}T00:00:00Z"
    return env


def render_page(env: jinja2.Environment, job: PageJob) -> bytes:
    """Render one page to bytes."""
    template = env.get_template(job.template)
    return template.render(page=job.meta, **job.context).encode("utf-8")


def json_for_script(data: object) -> str:
    """JSON safe to place inside ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
