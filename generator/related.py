"""Related products from an inverted tag index: top-k, never all pairs."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, combinations, repeat
from typing import NamedTuple

from generator.content import Product


class RelatedInput(NamedTuple):
    """What ranking reads of a product: small enough to send to a worker process."""

    id: str
    tags: tuple[str, ...]
    creator: str
    date: dt.date
    title: str


Ranked = Product | RelatedInput

MAX_PER_TAG = 200   # a huge tag adds little signal; cap the candidates it brings
TAG_POINTS = 3.0
CREATOR_POINTS = 0.5


def related(products: Sequence[Ranked], k: int = 4) -> dict[str, tuple[str, ...]]:
    """For each product id, up to ``k`` related ids: shared tags first, then similar titles.

    Candidates come only from the product's own tags (each tag's newest MAX_PER_TAG
    products) and its creator's newest MAX_PER_TAG, so the work is O(N × candidates),
    not O(N²). A candidate scores 3 per shared tag, 0.5 for the same creator and the
    Jaccard similarity of the titles' bigrams (at most 1); ties go to the larger id.
    Ids must be unique and each product's tags distinct, as ``read_content`` makes them.
    """
    if k <= 0:
        return {p.id: () for p in products}
    index = _Index.build(products)
    return {p.id: index.top(p, k) for p in products}


def _bigrams(text: str) -> frozenset[str]:
    text = "".join(text.lower().split())
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def _scored(candidates: Iterable[tuple[float, str]], mine: frozenset[str],
            grams: dict[str, frozenset[str]]) -> list[tuple[float, str]]:
    """Each ``(base, id)`` as ``(base + Jaccard similarity of the titles' bigrams, id)``.

    The float is computed exactly as before the index, so equal scores tie, and break by id, as before.
    """
    if not mine:
        return [(base, other) for base, other in candidates]
    size = len(mine)
    # |A ∪ B| = |A| + |B| - |A ∩ B|; an empty other title adds 0 / size == 0.0, leaving base as is.
    return [(base + (both := len(mine & (theirs := grams[other]))) / (size + len(theirs) - both), other)
            for base, other in candidates]


@dataclass(frozen=True)
class _Index:
    """The candidate sets every product's ranking draws on, built once per call."""

    tags: dict[str, frozenset[str]]                 # tag → its newest MAX_PER_TAG ids
    creators: dict[str, frozenset[str]]             # creator → their newest MAX_PER_TAG ids
    pairs: dict[tuple[str, str], frozenset[str]]    # (tag, later tag) → ids in both sets
    grams: dict[str, frozenset[str]]                # id → title bigrams
    # An id in n of a product's tag sets is in n(n-1)/2 of their pairwise intersections.
    points: dict[int, float]                        # n(n-1)/2 → the points of n shared tags

    @classmethod
    def build(cls, products: Sequence[Ranked]) -> _Index:
        by_tag: dict[str, list[str]] = defaultdict(list)
        by_creator: dict[str, list[str]] = defaultdict(list)
        for product in sorted(products, key=lambda p: (p.date, p.id), reverse=True):
            for tag in product.tags:
                if len(by_tag[tag]) < MAX_PER_TAG:
                    by_tag[tag].append(product.id)
            by_creator[product.creator].append(product.id)
        tags = {tag: frozenset(ids) for tag, ids in by_tag.items()}
        pairs = {(a, b): tags[a] & tags[b]
                 for a, b in {pair for p in products for pair in combinations(sorted(p.tags), 2)}}
        most = max((len(p.tags) for p in products), default=0)
        return cls(tags, {creator: frozenset(ids[:MAX_PER_TAG]) for creator, ids in by_creator.items()},
                   pairs, {p.id: _bigrams(p.title) for p in products},
                   {n * (n - 1) // 2: TAG_POINTS * n for n in range(2, most + 1)})

    def top(self, product: Ranked, k: int) -> tuple[str, ...]:
        """The ``k`` best candidates, scoring a lower tier only while it can still make the cut."""
        own = product.id
        tag_sets = [self.tags[tag] for tag in product.tags]
        creator = self.creators[product.creator]
        mine = self.grams[product.id]
        # Candidates sharing two or more tags are few, and they outrank all the others even
        # before titles count (6 > 3.5 + 1); scoring them first settles most products.
        pair_sets = (self.pairs[pair] for pair in combinations(sorted(product.tags), 2))
        in_pairs = Counter(chain.from_iterable(pair_sets))
        in_pairs.pop(own, None)
        bases = [(self.points[count] + (CREATOR_POINTS if other in creator else 0.0), other)
                 for other, count in in_pairs.items()]
        best = sorted(_scored(bases, mine, self.grams), reverse=True)[:k]
        rest = creator.difference(in_pairs, (own,))  # the creator's products sharing at most one tag
        tiers = ((TAG_POINTS + CREATOR_POINTS, lambda: set().union(*(tags & rest for tags in tag_sets))),
                 (TAG_POINTS, lambda: set().union(*tag_sets).difference(in_pairs, creator, (own,))),
                 (CREATOR_POINTS, lambda: rest.difference(*tag_sets)))
        for base, members in tiers:
            if len(best) == k and base + 1.0 < best[-1][0]:
                break   # titles add at most 1: this tier and the lower ones lose to all k kept
            best = sorted(best + _scored(zip(repeat(base), members()), mine, self.grams), reverse=True)[:k]
        return tuple(other for _, other in best)
