"""Page keys: equal data gives equal keys, and any difference a page could show changes them."""
from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from pathlib import Path

from generator.render import Fingerprinter, PageMeta, fingerprint
from generator.views import SHARED_VIEWS, Html, ImageView, ProductCard, ProductPage, TagView


def card(**changes: object) -> ProductCard:
    base = ProductCard(
        id="mei--oolong", url="mei/oolong/", title="高山乌龙", creator_id="mei", creator_name="Mei",
        partner_name="天猫", price="¥98.00", price_amount=9800, currency="CNY", stock=3, sold_out=False,
        image=ImageView("assets/img/a.webp", 320, 320, "assets/img/a.webp 320w", "tea"),
        tags=(TagView("茶", "tags/茶/", 2),), date=dt.date(2026, 5, 1), description="")
    return dataclasses.replace(base, **changes)


def test_equal_data_gives_equal_keys_in_any_build() -> None:
    assert fingerprint({"p": card()}, "x") == fingerprint({"p": card()}, "x")
    shared = card()
    keys = Fingerprinter()
    assert keys({"p": shared}) == keys({"p": card()}) == Fingerprinter()({"p": shared})


def test_every_field_and_nested_view_changes_the_key() -> None:
    base = fingerprint(card())
    for changes in ({"title": "乌龙"}, {"stock": 2}, {"sold_out": True}, {"date": dt.date(2026, 5, 2)},
                    {"image": None}, {"tags": ()}, {"tags": (TagView("茶", "tags/茶/", 3),)},
                    {"image": ImageView("assets/img/a.webp", 320, 321, "assets/img/a.webp 320w", "tea")}):
        assert fingerprint(card(**changes)) != base, changes


def test_values_that_print_alike_but_differ_get_different_keys() -> None:
    assert len({fingerprint(v) for v in (1, True, "1", 1.0, [1], (1,), b"1", None, "None")}) == 9
    assert fingerprint({"a": 1, "b": 2}) != fingerprint({"a": 2, "b": 1})
    assert fingerprint(Path("a/b")) != fingerprint("a/b")


def test_a_view_digest_cannot_be_forged_by_text() -> None:
    keys = Fingerprinter()
    tag = TagView("茶", "tags/茶/", 2)
    assert keys(tag) != keys(str(keys.view(tag)))


def test_types_without_a_faithful_repr_are_hashed_by_value() -> None:
    assert fingerprint(Fraction(1, 3)) == fingerprint(Fraction(2, 6))
    assert fingerprint(Fraction(1, 3)) != fingerprint(Fraction(1, 4))
    # A body is known by its markup key, which names exactly one HTML.
    assert fingerprint(Html("k1", 10)) != fingerprint(Html("k2", 10))


def test_views_written_out_where_they_stand_key_like_hashed_ones() -> None:
    """A page's own views (its product page, its meta data) are not hashed separately: same rules."""
    shared = Fingerprinter(SHARED_VIEWS)

    def page(**changes: object) -> ProductPage:
        base = ProductPage(card=card(), link="https://detail.tmall.com/item.htm?id=1", merchant="m",
                           body_html=Html("k1", 10), images=(), related=(card(id="b"),))
        return dataclasses.replace(base, **changes)

    assert shared({"product": page()}) == Fingerprinter(SHARED_VIEWS)({"product": page()})
    base = shared({"product": page()})
    for changes in ({"link": "https://detail.tmall.com/item.htm?id=2"}, {"merchant": "n"},
                    {"body_html": Html("k2", 10)}, {"related": ()}, {"related": (card(id="b", stock=0),)},
                    {"card": card(title="乌龙")}):
        assert shared({"product": page(**changes)}) != base, changes
    # Written out, a view still cannot be passed for by text, tuples or another type with its fields.
    meta = PageMeta("mei/", "Mei", "d", "creator")
    assert shared(meta) != shared(("PageMeta", ("mei/", "Mei", "d", "creator")))
    twin = dataclasses.make_dataclass("Meta", ["path", "title", "description", "kind"], frozen=True)
    assert shared(meta) != shared(twin("mei/", "Mei", "d", "creator"))
