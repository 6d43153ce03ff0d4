"""Content reading: strict front-matter, every problem as file:line with a hint."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.config import load_config
from generator.content import read_content

GOOD = """---
title: Glass teapot
link: https://detail.tmall.com/item.htm?id=42
price: "89.90"
stock: 3
merchant: glassworks
tags: [tea]
date: 2026-10-20
---
Body.
"""


def read(site: Path):
    config, report = load_config(site / "site.yaml")
    assert report.ok, report.format()
    return read_content(site / "content", config)


def write_product(site: Path, text: str, name: str = "item.md") -> Path:
    path = site / "content" / "mei" / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def only_error(site: Path):
    _, report = read(site)
    assert len(report.errors) == 1, report.format()
    return report.errors[0]


def test_minimal_site_reads_with_prices_in_minor_units(minimal_site: Path) -> None:
    content, report = read(minimal_site)
    assert report.ok, report.format()
    by_id = {p.id: p for p in content.products}
    assert by_id["mei--oolong"].price == 12800 and by_id["mei--oolong"].partner == "weimai"
    assert by_id["mei--teapot"].price == 8990 and by_id["mei--teapot"].stock == 0
    assert by_id["mei--secret-draft"].draft
    assert "mei--secret-draft" not in {p.id for p in content.published}


def test_lookalike_link_names_file_and_line(minimal_site: Path) -> None:
    path = write_product(minimal_site, GOOD.replace("https://detail.tmall.com/item.htm?id=42",
                                                    "https://tmall.com.evil.cn/item?id=1"))
    d = only_error(minimal_site)
    assert (Path(d.file), d.line) == (path, 3)
    assert d.code == "link.lookalike-host" and "tmall.com.evil.cn" in d.message and "tmall" in d.hint


def test_draft_is_still_checked(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("stock: 3", "stock: 3\ndraft: true").replace('"89.90"', '"-1"'))
    assert only_error(minimal_site).code == "content.price"


@pytest.mark.parametrize("price, code", [
    ("89.90", "content.price-float"),
    ('"89.999"', "content.price"),
    ('"-5.00"', "content.price"),
    ('"0"', "content.price"),
    ('"1e3"', "content.price"),
    ('"NaN"', "content.price"),
    ('"abc"', "content.price"),
])
def test_bad_prices_are_refused(minimal_site: Path, price: str, code: str) -> None:
    write_product(minimal_site, GOOD.replace('"89.90"', price))
    d = only_error(minimal_site)
    assert (d.code, d.line) == (code, 4)


def test_integer_price_is_whole_yuan(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace('"89.90"', "89"))
    content, report = read(minimal_site)
    assert report.ok and {p.id: p for p in content.products}["mei--item"].price == 8900


@pytest.mark.parametrize("stock", ["-1", '"3"', "3.5", "yes", "0o17", "99999999999999999999"])
def test_bad_stock_is_refused(minimal_site: Path, stock: str) -> None:
    write_product(minimal_site, GOOD.replace("stock: 3", f"stock: {stock}"))
    d = only_error(minimal_site)
    assert d.line == 5 and d.code in {"schema.type", "schema.range"}


def test_unknown_key_gets_did_you_mean(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("tags:", "tgas:"))
    d = only_error(minimal_site)
    assert (d.code, d.line, d.hint) == ("schema.unknown-key", 7, "did you mean 'tags'?")


def test_missing_required_key(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("merchant: glassworks\n", ""))
    d = only_error(minimal_site)
    assert d.code == "schema.missing" and "merchant" in d.message


def test_boolean_words_are_not_booleans(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("stock: 3", "stock: 3\ndraft: no"))
    d = only_error(minimal_site)
    assert d.code == "schema.type" and "true or false" in d.message


def test_title_that_looks_like_a_number_must_be_quoted(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("title: Glass teapot", "title: 1:30"))
    content, report = read(minimal_site)
    assert report.ok  # no sexagesimal: 1:30 stays the text "1:30"
    assert {p.id: p for p in content.products}["mei--item"].title == "1:30"
    write_product(minimal_site, GOOD.replace("title: Glass teapot", "title: 2026-01-01"))
    d = only_error(minimal_site)
    assert d.code == "schema.type" and d.hint.startswith("quote it")


def test_duplicate_keys_are_an_error(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("stock: 3", "stock: 3\nstock: 4"))
    d = only_error(minimal_site)
    assert d.code == "content.yaml" and "duplicate key 'stock'" in d.message and d.line == 6


def test_alias_bomb_is_refused(minimal_site: Path) -> None:
    bomb = GOOD.replace("tags: [tea]", 'tags: &a ["x","x"]\ndescription: *a')
    write_product(minimal_site, bomb)
    d = only_error(minimal_site)
    assert d.code == "content.yaml" and "anchors" in d.message


def test_missing_closing_marker(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("---\nBody.", "Body."))
    d = only_error(minimal_site)
    assert d.code == "content.yaml" and "closing" in d.message


def test_bom_is_tolerated_and_non_utf8_is_reported(minimal_site: Path) -> None:
    write_product(minimal_site, b"\xef\xbb\xbf" + GOOD.encode())
    assert read(minimal_site)[1].ok
    write_product(minimal_site, GOOD.replace("Glass teapot", "Glas\xe9").encode("latin-1"))
    d = only_error(minimal_site)
    assert d.code == "content.yaml" and "UTF-8" in d.message and d.line == 2


def test_product_of_unknown_creator_and_duplicate_ids(minimal_site: Path) -> None:
    (minimal_site / "content" / "ghost").mkdir()
    (minimal_site / "content" / "ghost" / "thing.md").write_text(GOOD)
    write_product(minimal_site, GOOD.replace("date:", "slug: oolong\ndate:"), "other.md")
    _, report = read(minimal_site)
    codes = sorted(d.code for d in report.errors)
    assert codes == ["content.duplicate-id", "content.no-profile"]


def test_symlink_outside_content_is_refused(minimal_site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(GOOD)
    (minimal_site / "content" / "mei" / "link.md").symlink_to(outside)
    d = only_error(minimal_site)
    assert d.code == "content.outside-root"


def test_missing_image_is_reported(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("tags: [tea]", "tags: [tea]\nimages: [nope.png]"))
    d = only_error(minimal_site)
    assert d.code == "content.image-missing" and d.line == 8


def test_image_path_traversal_is_refused(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD.replace("tags: [tea]", "tags: [tea]\nimages: [../../site.yaml]"))
    assert only_error(minimal_site).code == "content.image-name"


def test_huge_body_is_refused_not_crashing(minimal_site: Path) -> None:
    write_product(minimal_site, GOOD + "x" * (10 * 1024 * 1024))
    d = only_error(minimal_site)
    assert d.code == "content.too-large"


def test_reserved_creator_folder_name(minimal_site: Path) -> None:
    (minimal_site / "content" / "cart").mkdir()
    d = only_error(minimal_site)
    assert d.code == "content.creator-id"
