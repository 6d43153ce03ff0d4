"""The catalog: the contract between the build and the serverless side.

``chuchuang build`` writes ``catalog.json`` beside (never inside) the published
site. It holds what the functions price and hand off from; commission rates
and allocations live only here, never in a page.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from functions.money import EXPONENTS, Money, parse_rate

SCHEMA_VERSION = 1


class CatalogError(ValueError):
    """A catalog document that does not follow the schema."""


@dataclass(frozen=True)
class Handoff:
    """How an order reaches the merchant: a redirect URL template or a webhook."""

    type: str  # "redirect" | "webhook"
    url: str
    params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in ("redirect", "webhook"):
            raise CatalogError(f"handoff type {self.type!r} is not redirect or webhook")


@dataclass(frozen=True)
class PartnerEntry:
    id: str
    name: str
    handoff: Handoff
    secret_env: str


@dataclass(frozen=True)
class Product:
    """One published product as the functions see it."""

    id: str            # "<creator>--<slug>"
    url: str           # the product page on the showcase, site-relative
    title: str
    creator: str
    partner: str
    merchant: str
    price: int         # minor units
    currency: str
    stock: int         # allocation: units this creator may sell
    rate: str          # commission rate in force, decimal string
    rate_rule: str     # which rule set it, e.g. "agreement:lin-xiaoyu/lancome-official/2026-11-01"
    link: str          # the partner product link (validated by the link gate)

    def __post_init__(self) -> None:
        if type(self.price) is not int or self.price <= 0:
            raise CatalogError(f"{self.id}: price must be a positive integer of minor units")
        if type(self.stock) is not int or self.stock < 0:
            raise CatalogError(f"{self.id}: stock must be a non-negative integer")
        if self.currency not in EXPONENTS:
            raise CatalogError(f"{self.id}: unknown currency {self.currency!r}")
        parse_rate(self.rate)

    @property
    def unit_price(self) -> Money:
        return Money(self.price, self.currency)


@dataclass(frozen=True)
class Catalog:
    currency: str
    lock_days: int
    partners: dict[str, PartnerEntry]
    products: dict[str, Product]
    schema: int = SCHEMA_VERSION

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys) so an unchanged site gives unchanged bytes."""
        return document_text({
            "schema": self.schema,
            "currency": self.currency,
            "lock_days": self.lock_days,
            "partners": {k: asdict(v) for k, v in sorted(self.partners.items())},
            "products": [vars(p) for _, p in sorted(self.products.items())],     # flat: no copy needed
        })

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        try:
            doc = json.loads(text)
            if doc.get("schema") != SCHEMA_VERSION:
                raise CatalogError(f"catalog schema {doc.get('schema')!r} is not {SCHEMA_VERSION}")
            partners = {
                k: PartnerEntry(id=v["id"], name=v["name"], handoff=Handoff(**v["handoff"]),
                                secret_env=v["secret_env"])
                for k, v in doc["partners"].items()
            }
            products = {p["id"]: Product(**p) for p in doc["products"]}
            return cls(currency=doc["currency"], lock_days=int(doc["lock_days"]),
                       partners=partners, products=products)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"catalog is malformed: {exc}") from exc


def document_text(doc: dict) -> str:
    """A catalog document as text: sorted keys, one product per line (a diff shows which changed).

    Written piecewise so that the C encoder does all of it; an indented dump is
    pure Python and took a quarter of a second for 10,000 products.
    """
    head = _dumps({k: v for k, v in doc.items() if k not in ("products", "schema")})
    products = ",\n".join(map(_dumps, doc["products"]))
    return f'{head[:-1]},"products":[\n{products}\n],"schema":{_dumps(doc["schema"])}}}\n'


def product_line(product: Product) -> str:
    """One product as :func:`document_text` writes its line (without the comma)."""
    return _dumps(vars(product))


_dumps = partial(json.dumps, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load(path: str | Path) -> Catalog:
    """Read a ``catalog.json`` written by ``chuchuang build``."""
    return Catalog.from_json(Path(path).read_text(encoding="utf-8"))
