"""Jinja2 rendering: one environment per process, pages as plain jobs."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, is_dataclass
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


def _json_default(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (dt.date, Path)):
        return str(value)
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def fingerprint(*parts: object) -> str:
    """A stable hash of any mix of views, dicts and strings."""
    payload = json.dumps(parts, default=_json_default, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


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
