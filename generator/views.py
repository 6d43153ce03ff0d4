"""Public, template-ready views of the model: only what a fan may see.

Views never carry commission rates, agreements or allocations beyond the
stock number; ``catalog.json`` is the only place those live.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote


def _no_source(key: str) -> str:
    raise LookupError(f"no HTML source is open to read {key}")


_source: Callable[[str], str] = _no_source


def use_html_source(lookup: Callable[[str], str]) -> Callable[[str], str]:
    """Make ``lookup`` (markup key → HTML) the one :class:`Html` reads from; returns the previous one."""
    global _source
    previous, _source = _source, lookup
    return previous


@dataclass(frozen=True)
class Html:
    """Sanitised HTML that stays in the build cache until a page prints it.

    Plans hold this reference, not the text, so a large build never keeps every
    body in memory nor ships it to worker processes. Jinja2 calls ``__html__``
    when the page prints it (``{{ x|safe }}``). The key is a digest of the
    Markdown source and chuchuang's version, so it names exactly one HTML.
    """

    key: str
    size: int           # characters, so ``{% if bio_html %}`` needs no lookup

    def __bool__(self) -> bool:
        return self.size > 0

    def __html__(self) -> str:
        return _source(self.key) if self.size else ""

    __str__ = __html__


@dataclass(frozen=True)
class ImageView:
    src: str            # site-relative URL of the fingerprinted WebP
    width: int
    height: int
    srcset: str         # "… 320w, … 640w"
    alt: str


@dataclass(frozen=True)
class TagView:
    name: str
    url: str
    count: int = 0


@dataclass(frozen=True)
class ProductCard:
    id: str
    url: str
    title: str
    creator_id: str
    creator_name: str
    partner_name: str
    price: str          # formatted, e.g. ¥1,080.00
    price_amount: int   # minor units, for schema.org
    currency: str
    stock: int
    sold_out: bool
    image: ImageView | None
    tags: tuple[TagView, ...]
    date: dt.date
    description: str


@dataclass(frozen=True)
class ProductPage:
    card: ProductCard
    link: str           # the partner product link (the no-JS buy button)
    merchant: str
    body_html: Html
    images: tuple[ImageView, ...]
    related: tuple[ProductCard, ...]


@dataclass(frozen=True)
class FeedEntry:
    """A product as its creator's feed shows it: a product page without the related products."""

    card: ProductCard
    body_html: Html
    images: tuple[ImageView, ...]


@dataclass(frozen=True)
class ProfileLink:
    title: str
    url: str


@dataclass(frozen=True)
class CreatorView:
    id: str
    url: str
    feed_url: str
    name: str
    tagline: str
    avatar: ImageView | None
    interests: tuple[TagView, ...]
    links: tuple[ProfileLink, ...]
    bio_html: Html
    product_count: int


# The views many pages show (a card is on its creator's page, its tags' pages and beside
# related products): page keys hash each of them once (see render.Fingerprinter).
SHARED_VIEWS = (ProductCard, CreatorView, TagView, ImageView)


def tag_slug(name: str) -> str:
    """A tag's path segment: lower-cased, spaces to hyphens, other characters kept."""
    return "-".join(name.lower().split()).replace("/", "-")


def tag_url(name: str) -> str:
    return f"tags/{quote(tag_slug(name))}/"
