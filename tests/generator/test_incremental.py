"""Incremental builds: after any kind of change, byte-identical to a clean build."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import build as build_module
from generator.build import BuildOptions, build

TODAY = dt.date(2026, 11, 25)


def options(site: Path, **kw) -> BuildOptions:
    return BuildOptions(root=site, out=site / "public", catalog=site / "catalog.json", today=TODAY, jobs=1,
                        progress=False, **kw)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def clean_build(site: Path, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "clean"
    shutil.rmtree(out, ignore_errors=True)
    result = build(BuildOptions(root=site, out=out, catalog=tmp_path / "clean-catalog.json", today=TODAY,
                                jobs=1, clean=True, progress=False))
    assert result.reused == 0
    return tree(out)


@pytest.fixture
def site(minimal_site: Path) -> Path:
    shutil.copytree(build_module.DEFAULT_TEMPLATES, minimal_site / "templates")
    build(options(minimal_site))
    return minimal_site


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def product_body(site: Path) -> None:
    edit(site / "content/mei/teapot.md", "easy to clean.", "easy to clean, and it pours well.")


def product_price(site: Path) -> None:
    edit(site / "content/mei/oolong.md", '"128.00"', '"138.00"')


def tags(site: Path) -> None:
    edit(site / "content/mei/oolong.md", "[tea, 茶]", "[tea, 乌龙]")


def creator_profile(site: Path) -> None:
    edit(site / "content/mei/_index.md", "name: Mei", "name: Mei Lan")


def template(site: Path) -> None:
    edit(site / "templates/base.html", "<main", "<!-- edited -->\n<main")


def site_yaml(site: Path) -> None:
    edit(site / "site.yaml", "title: Minimal Shop", "title: Minimal Shop Two")


def deleted_product(site: Path) -> None:
    (site / "content/mei/teapot.md").unlink()


def new_product(site: Path) -> None:
    (site / "content/mei/gaiwan.md").write_text(
        "---\ntitle: Porcelain gaiwan\nlink: https://detail.tmall.com/item.htm?id=77\nprice: \"59.00\"\n"
        "stock: 4\nmerchant: glassworks\ntags: [tea, 瓷器]\ndate: 2026-11-01\n---\nThin walls, **hot** hands.\n",
        encoding="utf-8")


CHANGES: dict[str, Callable[[Path], None]] = {
    "product body": product_body, "product price": product_price, "tags": tags,
    "creator profile": creator_profile, "template": template, "site.yaml": site_yaml,
    "deleted product": deleted_product, "new product": new_product,
}


@pytest.mark.parametrize("change", CHANGES)
def test_incremental_build_after_a_change_equals_a_clean_build(site: Path, tmp_path: Path, change: str) -> None:
    before = tree(site / "public")
    CHANGES[change](site)
    result = build(options(site))
    after = tree(site / "public")
    assert after != before, "the change should show somewhere"
    assert 0 < result.rendered < result.pages or change in ("template", "site.yaml")
    assert after == clean_build(site, tmp_path)
    assert (site / "catalog.json").read_bytes() == (tmp_path / "clean-catalog.json").read_bytes()


def test_no_change_renders_nothing_and_writes_nothing(site: Path) -> None:
    before = tree(site / "public")
    result = build(options(site))
    assert (result.rendered, result.written, result.reused) == (0, 0, result.pages)
    assert tree(site / "public") == before


def test_a_changed_template_rerenders_exactly_the_pages_that_use_it(site: Path) -> None:
    edit(site / "templates/tag.html", "{% block main %}", "{% block main %}<!-- edited -->")
    result = build(options(site))
    assert set(result.rendered_pages) == {"tags/tea/index.html", "tags/茶/index.html"}
    edit(site / "templates/_macros.html", "{# Shared pieces.", "{# Shared pieces (edited).")
    result = build(options(site))
    # Every HTML page imports the macros (base.html does); feeds, sitemap and robots do not.
    assert all(page.endswith(".html") for page in result.rendered_pages)
    assert {"sitemap.xml", "robots.txt", "mei/index.xml"}.isdisjoint(result.rendered_pages)
    assert result.written == 0     # a comment in a macro file changes no page's bytes


def test_a_damaged_output_is_repaired_even_when_no_input_changed(site: Path) -> None:
    before = tree(site / "public")
    (site / "public/mei/oolong/index.html").unlink()
    (site / "public/index.html").write_text("tampered", encoding="utf-8")
    build(options(site))
    assert tree(site / "public") == before


def test_a_corrupt_cache_is_ignored_not_trusted(site: Path, tmp_path: Path) -> None:
    cache = site / ".chuchuang-cache" / "cache.sqlite"
    data = bytearray(cache.read_bytes())
    data[100:4000] = bytes(range(256)) * 15 + bytes(3900 - 3840)
    cache.write_bytes(bytes(data))
    product_price(site)
    build(options(site))
    assert tree(site / "public") == clean_build(site, tmp_path)
    cache.write_bytes(b"garbage, not SQLite at all" * 100)
    product_body(site)
    build(options(site))
    assert tree(site / "public") == clean_build(site, tmp_path)


def test_a_cache_damaged_with_its_mtime_put_back_is_still_checked(site: Path, tmp_path: Path) -> None:
    """The integrity check is skipped only for a file exactly as the last build closed it."""
    cache = site / ".chuchuang-cache" / "cache.sqlite"
    assert (site / ".chuchuang-cache" / "cache.verified").is_file()
    before = cache.stat()
    data = bytearray(cache.read_bytes())
    middle = len(data) // 2 // 4096 * 4096      # a page of rows, not the header: only a check reads it
    data[middle:middle + 4096] = bytes(range(256)) * 16
    cache.write_bytes(bytes(data))
    os.utime(cache, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cache.stat().st_size == before.st_size
    product_price(site)
    build(options(site))
    assert tree(site / "public") == clean_build(site, tmp_path)


def test_a_cache_from_another_version_is_discarded(site: Path, tmp_path: Path) -> None:
    cache = site / ".chuchuang-cache" / "cache.sqlite"
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE meta SET value = 'chuchuang-cache-2/0.0.1' WHERE key = 'schema'")
        # Poison it: if this cache were trusted the page would keep the wrong body.
        db.execute("UPDATE markup SET html = '<p>poisoned</p>'")
    db.close()
    result = build(options(site))
    assert result.rendered == result.pages
    assert "poisoned" not in (site / "public/mei/oolong/index.html").read_text(encoding="utf-8")
    assert tree(site / "public") == clean_build(site, tmp_path)


def _first_record(site: Path) -> bytes:
    """Build once and return a cached product record as stored."""
    import sqlite3

    build(options(site))
    db = sqlite3.connect(site / ".chuchuang-cache" / "cache.sqlite")
    rows = [bytes(r[0]) for r in db.execute("SELECT record FROM documents")]
    db.close()
    return next(r for r in rows if r.startswith(b'["product/'))


class _Exploit:
    """Unpickling this would run a command: a tampered cache entry must never get that far."""

    def __reduce__(self):
        import os
        return (os.system, ("touch /tmp/chuchuang-pwned",))


def test_tampered_cache_entry_cannot_run_code(minimal_site: Path) -> None:
    import json
    import pickle
    import sqlite3

    from generator.records import load_record

    payload = pickle.dumps(_Exploit())
    with pytest.raises(ValueError):
        load_record(payload)      # records are JSON data: a pickle is not even parsed as one
    good = json.loads(_first_record(minimal_site))
    for bad in ([*good[:8], "9900", *good[9:]],      # a price that is text
                [*good[:14], 1, *good[15:]],         # a draft flag that is an int
                good[:-1], [*good, 0], ["other/1", *good[1:]], {"a": 1}, []):
        with pytest.raises(ValueError):
            load_record(json.dumps(bad).encode())
    assert load_record(json.dumps(good).encode()).id == good[1]
    # Planted in the cache itself, the entry is a miss and the build is still right.
    db = sqlite3.connect(minimal_site / ".chuchuang-cache" / "cache.sqlite")
    assert db.execute("UPDATE documents SET record = ?", (payload,)).rowcount > 0
    db.commit()
    db.close()
    import os
    if os.path.exists("/tmp/chuchuang-pwned"):
        os.unlink("/tmp/chuchuang-pwned")
    result = build(options(minimal_site, clean=True))
    assert not os.path.exists("/tmp/chuchuang-pwned")
    assert result.rendered == result.pages
