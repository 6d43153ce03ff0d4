"""What pages are planned from besides the records: rendered Markdown, images, related products.

Each is done once per distinct input and cached across builds.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from generator import __version__
from generator.assets import (
    AVATAR_WIDTHS,
    IMAGE_WIDTHS,
    ImageError,
    OutputFile,
    process_image,
)
from generator.cache import BuildCache
from generator.content import Content
from generator.diagnostics import BuildError, Report
from generator.loader import markup_key
from generator.markup import LEAD
from generator.markup import render as render_markdown
from generator.pages import Rendered
from generator.related import RelatedInput
from generator.views import Html, ImageView


def render_inputs(content: Content, cache: BuildCache, known_keys: dict[str, str],
                  known_leads: dict[str, tuple[int, str]] | None = None) -> tuple[Rendered, list[OutputFile]]:
    """Markdown and images, each done once per distinct input and cached across builds.

    Bodies stay in the cache: the plan gets an :class:`Html` reference and the
    first characters of the text (for summaries), never the whole HTML.
    ``known_leads``: (HTML size, lead) by markup key, for markup just rendered.
    """
    html: dict[str, Html] = {}
    text: dict[str, str] = {}
    docs = [(p.id, p.body) for p in content.published]
    docs += [(f"creator:{c.id}", c.bio) for c in content.creators.values()]
    keys = [known_keys.get(body) or markup_key(body) for _, body in docs]
    known = dict(known_leads or {})
    known.update(cache.leads([key for key in keys if key not in known]))
    fresh = []
    for (name, body), digest in zip(docs, keys):
        hit = known.get(digest)
        if hit is None:
            result = render_markdown(body)
            hit = known[digest] = (len(result.html), result.text[:LEAD])
            fresh.append((digest, result.html, hit[1]))
        html[name], text[name] = Html(digest, hit[0]), hit[1]
    cache.put_markups(fresh)
    files: dict[str, bytes] = {}
    images: dict[str, tuple[ImageView, ...]] = {}
    avatars: dict[str, ImageView] = {}
    for product in content.published:
        images[product.id] = tuple(image_view(path, IMAGE_WIDTHS, product.title, False, cache, files)
                                   for path in product.images)
    for creator in content.creators.values():
        if creator.avatar:
            avatars[creator.id] = image_view(creator.avatar, AVATAR_WIDTHS, creator.name, True, cache, files)
    return Rendered(html, text, images, avatars), [OutputFile(p, d) for p, d in sorted(files.items())]


def related_inputs(content: Content) -> list[RelatedInput]:
    return [RelatedInput(p.id, p.tags, p.creator, p.date, p.title) for p in content.published]


def related_lookup(content: Content, cache: BuildCache) -> tuple[str, dict[str, tuple[str, ...]] | None]:
    """The cache key of the related products and, when cached, them: they change only when an
    id, tag, creator, date or title does."""
    digest = hashlib.sha256(__version__.encode())
    for p in content.published:
        digest.update(repr((p.id, p.tags, p.creator, p.date.isoformat(), p.title)).encode())
    key = f"related:{digest.hexdigest()}"
    raw = cache.get(key)
    if raw is not None:
        try:
            found = json.loads(raw)
            return key, {pid: tuple(ids) for pid, ids in found.items()}
        except (ValueError, AttributeError, TypeError):
            pass
    return key, None


def image_view(path: Path, widths: tuple[int, ...], alt: str, square: bool, cache: BuildCache,
           files: dict[str, bytes]) -> ImageView:
    source = path.read_bytes()
    key = hashlib.sha256(source + repr((widths, square, __version__)).encode()).hexdigest()
    hit = cache.image(key)
    if hit is not None:
        view_data, paths = hit
        blobs = {p: cache.blob(p) for p in paths}
        if all(b is not None for b in blobs.values()):
            files.update(blobs)  # type: ignore[arg-type]
            return ImageView(**{**view_data, "alt": alt})
    try:
        view, outputs = process_image(source, widths, alt, square)
    except ImageError as exc:
        report = Report()
        report.add(path, 1, 1, "content.image", str(exc), hint="re-export it as JPEG, PNG or WebP")
        raise BuildError(report) from None
    cache.put_image(key, asdict(view), [(f.path, f.data) for f in outputs])
    files.update({f.path: f.data for f in outputs})
    return view
