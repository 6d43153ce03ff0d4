"""The templates' fast paths print exactly what the markup they replaced printed.

The references below are the template code the shipped templates used before
they were made cheaper to render: a per-candidate ``srcset()`` loop, ``price()``
calling ``price_text()``, the card calling ``price()`` and ``icon()``, and a
``base.html`` that rendered its head links, header and footer on every page
(now rendered once per process in ``_macros.html``). Each is rendered beside the
current templates in the same environment, over generated inputs, including
the cases the demo and benchmark sites never show (no currency sign, no cents,
other currencies, sub-path base URLs, sites without a script or an icon).
A deliberate change to what the shared parts print (the header, the footer, a
card) needs the same edit in the reference below.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import render
from generator.render import PageMeta, SiteGlobals, json_for_script, make_env
from generator.views import ImageView, ProductCard, TagView

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
GENERATED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ASSETS = {"app.css": "assets/app.1.css", "app.js": "assets/app.2.js", "icon.svg": "assets/icon.3.svg"}

# --- the references: the macros and layout as they were --------------------------------------------

REFERENCE_MACROS = """{% from "_macros.html" import icon %}
{% macro srcset(img) %}{% for c in img.srcset.split(", ") %}{% set parts = c.rsplit(" ", 1) %}{{ url(parts[0]) }}{% if parts|length > 1 %} {{ parts[1] }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}

{% macro img(i, sizes, lazy=True, priority=False, cls="") %}
<img{% if cls %} class="{{ cls }}"{% endif %} src="{{ url(i.src) }}"{% if i.srcset %} srcset="{{ srcset(i) }}" sizes="{{ sizes }}"{% endif %} width="{{ i.width }}" height="{{ i.height }}" alt="{{ i.alt }}"{% if lazy %} loading="lazy"{% endif %}{% if priority %} fetchpriority="high"{% endif %} decoding="async">
{%- endmacro %}

{% macro price_text(text) %}
{% set head = text[:1] %}
{% if head and head not in "0123456789" and text[1:2] in "0123456789" %}<span class="cur">{{ head }}</span>{% set text = text[1:] %}{% endif %}
{% set whole, dot, frac = text.rpartition(".") %}
{% if dot %}{{ whole }}<span class="frac">.{{ frac }}</span>{% else %}{{ text }}{% endif %}
{%- endmacro %}

{% macro price(p, cls="price") %}
<p class="{{ cls }}"><span class="visually-hidden">价格 Price </span>{{ price_text(p.price) }}</p>
{%- endmacro %}

{% macro card(p, eager=False, h="h3") %}
<article class="card{% if p.sold_out %} sold-out{% endif %}" data-product-id="{{ p.id }}" data-tags="{{ p.tags|map(attribute='name')|join(',') }}">
  <a class="card-media" href="{{ url(p.url) }}" tabindex="-1" aria-hidden="true">
  {% if p.image %}
    {{ img(p.image, "(min-width: 1100px) 250px, (min-width: 720px) 30vw, 50vw", lazy=not eager) }}
  {% else %}
    <span class="placeholder">{{ icon("image") }}</span>
  {% endif %}
  </a>
  {% if p.sold_out %}
  <span class="sold-badge">已售罄 Sold out</span>
  {% endif %}
  <div class="card-body">
    <{{ h }} class="card-title"><a href="{{ url(p.url) }}">{{ p.title }}</a></{{ h }}>
    {{ price(p) }}
    <p class="card-meta"><a class="card-creator" href="{{ url(p.creator_id ~ '/') }}">@{{ p.creator_name }}</a><span class="card-partner">{{ p.partner_name }}</span></p>
  </div>
</article>
{%- endmacro %}

{% macro disclosure() %}<small class="disclosure">{{ site.disclosure }}</small>{% endmacro %}
"""

REFERENCE_BASE = """<!doctype html>
{% import "_macros.html" as m %}
<html lang="{{ site.language }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% if page.title and page.title != site.title %}{{ page.title }} · {% endif %}{{ site.title }}</title>
<meta name="description" content="{{ page.description or site.description }}">
<link rel="canonical" href="{{ abs_url(page.path) }}">
<meta property="og:site_name" content="{{ site.title }}">
<meta property="og:title" content="{{ page.title or site.title }}">
<meta property="og:description" content="{{ page.description or site.description }}">
<meta property="og:url" content="{{ abs_url(page.path) }}">
<meta property="og:locale" content="{{ site.language|replace('-', '_') }}">
{% block og %}
<meta property="og:type" content="website">
<meta name="twitter:card" content="summary">
{% endblock %}
<meta name="theme-color" content="#ffffff">
{% if has_asset("icon.svg") %}
<link rel="icon" href="{{ asset('icon.svg') }}" type="image/svg+xml">
{% endif %}
<link rel="stylesheet" href="{{ asset('app.css') }}">
{% if has_asset("app.js") %}
<script src="{{ asset('app.js') }}" type="module" defer></script>
{% endif %}
{% block head %}{% endblock %}
</head>
<body class="kind-{{ page.kind }}">
<a class="skip" href="#main">跳到正文 Skip to content</a>
<header class="site-header">
  <div class="wrap header-bar">
    <a class="brand" href="{{ url('') }}"><span class="brand-mark" aria-hidden="true">橱</span><span class="brand-name">{{ site.title }}</span></a>
    <nav class="nav" aria-label="主导航 Main">
      <ul>
        <li><a href="{{ url('') }}"{% if page.kind == "home" %} aria-current="page"{% endif %}>{{ m.icon("home") }}<span>首页<span class="en"> Home</span></span></a></li>
        <li><a href="{{ url('favourites/') }}"{% if page.kind == "favourites" %} aria-current="page"{% endif %}>{{ m.icon("heart") }}<span>收藏<span class="en"> Favourites</span></span></a></li>
        <li><a href="{{ url('cart/') }}"{% if page.kind == "cart" %} aria-current="page"{% endif %}>{{ m.icon("bag") }}<span>购物车<span class="en"> Cart</span></span><span class="cart-count" data-cart-count hidden>0</span></a></li>
      </ul>
    </nav>
  </div>
