"""What a build holds and leaves behind: body references, not bodies; collection back on."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest

from generator import build as build_module
from generator.build import BuildOptions, build
from generator.pages import plan
from generator.render import SiteGlobals, make_env
from generator.views import Html, ProductPage


def options(site: Path, jobs: int = 1) -> BuildOptions:
    return BuildOptions(root=site, out=site / "public", catalog=site / "catalog.json", jobs=jobs)


def test_the_plan_holds_references_to_bodies_not_the_bodies(demo_site: Path, monkeypatch) -> None:
    planned = []
    monkeypatch.setattr(build_module, "plan", lambda *a, **k: planned.append(plan(*a, **k)) or planned[-1])
    build(options(demo_site))
    pages = [job.context["product"] for job in planned[0].jobs if job.template == "product.html"]
    assert pages and all(isinstance(p, ProductPage) and isinstance(p.body_html, Html) for p in pages)
    body = (demo_site / "public" / pages[0].card.url / "index.html").read_text(encoding="utf-8")
    assert pages[0].body_html.size > 0 and "<p>" in body


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_body_is_printed_from_the_cache_in_any_process(demo_site: Path, jobs: int) -> None:
    build(options(demo_site, jobs))
    page = (demo_site / "public" / "lin-xiaoyu" / "lancome-serum" / "index.html").read_text(encoding="utf-8")
    assert '<div class="prose">' in page and "Html(" not in page


def test_an_html_reference_outside_a_render_says_so() -> None:
    with pytest.raises(LookupError):
        str(Html("0" * 64, 10))
    assert str(Html("", 0)) == "" and not Html("", 0)


def test_cyclic_collection_is_back_on_after_a_build_even_a_failed_one(minimal_site: Path) -> None:
    assert gc.isenabled()
    build(options(minimal_site))
    assert gc.isenabled()
    (minimal_site / "templates").mkdir(exist_ok=True)
    (minimal_site / "templates" / "404.html").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(Exception):
        build(options(minimal_site))
    assert gc.isenabled()


def test_cached_renders_a_macro_once_per_argument_and_stays_correct() -> None:
    env = make_env(Path("."), SiteGlobals("t", "d", "zh", "ad", "https://x.example/"), {})
    calls = []
    env.globals["note"] = lambda value: calls.append(value) or f"<{value}>"
    template = env.from_string(
        "{% macro m(v) %}{{ note(v) }}{% endmacro %}"
        "{{ cached(m, 1) }}{{ cached(m, 1) }}{{ cached(m, 2) }}{{ cached(m, [3]) }}{{ cached(m, [3]) }}")
    assert template.render() == "&lt;1&gt;&lt;1&gt;&lt;2&gt;&lt;[3]&gt;&lt;[3]&gt;"
    assert calls == [1, 2, [3], [3]]      # an unhashable argument is rendered every time
