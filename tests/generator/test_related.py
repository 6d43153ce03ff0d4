"""Related products: the fast index ranks exactly as the plain scoring it replaced."""
from __future__ import annotations

import datetime as dt
import heapq
import importlib
import random
from collections import Counter, defaultdict
from itertools import chain
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import related as related_module
from generator.config import load_config
from generator.content import Product, read_content
from generator.related import MAX_PER_TAG, related

REPO = Path(__file__).resolve().parents[2]


def _reference_bigrams(text: str) -> set[str]:
    text = "".join(text.lower().split())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _reference_related(products: tuple[Product, ...], k: int = 4,
                       max_per_tag: int = MAX_PER_TAG) -> dict[str, tuple[str, ...]]:
    """The implementation before the index, kept as the oracle (only the cap is a parameter)."""
    by_tag: dict[str, list[str]] = defaultdict(list)
    by_creator: dict[str, list[str]] = defaultdict(list)
    ordered = sorted(products, key=lambda p: (p.date, p.id), reverse=True)
    for product in ordered:
        for tag in product.tags:
            if len(by_tag[tag]) < max_per_tag:
                by_tag[tag].append(product.id)
        by_creator[product.creator].append(product.id)
    grams = {p.id: _reference_bigrams(p.title) for p in products}
    result: dict[str, tuple[str, ...]] = {}
    for product in products:
        shared = Counter(chain.from_iterable(by_tag[tag] for tag in product.tags))
        base = {other: 3.0 * n for other, n in shared.items()}
        for other in by_creator[product.creator][:max_per_tag]:
            base[other] = base.get(other, 0.0) + 0.5
        base.pop(product.id, None)
        if len(base) > k:
            floor = heapq.nlargest(k, base.values())[-1] - 1.0
            base = {other: score for other, score in base.items() if score >= floor}
        mine = grams[product.id]
        scores = {}
        for other_id, score in base.items():
            theirs = grams[other_id]
            if mine and theirs:
                score += len(mine & theirs) / len(mine | theirs)
            scores[other_id] = score
        best = heapq.nlargest(k, scores.items(), key=lambda item: (item[1], item[0]))
        result[product.id] = tuple(other_id for other_id, _ in best)
    return result


def _expected(products: tuple[Product, ...], k: int, max_per_tag: int = MAX_PER_TAG) -> dict[str, tuple[str, ...]]:
    try:
        return _reference_related(products, k, max_per_tag)
    except IndexError:
        # The old code took nlargest(0, ...)[-1] when k == 0; the index lists nothing instead.
        assert k == 0
        return {p.id: () for p in products}


def assert_same(products: tuple[Product, ...], k: int = 4, max_per_tag: int = MAX_PER_TAG) -> None:
    with mock.patch.object(related_module, "MAX_PER_TAG", max_per_tag):
        got = related(products, k)
    want = _expected(products, k, max_per_tag)
    assert got == want
    assert list(got) == list(want)


def product(n: int, creator: str, title: str, tags: tuple[str, ...], date: dt.date) -> Product:
    slug = f"p{n}"
    return Product(f"{creator}--{slug}", creator, slug, title, "https://item.jd.com/1.html", "jd", "m", 100,
                   "CNY", 1, tags, (), date, False, "", 0, "", Path(f"content/{creator}/{slug}.md"), 1)


def read_site(root: Path) -> tuple[Product, ...]:
    config, report = load_config(root / "site.yaml")
    assert config is not None, report
    content, report = read_content(root / "content", config)
    assert report.ok, report
    return content.published


@pytest.fixture
def corpus(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/corpus.py, the synthetic site the build benchmarks use."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    return importlib.import_module("corpus")


@pytest.mark.parametrize("k", [1, 4, 6])
def test_demo_content_gets_the_same_related_products_as_before(k: int) -> None:
    products = read_site(REPO)
    assert products
    assert_same(products, k)


@pytest.mark.parametrize("n", [40, 400, 1500])
def test_benchmark_corpus_gets_the_same_related_products_as_before(corpus: ModuleType, tmp_path: Path,
                                                                    n: int) -> None:
    products = read_site(corpus.write_corpus(tmp_path / "site", n))
    assert len(products) == n
    assert_same(products)


def test_tags_over_the_cap_and_tied_dates_get_the_same_related_products_as_before(corpus: ModuleType) -> None:
    rng = random.Random(6)
    start = dt.date(2026, 1, 1)
    products = tuple(
        product(i, f"c{i % 7}", f"{rng.choice(corpus.BRANDS)} {rng.choice(corpus.NOUNS)}" * rng.randint(0, 1),
                tuple(rng.sample(corpus.TAGS[:12], rng.randint(0, 4))) + ("全部",), start + dt.timedelta(days=i % 5))
        for i in range(2500))
    assert Counter(chain.from_iterable(p.tags for p in products))["全部"] > MAX_PER_TAG
    assert_same(products)
    assert_same(products, k=6)


TITLES = st.one_of(st.sampled_from(["", " ", "x", "X", "ab", "AB", "a b", "abc", "abd", "茶", "茶具", "好茶具",
                                    "No.1", "No.2"]),
                   st.text(alphabet="ab 茶", max_size=4))
CATALOGUES = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]),
              TITLES,
              st.lists(st.sampled_from(["t1", "t2", "t3", "t4", "t5"]), max_size=5, unique=True).map(tuple),
              st.sampled_from([dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 2, 1)])),
    max_size=40,
).map(lambda rows: tuple(product(i, *row) for i, row in enumerate(rows)))


@settings(max_examples=400, deadline=None)
@given(products=CATALOGUES, k=st.integers(0, 6), cap=st.sampled_from([1, 2, 3, 5, MAX_PER_TAG]))
def test_any_catalogue_gets_the_same_related_products_as_before(products: tuple[Product, ...], k: int,
                                                                cap: int) -> None:
    assert_same(products, k, cap)


@settings(max_examples=200, deadline=None)
@given(products=CATALOGUES, k=st.integers(0, 6))
def test_related_never_lists_the_product_itself_nor_more_than_k(products: tuple[Product, ...], k: int) -> None:
    result = related(products, k)
    assert set(result) == {p.id for p in products}
    for product_id, others in result.items():
        assert product_id not in others
        assert len(others) <= k
        assert len(set(others)) == len(others)


def test_zero_k_lists_nothing_for_everyone() -> None:
    products = read_site(REPO)
    assert related(products, 0) == {p.id: () for p in products}
