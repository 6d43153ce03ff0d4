"""The model → the list of pages to render (views only; no file I/O here)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from functions.money import format_minor
from generator.config import SiteConfig
from generator.content import Content, Creator, Product
from generator.markup import summary
from generator.related import related
from generator.render import PageJob, PageMeta
from generator.views import (
    CreatorView,
    Html,
    ImageView,
    ProductCard,
    ProductPage,
    ProfileLink,
    TagView,
    tag_slug,
    tag_url,
)

HOME_NEWEST = 24
NO_HTML = Html("", 0)


@dataclass(frozen=True)
class Rendered:
    """Per-product and per-creator outputs of the Markdown and image stages."""

    html: dict[str, Html]                    # product id / "creator:<id>" → sanitised HTML
    text: dict[str, str]                     # same keys → the plain text's first LEAD characters
    images: dict[str, tuple[ImageView, ...]]  # product id → views
    avatars: dict[str, ImageView]            # creator id → view


@dataclass(frozen=True)
class SiteUrl:
    path: str
    lastmod: dt.date


@dataclass(frozen=True)
class SitePlan:
    jobs: tuple[PageJob, ...]
    index: dict          # the compact "for you" index (public fields only)


def plan(config: SiteConfig, content: Content, rendered: Rendered,
         related_ids: dict[str, tuple[str, ...]] | None = None) -> SitePlan:
    """Every page of the showcase with the exact data it shows (``related_ids`` when known)."""
    products = sorted(content.published, key=lambda p: (p.date, p.weight, p.id), reverse=True)
    creators = sorted(content.creators.values(), key=lambda c: (c.weight, c.id))
    partner_names = config.partner_names()
    tag_counts: dict[str, int] = defaultdict(int)
    for product in products:
        for tag in product.tags:
            tag_counts[tag] += 1
    tag_views = {t: TagView(t, tag_url(t), n) for t, n in tag_counts.items()}

    def card(product: Product) -> ProductCard:
        images = rendered.images.get(product.id, ())
        # The text is already collapsed, so a prefix twice the limit gives the same summary.
        description = product.description or summary(rendered.text.get(product.id, "")[:160], 80)
        return ProductCard(
            id=product.id, url=f"{product.creator}/{product.slug}/", title=product.title,
            creator_id=product.creator, creator_name=content.creators[product.creator].name,
            partner_name=partner_names[product.partner],
            price=format_minor(product.price, product.currency), price_amount=product.price,
            currency=product.currency, stock=product.stock, sold_out=product.stock == 0,
            image=images[0] if images else None,
            tags=tuple(tag_views[t] for t in product.tags), date=product.date, description=description)

    cards = {p.id: card(p) for p in products}
    counts: dict[str, int] = defaultdict(int)
    for product in products:
        counts[product.creator] += 1
    creator_views = {c.id: _creator_view(c, rendered, counts[c.id]) for c in creators}
    if related_ids is None:
        related_ids = related(content.published)
    product_pages = {p.id: _product_page(p, cards, rendered, related_ids) for p in products}
    jobs: list[PageJob] = []
    urls: list[SiteUrl] = []
    latest = products[0].date if products else dt.date(2026, 1, 1)

    jobs.append(PageJob("index.html", "home.html",
                        PageMeta("", config.title, config.description, "home"),
                        {"newest": [cards[p.id] for p in products[:HOME_NEWEST]],
                         "creators": [creator_views[c.id] for c in creators],
                         "tags": sorted(tag_views.values(), key=lambda t: (-t.count, t.name))[:20]}))
    urls.append(SiteUrl("", latest))
    by_creator: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        by_creator[product.creator].append(product)
    for creator in creators:
        view = creator_views[creator.id]
        own = by_creator[creator.id]
        updated = own[0].date if own else latest
        jobs.append(PageJob(f"{creator.id}/index.html", "creator.html",
                            PageMeta(view.url, creator.name, creator.tagline or summary(
                                rendered.text.get(f"creator:{creator.id}", ""), 120), "creator"),
                            {"creator": view, "products": [cards[p.id] for p in own]}))
        jobs.append(PageJob(f"{creator.id}/index.xml", "feed.xml", None,
                            {"creator": view, "updated": updated,
                             "products": [product_pages[p.id] for p in own[:50]]}))
        urls.append(SiteUrl(view.url, updated))
    for product in products:
        page = product_pages[product.id]
        jobs.append(PageJob(f"{product.creator}/{product.slug}/index.html", "product.html",
                            PageMeta(page.card.url, product.title, page.card.description, "product"),
                            {"product": page, "creator": creator_views[product.creator]}))
        urls.append(SiteUrl(page.card.url, product.date))
    tagged: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        for tag in product.tags:
            tagged[tag].append(product)
    for name, view in sorted(tag_views.items()):
        jobs.append(PageJob(f"tags/{tag_slug(name)}/index.html", "tag.html",
                            PageMeta(view.url, f"#{name}", f"{config.title} · {name}", "tag"),
                            {"tag": view, "products": [cards[p.id] for p in tagged[name]]}))
        urls.append(SiteUrl(view.url, tagged[name][0].date))
    jobs.append(PageJob("tags/index.html", "tags.html", PageMeta("tags/", "标签 Tags", config.description, "tags"),
                        {"tags": sorted(tag_views.values(), key=lambda t: (-t.count, t.name))}))
    urls.append(SiteUrl("tags/", latest))
    for kind, title in (("favourites", "收藏 Favourites"), ("cart", "购物车 Cart"), ("checkout", "订单 Checkout")):
        jobs.append(PageJob(f"{kind}/index.html", f"{kind}.html", PageMeta(f"{kind}/", title, config.description, kind), {}))
    jobs.append(PageJob("404.html", "404.html", PageMeta("404.html", "404", config.description, "404"), {}))
    jobs.append(PageJob("sitemap.xml", "sitemap.xml", None, {"urls": urls}))
    jobs.append(PageJob("robots.txt", "robots.txt", None, {}))
    index = {"version": 1, "products": [
        {"id": c.id, "url": c.url, "title": c.title, "creator": c.creator_name, "creator_id": c.creator_id,
         "partner": c.partner_name, "price": c.price,
         "image": c.image.src if c.image else None, "tags": [t.name for t in c.tags],
         "date": c.date.isoformat(), "sold_out": c.sold_out}
        for c in (cards[p.id] for p in products)]}
    return SitePlan(tuple(jobs), index)


def _creator_view(creator: Creator, rendered: Rendered, count: int) -> CreatorView:
    return CreatorView(
        id=creator.id, url=f"{creator.id}/", feed_url=f"{creator.id}/index.xml", name=creator.name,
        tagline=creator.tagline, avatar=rendered.avatars.get(creator.id),
        interests=tuple(TagView(t, tag_url(t)) for t in creator.interests),
        links=tuple(ProfileLink(link.title, link.url) for link in creator.links),
        bio_html=rendered.html.get(f"creator:{creator.id}", NO_HTML), product_count=count)


def _product_page(product: Product, cards: dict[str, ProductCard], rendered: Rendered,
                  related_ids: dict[str, tuple[str, ...]]) -> ProductPage:
    return ProductPage(card=cards[product.id], link=product.link, merchant=product.merchant,
                       body_html=rendered.html.get(product.id, NO_HTML),
                       images=rendered.images.get(product.id, ()),
                       related=tuple(cards[i] for i in related_ids.get(product.id, ()) if i in cards))
