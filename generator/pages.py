"""The model → the list of pages to render (views only; no file I/O here).

Which pages exist, what they list and in what order depend only on each
product's *structure* (:data:`STRUCTURE`: id, creator, slug, title, tags,
images, date, draft, weight). Everything else a product carries (price, stock,
body, description, link…) reaches a page only through that product's card or
product page, which are built on first use and noted against every page that
shows them. So the plan can be made for a few pages only (``wanted``) from
stand-ins that hold just the structure of the other products, and it says
which products each page shows (``SitePlan.shows``): an incremental build uses
both to re-plan only the pages that show a changed product.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from functions.money import format_minor
from generator.config import SiteConfig
from generator.content import Content, Creator, Product
from generator.markup import summary
from generator.related import related
from generator.render import PageJob, PageMeta
from generator.views import (
    CreatorView,
    FeedEntry,
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
# The fields of a product that decide which pages exist, what they list and in what order.
STRUCTURE = ("id", "creator", "slug", "title", "tags", "images", "date", "draft", "weight")


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
    index: tuple[ProductCard, ...] | None   # the "for you" index, newest first; None for a partial plan
    shows: dict[str, frozenset[str]]     # page → ids of the products whose card or page it shows
    pages: dict[str, frozenset[str]]     # page → ids of the products whose product page (view) it shows
    cards: dict[str, ProductCard]        # product id → card, for every card the plan built


Related = dict[str, tuple[str, ...]]


def plan(config: SiteConfig, content: Content, rendered: Rendered,
         related_ids: Related | Callable[[], Related] | None = None,
         wanted: Collection[str] | None = None,
         early: Callable[[list[PageJob], Mapping[str, ProductCard]], object] | None = None) -> SitePlan:
    """Every page of the showcase with the exact data it shows (``related_ids`` when known).

    With ``wanted``, only those pages (by output path) are planned and the index is
    left out; the other products are read for their :data:`STRUCTURE` only.

    Only product pages show related products. The other pages are planned first and
    handed to ``early`` with the cards made so far; ``related_ids`` may be a function,
    called after that, so a caller can render those pages while the related products
    are still being ranked.
    """
    products = sorted(content.published, key=lambda p: (p.date, p.weight, p.id), reverse=True)
    creators = sorted(content.creators.values(), key=lambda c: (c.weight, c.id))
    if related_ids is None:
        related_ids = related(content.published)
    views = _Views(config, content, rendered, related_ids)
    tag_views = views.tag_views
    counts: dict[str, int] = defaultdict(int)
    by_creator: dict[str, list[Product]] = defaultdict(list)
    tagged: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        counts[product.creator] += 1
        by_creator[product.creator].append(product)
        for tag in product.tags:
            tagged[tag].append(product)
    creator_views = {c.id: _creator_view(c, rendered, counts[c.id]) for c in creators}
    latest = products[0].date if products else dt.date(2026, 1, 1)
    todo: list[tuple[str, str, Callable[[], tuple[PageMeta | None, dict]]]] = []
    urls: list[SiteUrl] = []

    def add(out: str, template: str, make_page: Callable[[], tuple[PageMeta | None, dict]]) -> None:
        if wanted is None or out in wanted:
            todo.append((out, template, make_page))

    add("index.html", "home.html", lambda: (
        PageMeta("", config.title, config.description, "home"),
        {"newest": [views.card(p.id) for p in products[:HOME_NEWEST]],
         "creators": [creator_views[c.id] for c in creators],
         "tags": sorted(tag_views.values(), key=lambda t: (-t.count, t.name))[:20]}))
    urls.append(SiteUrl("", latest))
    for creator in creators:
        view = creator_views[creator.id]
        own = by_creator[creator.id]
        updated = own[0].date if own else latest
        add(f"{creator.id}/index.html", "creator.html", lambda creator=creator, view=view, own=own: (
            PageMeta(view.url, creator.name, creator.tagline or summary(
                rendered.text.get(f"creator:{creator.id}", ""), 120), "creator"),
            {"creator": view, "products": [views.card(p.id) for p in own]}))
        add(f"{creator.id}/index.xml", "feed.xml", lambda view=view, own=own, updated=updated: (
            None, {"creator": view, "updated": updated, "products": [views.entry(p.id) for p in own[:50]]}))
        urls.append(SiteUrl(view.url, updated))
    for product in products:
        url = f"{product.creator}/{product.slug}/"

        def product_page(product: Product = product, url: str = url) -> tuple[PageMeta, dict]:
            page = views.page(product.id)
            return (PageMeta(url, product.title, page.card.description, "product"),
                    {"product": page, "creator": creator_views[product.creator]})

        add(f"{url}index.html", "product.html", product_page)
        urls.append(SiteUrl(url, product.date))
    for name, view in sorted(tag_views.items()):
        add(f"tags/{tag_slug(name)}/index.html", "tag.html", lambda name=name, view=view: (
            PageMeta(view.url, f"#{name}", f"{config.title} · {name}", "tag"),
            {"tag": view, "products": [views.card(p.id) for p in tagged[name]]}))
        urls.append(SiteUrl(view.url, tagged[name][0].date))
    add("tags/index.html", "tags.html", lambda: (
        PageMeta("tags/", "标签 Tags", config.description, "tags"),
        {"tags": sorted(tag_views.values(), key=lambda t: (-t.count, t.name))}))
    urls.append(SiteUrl("tags/", latest))
    for kind, title in (("favourites", "收藏 Favourites"), ("cart", "购物车 Cart"), ("checkout", "订单 Checkout")):
        add(f"{kind}/index.html", f"{kind}.html",
            lambda kind=kind, title=title: (PageMeta(f"{kind}/", title, config.description, kind), {}))
    add("404.html", "404.html", lambda: (PageMeta("404.html", "404", config.description, "404"), {}))
    add("sitemap.xml", "sitemap.xml", lambda: (None, {"urls": urls}))
    add("robots.txt", "robots.txt", lambda: (None, {}))
    made: dict[str, tuple[PageJob, frozenset[str], frozenset[str]]] = {}

    def make(out: str, template: str, make_page: Callable[[], tuple[PageMeta | None, dict]]) -> None:
        views.shown, views.shown_pages = set(), set()
        meta, context = make_page()
        made[out] = (PageJob(out, template, meta, context), frozenset(views.shown), frozenset(views.shown_pages))

    for page in todo:
        if page[1] != "product.html":
            make(*page)
    if early is not None:
        early([made[page[0]][0] for page in todo if page[0] in made], views.cards)
    for page in todo:
        if page[1] == "product.html":
            make(*page)
    jobs = tuple(made[out][0] for out, _, _ in todo)
    shows = {out: made[out][1] for out, _, _ in todo}
    pages = {out: made[out][2] for out, _, _ in todo if made[out][2]}
    index = None if wanted is not None else tuple(views.card(p.id) for p in products)
    return SitePlan(jobs, index, shows, pages, views.cards)


def product_views(config: SiteConfig, content: Content, rendered: Rendered,
                  pids: list[str]) -> dict[str, tuple[ProductCard, tuple]]:
    """For each product in ``pids``: its card as a plan of ``content`` makes it, and what its
    product page shows besides its card and the related products' cards."""
    views = _Views(config, content, rendered, {})
    pages = {pid: views.page(pid) for pid in pids}
    return {pid: (page.card, (page.link, page.merchant, page.body_html, page.images)) for pid, page in pages.items()}


