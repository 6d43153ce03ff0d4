"""Related products from an inverted tag index: top-k, never all pairs."""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from itertools import chain

from generator.content import Product

MAX_PER_TAG = 200   # a huge tag adds little signal; cap the candidates it brings


def _bigrams(text: str) -> set[str]:
    text = "".join(text.lower().split())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def related(products: tuple[Product, ...], k: int = 4) -> dict[str, tuple[str, ...]]:
    """For each product id, up to ``k`` related ids: shared tags first, then similar titles.

    Candidates come only from the product's own tags and creator, so the work is
    O(N × candidates), not O(N²). A candidate scores 3 per shared tag, 0.5 for the
    same creator and the Jaccard similarity of the titles' bigrams (at most 1), so
    title similarity is computed only for candidates whose tag and creator score
    is within 1 of the k-th best; the others cannot reach the top k.
    """
    by_tag: dict[str, list[str]] = defaultdict(list)
    by_creator: dict[str, list[str]] = defaultdict(list)
    ordered = sorted(products, key=lambda p: (p.date, p.id), reverse=True)
    for product in ordered:
        for tag in product.tags:
            if len(by_tag[tag]) < MAX_PER_TAG:
                by_tag[tag].append(product.id)
        by_creator[product.creator].append(product.id)
    grams = {p.id: _bigrams(p.title) for p in products}
    result: dict[str, tuple[str, ...]] = {}
    for product in products:
        shared = Counter(chain.from_iterable(by_tag[tag] for tag in product.tags))
        base = {other: 3.0 * n for other, n in shared.items()}
        for other in by_creator[product.creator][:MAX_PER_TAG]:
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
