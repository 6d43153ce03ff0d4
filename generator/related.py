"""Related products from an inverted tag index: top-k, never all pairs."""
from __future__ import annotations

import heapq
from collections import defaultdict

from generator.content import Product

MAX_PER_TAG = 200   # a huge tag adds little signal; cap the candidates it brings


def _bigrams(text: str) -> set[str]:
    text = "".join(text.lower().split())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def related(products: tuple[Product, ...], k: int = 4) -> dict[str, tuple[str, ...]]:
    """For each product id, up to ``k`` related ids: shared tags first, then similar titles.

    Candidates come only from the product's own tags and creator, so the work is
    O(N × candidates), not O(N²).
    """
    by_tag: dict[str, list[Product]] = defaultdict(list)
    by_creator: dict[str, list[Product]] = defaultdict(list)
    ordered = sorted(products, key=lambda p: (p.date, p.id), reverse=True)
    for product in ordered:
        for tag in product.tags:
            if len(by_tag[tag]) < MAX_PER_TAG:
                by_tag[tag].append(product)
        by_creator[product.creator].append(product)
    grams = {p.id: _bigrams(p.title) for p in products}
    result: dict[str, tuple[str, ...]] = {}
    for product in products:
        scores: dict[str, float] = defaultdict(float)
        for tag in product.tags:
            for other in by_tag[tag]:
                scores[other.id] += 3.0
        for other in by_creator[product.creator][:MAX_PER_TAG]:
            scores[other.id] += 0.5
        scores.pop(product.id, None)
        mine = grams[product.id]
        for other_id in scores:
            theirs = grams[other_id]
            if mine and theirs:
                scores[other_id] += len(mine & theirs) / len(mine | theirs)
        best = heapq.nlargest(k, scores.items(), key=lambda item: (item[1], item[0]))
        result[product.id] = tuple(other_id for other_id, _ in best)
    return result
