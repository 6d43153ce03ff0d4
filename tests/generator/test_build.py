"""The build: pages, catalog beside the site, incremental and atomic."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import pickle
import re
import shutil
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator import build as build_module
from generator.build import BuildOptions, build
from generator.diagnostics import BuildError
from generator.workers import Packed, Shared, TemplateFailure, render_chunk, unpack

TODAY = dt.date(2026, 11, 25)
REPO = Path(__file__).resolve().parents[2]


def options(site: Path, **kw) -> BuildOptions:
    return BuildOptions(root=site, out=site / "public", catalog=site / "catalog.json", today=TODAY, jobs=1, **kw)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_minimal_site_builds_every_page_kind(minimal_site: Path) -> None:
    result = build(options(minimal_site))
    files = set(tree(minimal_site / "public"))
    for page in ["index.html", "404.html", "robots.txt", "sitemap.xml", "index.json", "mei/index.html",
                 "mei/index.xml", "mei/oolong/index.html", "mei/teapot/index.html", "tags/tea/index.html",
                 "tags/茶/index.html", "tags/index.html", "cart/index.html", "checkout/index.html",
                 "favourites/index.html"]:
        assert page in files, page
    assert not any("secret-draft" in f for f in files)
    assert any(re.fullmatch(r"assets/app\.[0-9a-f]{10}\.css", f) for f in files)
    assert result.rendered == result.pages and result.reused == 0


def test_catalog_is_beside_the_site_with_minor_units_and_rate_rules(minimal_site: Path) -> None:
    build(options(minimal_site))
    catalog = json.loads((minimal_site / "catalog.json").read_text())
    products = {p["id"]: p for p in catalog["products"]}
    assert set(products) == {"mei--oolong", "mei--teapot"}
    oolong = products["mei--oolong"]
    assert (oolong["price"], oolong["currency"], oolong["stock"]) == (12800, "CNY", 10)
    assert (oolong["partner"], oolong["merchant"]) == ("weimai", "tea-house")
    assert (oolong["rate"], oolong["rate_rule"]) == ("0.12", "agreement:mei/tea-house/2026-01-01")
    assert products["mei--teapot"]["rate_rule"] == "partner-default:tmall"
    assert catalog["partners"]["weimai"]["handoff"]["type"] == "webhook"
    assert not (minimal_site / "public" / "catalog.json").exists()


def test_published_pages_never_mention_commission(minimal_site: Path) -> None:
    build(options(minimal_site))
    for path in (minimal_site / "public").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".json", ".txt", ".js", ".css"}:
            text = path.read_text(encoding="utf-8")
            for word in ("rate_rule", "agreement:", "partner-default:", '"rate"', "lock_days"):
                assert word not in text, f"{word!r} in {path}"


def test_images_are_webp_with_width_and_height(minimal_site: Path) -> None:
    build(options(minimal_site))
    html = (minimal_site / "public" / "mei" / "oolong" / "index.html").read_text()
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert imgs
    for img in imgs:
        assert re.search(r'\bwidth="\d+"', img) and re.search(r'\bheight="\d+"', img), img
    assert ".webp" in html


def test_second_build_without_change_renders_nothing(minimal_site: Path) -> None:
    build(options(minimal_site))
    before = tree(minimal_site / "public")
    result = build(options(minimal_site))
    assert result.rendered == 0 and result.reused == result.pages and result.written == 0
    assert "0 rendered" in result.summary()
    assert tree(minimal_site / "public") == before


def test_changed_product_rerenders_it_and_its_listings_only(minimal_site: Path) -> None:
    page = minimal_site / "content" / "mei" / "teapot.md"
    # With an explicit description the body is not part of the product's card, so
    # pages that only list the card (the related oolong page) stay as they are.
    page.write_text(page.read_text().replace("tags: [tea]", "tags: [tea]\ndescription: Heat-proof"))
    build(options(minimal_site))
    page.write_text(page.read_text().replace("Heat-proof glass", "Heat-proof borosilicate glass"))
    result = build(options(minimal_site))
    assert "mei/teapot/index.html" in result.rendered_pages
    assert "mei/oolong/index.html" not in result.rendered_pages
    assert "cart/index.html" not in result.rendered_pages


def test_incremental_output_equals_a_clean_build(minimal_site: Path, tmp_path: Path) -> None:
    build(options(minimal_site))
    page = minimal_site / "content" / "mei" / "oolong.md"
    page.write_text(page.read_text().replace('"128.00"', '"138.00"').replace("[tea, 茶]", "[tea, 乌龙]"))
    build(options(minimal_site))
    incremental = tree(minimal_site / "public")
    clean = build(BuildOptions(root=minimal_site, out=tmp_path / "clean", catalog=tmp_path / "c.json",
                               today=TODAY, jobs=1, clean=True))
    assert clean.reused == 0
    assert tree(tmp_path / "clean") == incremental


def test_failure_halfway_leaves_previous_site_untouched(minimal_site: Path, monkeypatch) -> None:
    build(options(minimal_site))
    before = tree(minimal_site / "public")
    catalog_before = (minimal_site / "catalog.json").read_bytes()
    page = minimal_site / "content" / "mei" / "oolong.md"
    page.write_text(page.read_text().replace('"128.00"', '"99.00"'))
    writes = {"n": 0}
    real_write = build_module._write

    def flaky_write(path: Path, data: bytes) -> None:
        writes["n"] += 1
        if writes["n"] == 3:
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(build_module, "_write", flaky_write)
    with pytest.raises(OSError):
        build(options(minimal_site, clean=True))
    assert tree(minimal_site / "public") == before
    assert (minimal_site / "catalog.json").read_bytes() == catalog_before
    assert not list(minimal_site.glob(".public.staging-*"))


def test_template_error_is_a_diagnostic_and_keeps_the_site(minimal_site: Path) -> None:
    import shutil
    shutil.copytree(build_module.DEFAULT_TEMPLATES, minimal_site / "templates")
    build(options(minimal_site))
    before = tree(minimal_site / "public")
    product = minimal_site / "templates" / "product.html"
    product.write_text(product.read_text() + "\n{% if %}\n")
    with pytest.raises(BuildError) as info:
        build(options(minimal_site))
    [diag] = info.value.report.errors
    assert diag.code == "template.error" and Path(diag.file).name == "product.html"
    assert tree(minimal_site / "public") == before


def _failing_or_slow_chunk(jobs: list | Packed, *args: object) -> list[str]:
    """A chunk with a tag page fails at once; any other renders half a second late (see the test below)."""
    assert isinstance(jobs, Packed)     # sent to a worker, with the cards it shares
    jobs = unpack(jobs)
    if any(job.template == "tag.html" for job in jobs):
        raise TemplateFailure("tag.html", 1, "broken on purpose")
    time.sleep(0.5)
    return render_chunk(jobs, *args)


def test_a_page_failing_in_a_worker_leaves_no_staging_behind(demo_site: Path, monkeypatch, tmp_path: Path) -> None:
    """The other worker may still be writing when a page fails: it is stopped before staging goes."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))    # where the shared cards' file goes
    opts = BuildOptions(root=demo_site, out=demo_site / "public", catalog=demo_site / "catalog.json",
                        today=TODAY, jobs=2, clean=True, progress=False)
    build(opts)
    before = tree(demo_site / "public")
    monkeypatch.setattr(build_module, "render_chunk", _failing_or_slow_chunk)
    with pytest.raises(BuildError):     # another base URL: every page differs, so every page is written
        build(dataclasses.replace(opts, base_url="https://preview.test/pr-7/"))
    assert not list(demo_site.glob(".public.staging-*"))
    assert tree(demo_site / "public") == before
    assert not list(tmp_path.glob("chuchuang-shared-*"))


