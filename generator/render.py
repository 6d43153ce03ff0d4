"""Jinja2 rendering: one environment per process, pages as plain jobs."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import pickle
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path, PosixPath, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jinja2

from functions.money import decimal_text


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


MAX_FRAGMENTS = 8_192   # cached macro outputs kept per process (oldest dropped first): about 12 MB


class Fingerprinter:
    """Stable hashes of views, dicts and strings; each shared view object is hashed once.

    Pages share their cards (a card appears on its creator's page, its tags' pages
    and as a related product), so a view's digest is remembered by identity for the
    life of one build and a page's key costs the size of its own data, not of
    everything it embeds again. A value is hashed as the ``repr`` of a plain
    structure (C speed) where every view inside is replaced by its digest; only
    types whose ``repr`` shows their whole value are written that way, anything
    else by its pickle. Equal data gives equal keys.

    ``shared``: the view types that many pages show; any other view (a product
    page, a page's meta data) is written out where it stands instead, which spares
    hashing it separately. None: every view is hashed separately.
    """

    def __init__(self, shared: Collection[type] | None = None) -> None:
        self._memo: dict[int, tuple[object, _Digest]] = {}
        self._getters: dict[type, Any] = {}
        self._shared = None if shared is None else frozenset(shared)

    def __call__(self, *parts: object) -> str:
        return hashlib.sha256(repr(self._plain(parts)).encode()).hexdigest()

    def view(self, value: object) -> _Digest:
        hit = self._memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        digest = _Digest(hashlib.sha256(repr(self._written(value)).encode()).hexdigest())
        self._memo[id(value)] = (value, digest)   # the reference keeps the id from being reused
        return digest

    def _written(self, value: object) -> tuple:
        """A view as its type's name and its fields' plain values."""
        kind = type(value)
        values = self._getters.get(kind)
        if values is None:
            names = tuple(f.name for f in fields(kind))
            getter = operator.attrgetter(*names)
            values = self._getters[kind] = (lambda v: (getter(v),)) if len(names) == 1 else getter
        return (_Kind(kind.__qualname__), self._plain(values(value)))

    def _plain(self, value: object) -> object:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is tuple or kind is list:
            plain = self._plain
            return kind(x if type(x) in _SCALARS else plain(x) for x in value)  # type: ignore[call-arg, attr-defined]
        if kind is dict:
            return self._plain(list(value.items()))   # type: ignore[attr-defined]
        view = _VIEWS.get(kind)
        if view is None:
            view = _VIEWS[kind] = is_dataclass(kind)
        if view:
            return self.view(value) if self._shared is None or kind in self._shared else self._written(value)
        return pickle.dumps(value, protocol=5)   # a type we cannot vouch for: its full pickle


class _Digest(str):
    """A view's digest; its repr cannot be that of any str, so no text can pass for a view."""

    def __repr__(self) -> str:
        return f"<view {str.__str__(self)}>"


class _Kind(str):
    """A view type's name where the view is written out; no text can pass for it either."""

    def __repr__(self) -> str:
        return f"<{str.__str__(self)}>"


# Types whose repr is their whole value (and differs between them: 1, True, '1', 1.0).
_SCALARS = frozenset({str, int, bool, float, type(None), bytes, dt.date, dt.datetime, PosixPath, PurePosixPath})
_VIEWS: dict[type, bool] = {}


def fingerprint(*parts: object) -> str:
    """A stable hash of any mix of views, dicts and strings."""
    return Fingerprinter()(*parts)


class _Environment(jinja2.Environment):
    def make_globals(self, d: Any) -> Any:
        """A template's globals as one dict (the environment's as they are when it loads, then its own).

        Jinja's default is a ChainMap, and every ``{% import %}`` of a page subtracts
        its keys from a set: through a ChainMap that took 6 µs per import, two per page.
        """
        return {**self.globals, **(d or {})}


def make_env(templates: Path, site: SiteGlobals, assets: dict[str, str]) -> jinja2.Environment:
    """The one Jinja2 environment of a process: autoescape, StrictUndefined, compiled once."""
    env = _Environment(
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

    fragments: OrderedDict[tuple, object] = OrderedDict()    # popitem(last=False) drops the oldest in O(1)

    def cached(macro: Any, *args: Any, **kwargs: Any) -> Any:
        """``macro(*args, **kwargs)``, rendered once per process for equal arguments.

        Hugo's ``partialCached``: a product card appears on its creator's page, its
        tags' pages and beside related products, always the same bytes. Only for
        macros whose output depends on nothing but their arguments and globals.
        """
        key = (macro, args, tuple(sorted(kwargs.items())) if kwargs else ())
        try:
            hit = fragments.get(key)
        except TypeError:           # an unhashable argument: no caching, same result
            return macro(*args, **kwargs)
        if hit is None:
            if len(fragments) >= MAX_FRAGMENTS:
                fragments.popitem(last=False)
            hit = fragments[key] = macro(*args, **kwargs)
        return hit

    env.globals.update(
        site=site,
        url=url,
        abs_url=lambda path="": origin + url(path),
        asset=asset,
        has_asset=lambda name: name in assets,
        cached=cached,
        jsonld=lambda page: json_for_script(product_jsonld(page, site.base_url)),
    )
    # ``x|url`` is ``url(x)`` at the cost of a plain call: Jinja calls a global through Context.call.
    env.filters["url"] = url
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["rfc3339"] = lambda d: f"{d.isoformat()}T00:00:00Z"
    return env


def render_page(env: jinja2.Environment, job: PageJob) -> bytes:
    """Render one page to bytes."""
    template = env.get_template(job.template)
    return template.render(page=job.meta, **job.context).encode("utf-8")


def product_jsonld(page: Any, base_url: str) -> dict:
    """schema.org Product data for a product page (a ``ProductPage`` view)."""
    card = page.card
    data = {
        "@context": "https://schema.org", "@type": "Product", "name": card.title,
        "description": card.description, "url": base_url + card.url, "sku": card.id,
        "offers": {"@type": "Offer", "price": decimal_text(card.price_amount, card.currency),
                   "priceCurrency": card.currency,
                   "availability": "https://schema.org/OutOfStock" if card.sold_out else "https://schema.org/InStock",
                   "url": base_url + card.url},
    }
    if page.images:
        scheme, _, rest = base_url.partition("://")
        origin = f"{scheme}://{rest.split('/', 1)[0]}"
        data["image"] = [origin + image.src for image in page.images]
    return data


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))   # json.dumps would build one per call


def json_for_script(data: object) -> str:
    """JSON safe to place inside ``<script type="application/ld+json">``."""
    text = _JSON.encode(data)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
