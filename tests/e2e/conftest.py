"""Browser tests: the demo site on ``DevServer`` (embedded moto backend), driven in Debian's Chromium.

One server and one browser per test module (module scope, so the server's
environment changes end before the rest of the suite runs); each test gets a
fresh browser context (empty localStorage) on a phone-sized viewport.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHUCHUANG_CHROMIUM", "/usr/bin/chromium"))
# NOTES.md: without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the demo site (site.yaml, content, templates)."""
    root = tmp_path_factory.mktemp("e2e") / "demo"
    root.mkdir()
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "templates", root / "templates")
    return root


@pytest.fixture(scope="module")
def server(site_root: Path) -> Iterator[object]:
    """``chuchuang serve`` in this process, on a free port (no watcher: the content does not change)."""
    from generator.serve import DevServer

    saved = dict(os.environ)   # serve sets the partners' sandbox secrets and the backend's endpoint
    dev = DevServer(site_root, port=0, watch=False)
    try:
        dev.start()
        yield dev
    finally:
        dev.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def base_url(server) -> str:
    return server.url.rstrip("/")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (pip install -e '.[test]')", pytrace=False)
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def make_context(browser, base_url: str) -> Iterator[object]:
    """Make fresh phone-sized contexts (empty storage); all are closed after the test."""
    made = []

    def make(**options):
        ctx = browser.new_context(base_url=base_url, **{**PHONE, **options})
        ctx.set_default_timeout(10_000)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def context(make_context) -> object:
    return make_context()


@pytest.fixture
def page(context) -> object:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
