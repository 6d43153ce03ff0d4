"""Public, template-ready views of the model: only what a fan may see.

Views never carry commission rates, agreements or allocations beyond the
stock number; ``catalog.json`` is the only place those live.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote


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
    body_html: str      # sanitised HTML
    images: tuple[ImageView, ...]
    related: tuple[ProductCard, ...]


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
    bio_html: str
    product_count: int


def tag_slug(name: str) -> str:
    """A tag's path segment: lower-cased, spaces to hyphens, other characters kept."""
    return "-".join(name.lower().split()).replace("/", "-")


def tag_url(name: str) -> str:
    return f"tags/{quote(tag_slug(name))}/"