def index_entry(card: ProductCard) -> dict:
    """A product's entry in the "for you" index (``index.json``)."""
    return {"id": card.id, "url": card.url, "title": card.title, "creator": card.creator_name,
            "creator_id": card.creator_id, "partner": card.partner_name, "price": card.price,
            "image": card.image.src if card.image else None, "tags": [t.name for t in card.tags],
            "date": card.date.isoformat(), "sold_out": card.sold_out}


class _Views:
    """Cards and product pages, each built on first use and noted in ``shown`` (and a product
    page in ``shown_pages``) whenever used."""

    def __init__(self, config: SiteConfig, content: Content, rendered: Rendered,
                 related_ids: Related | Callable[[], Related]) -> None:
        self.content, self.rendered = content, rendered
        self._related = related_ids     # or the function that gives them, called on first use
        self.partner_names = config.partner_names()
        self.products = {p.id: p for p in content.published}
        tag_counts: dict[str, int] = defaultdict(int)
        for product in content.published:
            for tag in product.tags:
                tag_counts[tag] += 1
        self.tag_views = {t: TagView(t, tag_url(t), n) for t, n in tag_counts.items()}
        self.shown: set[str] = set()
        self.shown_pages: set[str] = set()
        self.cards: dict[str, ProductCard] = {}
        self._pages: dict[str, tuple[ProductPage, tuple[str, ...]]] = {}

    def card(self, pid: str) -> ProductCard:
        self.shown.add(pid)
        found = self.cards.get(pid)
        if found is None:
            found = self.cards[pid] = self._card(self.products[pid])
        return found

    def page(self, pid: str) -> ProductPage:
        found = self._pages.get(pid)
        if found is None:
            product = self.products[pid]
            if callable(self._related):
                self._related = self._related()
            related = tuple(i for i in self._related.get(pid, ()) if i in self.products)
            found = self._pages[pid] = (ProductPage(
                card=self.card(pid), link=product.link, merchant=product.merchant,
                body_html=self.rendered.html.get(pid, NO_HTML), images=self.rendered.images.get(pid, ()),
                related=tuple(self.card(i) for i in related)), (pid, *related))
        self.shown.update(found[1])
        self.shown_pages.add(pid)
        return found[0]

    def entry(self, pid: str) -> FeedEntry:
        """A feed's entry: what the product's page shows, less the related products (so a feed
        neither depends on them nor carries their cards)."""
        self.shown_pages.add(pid)
        return FeedEntry(self.card(pid), self.rendered.html.get(pid, NO_HTML), self.rendered.images.get(pid, ()))

    def _card(self, product: Product) -> ProductCard:
        images = self.rendered.images.get(product.id, ())
        # The text is already collapsed, so a prefix twice the limit gives the same summary.
        description = product.description or summary(self.rendered.text.get(product.id, "")[:160], 80)
        return ProductCard(
            id=product.id, url=f"{product.creator}/{product.slug}/", title=product.title,
            creator_id=product.creator, creator_name=self.content.creators[product.creator].name,
            partner_name=self.partner_names[product.partner],
            price=format_minor(product.price, product.currency), price_amount=product.price,
            currency=product.currency, stock=product.stock, sold_out=product.stock == 0,
            image=images[0] if images else None,
            tags=tuple(self.tag_views[t] for t in product.tags), date=product.date, description=description)


def _creator_view(creator: Creator, rendered: Rendered, count: int) -> CreatorView:
    return CreatorView(
        id=creator.id, url=f"{creator.id}/", feed_url=f"{creator.id}/index.xml", name=creator.name,
        tagline=creator.tagline, avatar=rendered.avatars.get(creator.id),
        interests=tuple(TagView(t, tag_url(t)) for t in creator.interests),
        links=tuple(ProfileLink(link.title, link.url) for link in creator.links),
        bio_html=rendered.html.get(f"creator:{creator.id}", NO_HTML), product_count=count)
