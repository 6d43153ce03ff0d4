"""The fans' bytes: the demo build stays inside the page-weight budget (bytes, not time)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image

from generator.build import BuildOptions, build

KB = 1000
PRODUCT_HTML_MAX = 30 * KB
CSS_MAX = 12 * KB
JS_MAX = 12 * KB           # minified
FIRST_VIEW_REQUESTS = 6    # the document, stylesheets, scripts, preloads, icons; not images


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from tests.conftest import REPO
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "templates", root / "templates")
    build(BuildOptions(root=root, out=root / "public", catalog=root / "catalog.json",
                       today=dt.date(2026, 11, 25), progress=False))
    return root / "public"


def product_pages(public: Path) -> list[Path]:
    return [p for p in public.glob("*/*/index.html") if p.parent.parent.name != "tags"]


def test_every_product_page_is_at_most_30_kb(public: Path) -> None:
    pages = product_pages(public)
    assert len(pages) >= 40
    sizes = {p.relative_to(public).as_posix(): p.stat().st_size for p in pages}
    assert max(sizes.values()) <= PRODUCT_HTML_MAX, sorted(sizes.items(), key=lambda i: -i[1])[:3]


def test_there_is_one_css_file_of_at_most_12_kb(public: Path) -> None:
    css = list((public / "assets").glob("*.css"))
    assert len(css) == 1
    assert css[0].stat().st_size <= CSS_MAX, css[0].stat().st_size


def test_the_script_is_at_most_12_kb_minified(public: Path) -> None:
    import rjsmin
    scripts = list((public / "assets").glob("*.js"))
    if not scripts:
        pytest.skip("the demo ships no script")
    assert len(scripts) == 1
    minified = rjsmin.jsmin(scripts[0].read_text(encoding="utf-8"))
    assert len(minified.encode()) <= JS_MAX, len(minified.encode())


def test_no_web_fonts(public: Path) -> None:
    assert not [p for p in public.rglob("*") if p.suffix in {".woff", ".woff2", ".ttf", ".otf", ".eot"}]
    for css in (public / "assets").glob("*.css"):
        assert "@font-face" not in css.read_text(encoding="utf-8")
    for page in public.rglob("*.html"):
        assert "fonts.googleapis" not in page.read_text(encoding="utf-8")


def test_every_img_has_width_and_height_and_is_webp(public: Path) -> None:
    seen = 0
    for page in public.rglob("*.html"):
        for tag in re.findall(r"<img\b[^>]*>", page.read_text(encoding="utf-8")):
            seen += 1
            assert re.search(r'\swidth="\d+"', tag) and re.search(r'\sheight="\d+"', tag), (page, tag)
            src = re.search(r'\ssrc="([^"]+)"', tag)
            # A src-less <img> is a card template the script fills in; it still reserves its box.
            assert src is None or src.group(1).endswith(".webp"), (page, tag)
    assert seen > 40


def test_images_are_never_larger_than_the_largest_size_shown(public: Path) -> None:
    """Each srcset candidate's file is exactly its declared width; none beyond the widest shown."""
    widest_shown = 640     # the product page's hero (CSS max width); cards are smaller
    checked = 0
    for page in [public / "index.html", *product_pages(public)[:10]]:
        for srcset in re.findall(r'srcset="([^"]+)"', page.read_text(encoding="utf-8")):
            for candidate in srcset.split(", "):
                url, width = candidate.rsplit(" ", 1)
                path = public / url.lstrip("/")
                with Image.open(path) as image:
                    assert image.format == "WEBP"
                    assert image.width == int(width.rstrip("w")) <= widest_shown, (url, image.size)
                checked += 1
    assert checked > 20


def first_view_requests(html: str) -> list[str]:
    """Everything a browser fetches before images: stylesheets, scripts, preloads, icons, manifests."""
    found = []
    for tag in re.findall(r"<link\b[^>]*>", html):
        rel = re.search(r'\srel="([^"]+)"', tag)
        if rel and set(rel.group(1).split()) & {"stylesheet", "preload", "modulepreload", "icon", "manifest",
                                                "apple-touch-icon"}:
            found.append(tag)
    found += [tag for tag in re.findall(r"<script\b[^>]*>", html) if " src=" in tag]
    return found


def test_at_most_six_requests_for_a_first_view_before_images(public: Path) -> None:
    for page in [public / "index.html", public / "cart/index.html", public / "tags/index.html",
                 *product_pages(public)[:5], *public.glob("*/index.html")]:
        requests = first_view_requests(page.read_text(encoding="utf-8"))
        assert 1 + len(requests) <= FIRST_VIEW_REQUESTS, (page, requests)