def test_a_parallel_cold_build_renders_listing_pages_while_related_products_are_ranked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages that show no related products go to the workers before those are ranked; the
    site is byte for byte the one an inline build makes."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))    # where the shared cards' file goes
    site = importlib.import_module("corpus").write_corpus(tmp_path / "site", 400)
    batches: list[list[str]] = []
    waited: list[int] = []
    submit, planner = build_module._Rendering.submit, build_module.plan

    def spy_submit(self, jobs, cards):
        batches.append([job.template for job in jobs])
        return submit(self, jobs, cards)

    def spy_plan(*args, related_ids, **kwargs):
        if not callable(related_ids):   # the second build finds them in the cache
            return planner(*args, related_ids=related_ids, **kwargs)

        def ranked():
            waited.append(len(batches))     # batches handed out before the plan waited for the ranking
            return related_ids()

        return planner(*args, related_ids=ranked, **kwargs)

    monkeypatch.setattr(build_module._Rendering, "submit", spy_submit)
    monkeypatch.setattr(build_module, "plan", spy_plan)
    results = {}
    for jobs in (2, 1):
        out = tmp_path / f"out-{jobs}"
        results[jobs] = build(BuildOptions(root=site, out=out, catalog=tmp_path / f"catalog-{jobs}.json",
                                           today=TODAY, jobs=jobs, clean=True, progress=False))
        assert tree(out)
    assert tree(tmp_path / "out-2") == tree(tmp_path / "out-1")
    assert results[2].rendered == results[1].rendered == results[2].pages
    assert waited == [1]     # the first build: a worker ranked them meanwhile
    first, rest = batches[0], batches[1]
    assert "product.html" not in first and {"tag.html", "creator.html", "feed.xml", "home.html"} <= set(first)
    assert set(rest) == {"product.html"} and len(rest) == 400
    assert len(first) + len(rest) == results[2].pages
    assert not list(tmp_path.glob("chuchuang-shared-*"))