</header>
<main id="main" class="wrap">
{% block main %}{% endblock %}
</main>
<footer class="site-footer">
  <div class="wrap">
    <p><strong class="disclosure">{{ site.disclosure }}</strong> 本站的购买链接是推广链接：你通过它购买，推荐的达人可能获得佣金。Buy links are affiliate links; the creator may earn a commission.</p>
    <p>怎么买：商品由品牌或商家在自己的店铺里销售、收款、发货并提供售后，本站不收款，也不保存你的地址。How buying works: the merchant sells, takes payment, ships and handles after-sales in its own shop; we never see your payment or address.</p>
    <p class="footer-links"><a href="{{ url('') }}">{{ site.title }}</a><a href="{{ url('tags/') }}">全部标签 All tags</a><a href="{{ url('favourites/') }}">我的收藏 Favourites</a></p>
  </div>
</footer>
</body>
</html>
"""

CHILD = """{% extends "BASE" %}
{% block head %}<meta name="x" content="{{ page.kind }}">
{% endblock %}
{% block main %}<p>{{ page.title }}</p>{% endblock %}
"""


def environment(base_url: str = "https://shop.example/", assets: dict[str, str] | None = None) -> jinja2.Environment:
    """The templates and the references in one environment (one per arguments: compiling is slow)."""
    return _environment(base_url, tuple(sorted((ASSETS if assets is None else assets).items())))


@functools.cache
def _environment(base_url: str, assets: tuple[tuple[str, str], ...]) -> jinja2.Environment:
    site = SiteGlobals("橱窗 <Shop> & co", "达人推荐 \"picks\"", "zh-CN", "广告 · Ad", base_url)
    env = make_env(TEMPLATES, site, dict(assets))
    env.loader = jinja2.ChoiceLoader([
        jinja2.DictLoader({"ref_macros.html": REFERENCE_MACROS, "ref_base.html": REFERENCE_BASE,
                           "ref_page.html": CHILD.replace("BASE", "ref_base.html"),
                           "new_page.html": CHILD.replace("BASE", "base.html")}),
        env.loader])
    return env


def modules(env: jinja2.Environment) -> tuple[object, object]:
    return env.get_template("_macros.html").module, env.get_template("ref_macros.html").module


# --- generated views ----------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list("aZ9 ./-,<>&\"'¥$€港币HKUS")), max_size=14)
PRICES = st.one_of(
    st.sampled_from(["¥1,080.00", "¥0.99", "US$12.00", "HK$5.5", "€3", "¥", "", "1080", "12.50", ".5", "¥.",
                     "¥1.2.3", "$<1>.&0", "1,080.00元", "¥¥1.00", " 1.00"]),
    st.text(alphabet=st.sampled_from(list("¥$€0123456789.,- <&")), max_size=12))
SRCSETS = st.one_of(
    st.sampled_from(["", "assets/img/a-320.webp 320w, assets/img/a-640.webp 640w", "/abs/a.webp 1x",
                     "assets/a b.webp 2x", " 320w", "a.webp", "x&y.webp 320w, /<z>.webp"]),
    st.lists(st.text(alphabet=st.sampled_from(list("a/ .w1&<")), max_size=10), min_size=1, max_size=4).map(", ".join))
IMAGES = st.builds(ImageView, src=st.sampled_from(["assets/img/a.webp", "/img/b.webp", "c&d.webp"]),
                   width=st.integers(1, 2000), height=st.integers(1, 2000), srcset=SRCSETS, alt=TEXT)
TAGS = st.lists(st.builds(TagView, name=TEXT, url=st.sampled_from(["tags/tea/", "tags/%E8%8C%B6/"]),
                          count=st.integers(0, 9)), max_size=4).map(tuple)
CARDS = st.builds(
    ProductCard, id=TEXT, url=st.sampled_from(["mei/oolong/", "/abs/x/", "a&b/"]), title=TEXT,
    creator_id=st.sampled_from(["mei", "lin-xiaoyu", "/x"]), creator_name=TEXT, partner_name=TEXT, price=PRICES,
    price_amount=st.integers(0, 10**6), currency=st.sampled_from(["CNY", "JPY"]), stock=st.integers(0, 9),
    sold_out=st.booleans(), image=st.none() | IMAGES, tags=TAGS, date=st.just(dt.date(2026, 11, 1)),
    description=TEXT)
BASE_URLS = st.sampled_from(["https://shop.example/", "https://preview.example.com/pr-7/"])


# --- the tests ----------------------------------------------------------------------------------------


@GENERATED
@given(card=CARDS, eager=st.booleans(), h=st.sampled_from(["h2", "h3"]), base_url=BASE_URLS)
def test_a_card_prints_what_the_old_card_printed(card: ProductCard, eager: bool, h: str, base_url: str) -> None:
    new, ref = modules(environment(base_url))
    assert new.card(card, eager=eager, h=h) == ref.card(card, eager=eager, h=h)
    assert new.card(card) == ref.card(card)


@GENERATED
@given(card=CARDS, cls=st.sampled_from(["price", "price price-lg", "<&>"]))
def test_price_prints_what_price_text_printed(card: ProductCard, cls: str) -> None:
    new, ref = modules(environment())
    assert new.price(card, cls=cls) == ref.price(card, cls=cls)


@GENERATED
@given(image=IMAGES, lazy=st.booleans(), priority=st.booleans(), cls=st.sampled_from(["", "avatar avatar-sm"]),
       base_url=BASE_URLS)
def test_img_srcset_prints_what_the_srcset_loop_printed(image: ImageView, lazy: bool, priority: bool, cls: str,
                                                         base_url: str) -> None:
    new, ref = modules(environment(base_url))
    sizes = "(min-width: 860px) 560px, 100vw"
    assert new.img(image, sizes, lazy=lazy, priority=priority, cls=cls) == \
        ref.img(image, sizes, lazy=lazy, priority=priority, cls=cls)


def test_the_icon_table_and_the_disclosure_are_what_their_macros_print() -> None:
    new, ref = modules(environment())
    assert set(new.icons) == {"home", "heart", "bag", "store", "arrow", "feed", "image"}
    for name, markup in new.icons.items():
        assert markup == new.icon(name) and markup.startswith("<svg class=\"icon\"")
    assert new.disclosure == ref.disclosure()


@pytest.mark.parametrize("assets", [ASSETS, {"app.css": "assets/app.1.css"},
                                    {"app.css": "assets/app.1.css", "icon.svg": "assets/i.svg"}])
@pytest.mark.parametrize("base_url", ["https://shop.example/", "https://preview.example.com/pr-7/"])
def test_the_layout_prints_what_it_printed_when_it_rendered_its_chrome_on_every_page(
        assets: dict[str, str], base_url: str) -> None:
    env = environment(base_url, assets)
    pages = [PageMeta("", "橱窗 <Shop> & co", "", "home"), PageMeta("favourites/", "收藏", "d", "favourites"),
             PageMeta("cart/", "购物车", "", "cart"), PageMeta("mei/oolong/", "Oolong & <tea>", "x\"y", "product"),
             PageMeta("tags/%E8%8C%B6/", "", "", "tag"), PageMeta("404.html", "404", "d", "404")]
    for page in pages * 2:      # the second time through, the header comes from cached()
        new = env.get_template("new_page.html").render(page=page)
        assert new == env.get_template("ref_page.html").render(page=page)
    assert new.count("<header") == 1 and new.count("<footer") == 1


def test_cached_keeps_at_most_max_fragments_dropping_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "MAX_FRAGMENTS", 2)
    env = make_env(TEMPLATES, SiteGlobals("t", "d", "zh", "ad", "https://x.example/"), {})
    calls: list[object] = []
    env.globals["note"] = lambda value: calls.append(value) or value
    template = env.from_string("{% macro m(v, k=0) %}{{ note(v) }}{{ k }}{% endmacro %}"
                               "{% for v in values %}{{ cached(m, v) }}|{% endfor %}{{ cached(m, 2, k=1) }}")
    # 1 and 2 are kept; 1 is read again; 3 drops 1 (the oldest, read or not), 1 drops 2, 2 drops 3;
    # a keyword argument makes another fragment (and drops 1).
    assert template.render(values=[1, 2, 1, 3, 1, 2]) == "10|20|10|30|10|20|21"
    assert calls == [1, 2, 3, 1, 2, 2]


@GENERATED
@given(data=st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                    max_size=3), max_leaves=8))
def test_json_for_script_is_json_dumps_with_markup_characters_escaped(data: object) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert json_for_script(data) == text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def test_templates_see_the_environment_globals_as_they_were_when_they_loaded() -> None:
    env = make_env(TEMPLATES, SiteGlobals("t", "d", "zh", "ad", "https://x.example/pr/"), {})
    env.globals["extra"] = "e"
    template = env.from_string("{{ extra }} {{ url('a/') }} {{ 'b/'|url }} {{ '/c'|url }}", globals={"own": 1})
    assert template.render() == "e /pr/a/ /pr/b/ /c"
    assert template.globals["own"] == 1 and "own" not in env.globals
