"""Incremental builds that re-plan only the pages showing a changed product (generator/delta.py).

Every build here is checked against a clean build of the same input, byte for
byte (pages, assets, index.json and the catalog), and the tests also say which
path the build took: the partial plan for changes to a product's price, stock,
body, description or link; the full build for anything that moves pages.
"""
from __future__ import annotations

import random
import re
import shutil
from dataclasses import fields
from pathlib import Path

import pytest
from test_incremental import TODAY, options, tree

from generator import build as build_module
from generator.build import BuildOptions, build
from generator.delta import Snapshot, Standin
from generator.pages import STRUCTURE

REPO = Path(__file__).resolve().parents[2]


def assert_same_as_clean(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean"
    shutil.rmtree(out, ignore_errors=True)
    build(BuildOptions(root=site, out=out, catalog=tmp_path / "clean-catalog.json", today=TODAY, jobs=1,
                       clean=True, progress=False))
    assert tree(site / "public") == tree(out)
    assert (site / "catalog.json").read_bytes() == (tmp_path / "clean-catalog.json").read_bytes()


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which model each build used: "full" or "partial"."""
    taken: list[str] = []
    full, partial = build_module._full_model, build_module._changed_model

    def spy_full(*args, **kwargs):
        taken.append("full")
        return full(*args, **kwargs)

    def spy_partial(*args, **kwargs):
        found = partial(*args, **kwargs)
        if found is not None:
            taken.append("partial")
        return found

    monkeypatch.setattr(build_module, "_full_model", spy_full)
    monkeypatch.setattr(build_module, "_changed_model", spy_partial)
    return taken


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, built once: its cache holds the processed images every test would make again."""
    root = tmp_path_factory.mktemp("built") / "demo"
    root.mkdir()
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    for folder in ("content", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    build(options(root))
    return root


@pytest.fixture
def site(built_demo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(built_demo, root, symlinks=True)
    build(options(root))        # its own output path: the first build here is a full one
    return root


def products(site: Path) -> list[Path]:
    return sorted(p for p in (site / "content").glob("*/*.md") if p.name != "_index.md")


def front(path: Path, field: str, value: str) -> None:
    """Set one front-matter field (added after the title when missing)."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text[4:].partition("\n---\n")
    line = re.compile(rf"^{field}:.*$", re.MULTILINE)
    head = line.sub(f"{field}: {value}", head) if line.search(head) else \
        re.sub(r"^(title:.*)$", rf"\1\n{field}: {value}", head, count=1, flags=re.MULTILINE)
    path.write_text(f"---\n{head}{sep}{body}", encoding="utf-8")


# Changes to what a product shows, never to where or in which lists it appears.
DETAIL_EDITS = {
    "body": lambda p, r: p.write_text(p.read_text(encoding="utf-8") + f"\nOne more thing, *take {r}*.\n",
                                      encoding="utf-8"),
    "price": lambda p, r: front(p, "price", f'"{r % 900 + 1}.{r % 100:02d}"'),
    "stock": lambda p, r: front(p, "stock", str(r % 3)),       # 0 is sold out: the card says so
    "description": lambda p, r: front(p, "description", f"Reviewed again, take {r}"),
    "link": lambda p, r: front(p, "link", f"https://item.jd.com/{100000000 + r}.html"),
}


@pytest.mark.parametrize("seed", [1, 2])
def test_detail_edits_take_the_partial_plan_and_equal_a_clean_build(
        site: Path, tmp_path: Path, paths: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for step in range(5):
        kinds = rng.sample(sorted(DETAIL_EDITS), rng.randint(1, 2))
        for path in rng.sample(products(site), rng.randint(1, 3)):
            for kind in kinds:
                DETAIL_EDITS[kind](path, rng.randint(1, 10_000))
        paths.clear()
        result = build(options(site))
        assert paths == ["partial"], (step, kinds)
        assert 0 < result.rendered < result.pages / 2
        assert_same_as_clean(site, tmp_path)


def test_a_body_edit_below_the_summary_renders_only_the_pages_that_print_the_body(
        site: Path, tmp_path: Path, paths: list[str]) -> None:
    product = site / "content/alex-tech/anker-usb-c-hub.md"
    DETAIL_EDITS["body"](product, 11)
    result = build(options(site))
    assert paths == ["partial"]
    assert set(result.rendered_pages) <= {"alex-tech/anker-usb-c-hub/index.html", "alex-tech/index.xml"}
    assert "alex-tech/anker-usb-c-hub/index.html" in result.rendered_pages
    assert_same_as_clean(site, tmp_path)


def test_a_price_edit_renders_the_related_products_pages_but_not_their_creators_feeds(
        site: Path, tmp_path: Path, paths: list[str]) -> None:
    # A feed entry shows the product's card, body and images, never its related products.
    content = build_module.read_content(site / "content", build_module.load_config(site / "site.yaml")[0])[0]
    published = {p.id: p for p in content.published}
    ranked = build_module.related(content.published)
    target = next(p for p in content.published
                  if any(published[o].creator != p.creator for o in ranked if p.id in ranked[o]))
    others = {published[o] for o in ranked if target.id in ranked[o] and published[o].creator != target.creator}
    DETAIL_EDITS["price"](target.file, 4321)
    result = build(options(site))
    assert paths == ["partial"]
    rendered = set(result.rendered_pages)
    assert {f"{o.creator}/{o.slug}/index.html" for o in others} <= rendered
    assert f"{target.creator}/index.xml" in rendered
    assert {f"{o.creator}/index.xml" for o in others if o.creator != target.creator}.isdisjoint(rendered)
    assert_same_as_clean(site, tmp_path)


def test_edits_to_a_draft_change_no_page(site: Path, tmp_path: Path, paths: list[str]) -> None:
    product = site / "content/alex-tech/anker-usb-c-hub.md"
    front(product, "draft", "true")
    build(options(site))
    paths.clear()
    for kind, edit in DETAIL_EDITS.items():
        edit(product, 42)
        result = build(options(site))
        assert paths == ["partial"] and result.rendered == 0, kind
        paths.clear()
    assert_same_as_clean(site, tmp_path)


STRUCTURE_EDITS = {
    "title": lambda p: front(p, "title", "A new name"),
    "tags": lambda p: front(p, "tags", "[数码, new-tag]"),
    "date": lambda p: front(p, "date", "2026-11-20"),
    "draft": lambda p: front(p, "draft", "true"),
    "weight": lambda p: front(p, "weight", "-5"),
    "images": lambda p: front(p, "images", "[]"),
}


@pytest.mark.parametrize("kind", sorted(STRUCTURE_EDITS))
def test_a_change_that_moves_pages_takes_the_full_build(
        site: Path, tmp_path: Path, paths: list[str], kind: str) -> None:
    STRUCTURE_EDITS[kind](site / "content/alex-tech/anker-usb-c-hub.md")
    build(options(site))
    assert paths == ["full"]
    assert_same_as_clean(site, tmp_path)


def test_profiles_images_and_new_files_take_the_full_build(site: Path, tmp_path: Path, paths: list[str]) -> None:
    (site / "content/alex-tech/_index.md").write_text(
        (site / "content/alex-tech/_index.md").read_text(encoding="utf-8") + "\nMore about me.\n", encoding="utf-8")
    build(options(site))
    image = next((site / "content").glob("*/images/*.webp"))
    image.write_bytes(image.read_bytes() + b"\0")
    build(options(site))
    (site / "content/alex-tech/spare.md").write_text(
        products(site)[0].read_text(encoding="utf-8").replace("title:", "title: Spare", 1), encoding="utf-8")
    build(options(site))
    assert paths == ["full", "full", "full"]
    assert_same_as_clean(site, tmp_path)


def test_a_damaged_page_is_rendered_again_by_a_partial_build(site: Path, tmp_path: Path, paths: list[str]) -> None:
    damaged = site / "public/tags/index.html"
    damaged.write_text("vandalised", encoding="utf-8")
    DETAIL_EDITS["price"](site / "content/alex-tech/anker-usb-c-hub.md", 77)
    result = build(options(site))
    assert paths == ["partial"]
    assert "tags/index.html" in result.rendered_pages
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("damaged", ["index.json", "assets", "image"])
def test_a_damaged_file_that_is_not_a_page_sends_the_build_the_full_way(
        site: Path, tmp_path: Path, paths: list[str], damaged: str) -> None:
    public = site / "public"
    target = {"index.json": public / "index.json", "assets": next((public / "assets").glob("app.*.css")),
              "image": next((public / "assets" / "img").glob("*.webp"))}[damaged]
    target.write_bytes(b"vandalised")
    DETAIL_EDITS["body"](site / "content/alex-tech/anker-usb-c-hub.md", 5)
    build(options(site))
    assert paths == ["full"]
    assert_same_as_clean(site, tmp_path)


def test_an_edited_catalog_sends_the_build_the_full_way(site: Path, tmp_path: Path, paths: list[str]) -> None:
    catalog = site / "catalog.json"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('"stock":', '"stock": ', 1), encoding="utf-8")
    DETAIL_EDITS["stock"](site / "content/alex-tech/anker-usb-c-hub.md", 2)
    build(options(site))
    assert paths == ["full"]
    assert_same_as_clean(site, tmp_path)


def test_an_invalid_edit_is_reported_like_any_build(site: Path, paths: list[str]) -> None:
    front(site / "content/alex-tech/anker-usb-c-hub.md", "price", '"free"')
    before = tree(site / "public")
    with pytest.raises(build_module.BuildError) as raised:
        build(options(site))
    assert "anker-usb-c-hub.md" in str(raised.value.report.items[0].file)
    assert tree(site / "public") == before


def test_a_symlinked_product_takes_the_full_build(site: Path, tmp_path: Path, paths: list[str]) -> None:
    source = site / "content/alex-tech/anker-usb-c-hub.md"
    kept = site / "content/alex-tech/.kept/anker-usb-c-hub.md"    # inside content/, not read by itself
    kept.parent.mkdir()
    shutil.move(source, kept)
    source.symlink_to(kept)
    build(options(site))
    paths.clear()
    DETAIL_EDITS["body"](kept, 9)
    build(options(site))
    assert paths == ["full"]
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("part", ["", ":files", ":products", ":shows"])
@pytest.mark.parametrize("blob", [b"", b"{", b"[]", b'{"version": 2}', b'[["index.html"], [[99999]]]', b"\xff\xfe"])
def test_an_unreadable_snapshot_is_ignored(site: Path, tmp_path: Path, paths: list[str], part: str,
                                           blob: bytes) -> None:
    cache = build_module.BuildCache(site / ".chuchuang-cache")
    key = f"snapshot:{(site / 'public').resolve()}"
    assert Snapshot.load(cache.get, key) is not None
    cache.put(key + part, blob)
    assert Snapshot.load(cache.get, key) is None
    cache.commit()
    cache.close()
    DETAIL_EDITS["price"](site / "content/alex-tech/anker-usb-c-hub.md", 3)
    build(options(site))
    assert paths == ["full"]
    assert_same_as_clean(site, tmp_path)


def test_a_standin_holds_exactly_the_structure_a_plan_may_read_of_any_product() -> None:
    """Stand-ins are made positionally from ``structure(product)``: the two orders must agree."""
    assert [f.name for f in fields(Standin)] == [*STRUCTURE, "rel"]