@dataclasses.dataclass(frozen=True)
class _Card:
    id: int
    title: str


def test_a_packed_part_refers_to_the_shared_objects_and_carries_the_rest() -> None:
    cards = [_Card(i, f"{i}" * 1000) for i in range(3)]
    shared = Shared(cards)
    try:
        part = [("job", cards[2], cards[0]), {"other": _Card(2, "2" * 1000)}, cards[2]]
        packed = shared.pack(part)
        assert len(packed.data) < 1300 < 3000 < len(pickle.dumps(part))    # one copy (the other card), not three
        back = unpack(packed)
        assert back == part
        assert back[0][1] is back[2] and back[1]["other"] is not back[2]     # one object, as in the table
        assert unpack(part) is part
    finally:
        shared.remove()
    assert not Path(shared.path).exists()


def test_without_a_writable_temporary_folder_the_cards_travel_with_the_pages(
        demo_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = BuildOptions(root=demo_site, out=demo_site / "public", catalog=demo_site / "catalog.json",
                        today=TODAY, jobs=2, clean=True, progress=False)
    build(opts)
    expected = tree(demo_site / "public")
    shutil.rmtree(demo_site / "public")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    build(opts)
    assert tree(demo_site / "public") == expected


def test_base_url_with_sub_path_prefixes_every_link(minimal_site: Path) -> None:
    build(options(minimal_site, base_url="https://preview.test/pr-7/"))
    html = (minimal_site / "public" / "mei" / "oolong" / "index.html").read_text()
    hrefs = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert hrefs and all(h.startswith("/pr-7/") for h in hrefs), [h for h in hrefs if not h.startswith("/pr-7/")]
    assert '<link rel="canonical" href="https://preview.test/pr-7/mei/oolong/">' in html


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []
        self.inline_scripts = 0
        self._script_type: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}>")
            if value and name in ("href", "src", "action", "formaction") and \
                    re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:", "vbscript:")):
                self.bad.append(f"<{tag} {name}={value}>")
            if name == "style":
                self.bad.append(f"<{tag} style>")
        if tag == "script":
            attrs_d = dict(attrs)
            self._script_type = attrs_d.get("type", "")
            if "src" not in attrs_d and self._script_type != "application/ld+json":
                self.inline_scripts += 1


def test_demo_build_has_no_event_handlers_or_script_urls(demo_site: Path) -> None:
    result = build(BuildOptions(root=demo_site, out=demo_site / "public", catalog=demo_site / "catalog.json",
                                today=TODAY))
    product_pages = [p for p in (demo_site / "public").glob("*/*/index.html") if p.parent.parent.name != "tags"]
    assert len(product_pages) >= 40
    assert result.pages > 60
    for page in (demo_site / "public").rglob("*.html"):
        parser = _Attrs()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.bad == [], (page, parser.bad)
        assert parser.inline_scripts == 0, page
    catalog = json.loads((demo_site / "catalog.json").read_text())
    assert len(catalog["products"]) >= 40
    assert all(isinstance(p["price"], int) and isinstance(p["stock"], int) for p in catalog["products"])
