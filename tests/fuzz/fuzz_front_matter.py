"""Fuzz the front-matter reader: a product file in a creator folder → diagnostics, never an exception.

    python tests/fuzz/fuzz_front_matter.py tests/fuzz/corpus/front_matter -atheris_runs=20000

Each input is written as ``content/mei/fuzz.md`` of a small site (one creator)
and read by ``generator.content.read_content`` (``generator.yamlio`` for the
YAML). Only the project's diagnostics may come out: any exception is a bug, and
so is an accepted product whose values are not what the schema says.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generator import yamlio
from generator.config import load_config
from generator.content import read_content

SITE_YAML = """title: Fuzz
description: fuzz
base_url: https://shop.test/
language: en
currency: CNY
disclosure: "Ad"
partners:
  tmall:
    name: Tmall
    domains: [tmall.com]
    handoff: {type: redirect, url: "{link}", params: {pid: "{creator_pid}"}}
    commission: {default_rate: "0.05", max_rate: "0.20"}
    secret_env: TMALL_EVENTS_SECRET
agreements: []
commission: {lock_days: 15}
"""
_site: tuple[Path, object] | None = None


def _setup() -> tuple[Path, object]:
    global _site
    if _site is None:
        root = Path(tempfile.mkdtemp(prefix="chuchuang-fuzz-"))
        (root / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
        (root / "content" / "mei").mkdir(parents=True)
        (root / "content" / "mei" / "_index.md").write_text("---\nname: Mei\n---\nBio.\n", encoding="utf-8")
        config, report = load_config(root / "site.yaml")
        assert config is not None, report.format()
        _site = (root, config)
    return _site


def check(data: bytes) -> None:
    """One input: the YAML reader raises only YamlError; reading the file only reports."""
    try:
        yamlio.load(data.decode("utf-8", "replace"), line_offset=1)
    except yamlio.YamlError as exc:
        assert exc.line >= 1 and exc.column >= 1 and exc.message
    root, config = _setup()
    path = root / "content" / "mei" / "fuzz.md"
    path.write_bytes(data)
    content, report = read_content(root / "content", config)
    for d in report.items:
        assert d.line >= 1 and d.column >= 1 and d.code and d.message, d
    for product in content.products:
        assert isinstance(product.title, str) and product.title.strip() == product.title and product.title
        assert type(product.price) is int and product.price > 0
        assert type(product.stock) is int and 0 <= product.stock
        assert type(product.draft) is bool and isinstance(product.merchant, str)
        assert all(isinstance(t, str) for t in product.tags)


if __name__ == "__main__":
    from harness import fuzz

    fuzz(check)
