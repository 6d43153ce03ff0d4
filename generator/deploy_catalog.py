"""The catalog side of a deploy: what syncing ``catalog.json`` to the table will change.

The sync itself is :func:`functions.store.sync_catalog` (it keeps ``sold`` and
unpublishes, never deletes, products that left the content); this module only
reads the table to say beforehand what that sync does, for ``--dry-run`` and
for the deploy summary.
"""
from __future__ import annotations

from dataclasses import dataclass

from functions import dynamo, store
from functions.catalog import Catalog, Product
from functions.money import format_minor

# The fields content decides; ``sold`` and the orders are the table's own.
FIELDS = ("title", "price", "currency", "stock", "rate", "rate_rule", "partner", "merchant", "creator", "link",
          "url")


@dataclass(frozen=True)
class Change:
    product_id: str
    action: str                                  # "add" | "republish" | "update" | "unpublish"
    fields: tuple[tuple[str, str, str], ...] = ()   # (field, before, after) for an update
    sold: int = 0

    def __str__(self) -> str:
        if self.action == "update":
            return f"update     {self.product_id}: " + ", ".join(f"{f} {a} → {b}" for f, a, b in self.fields)
        if self.action == "unpublish":
            return (f"unpublish  {self.product_id} (sold {self.sold} kept; its orders and ledger entries "
                    "still refer to it)")
        return f"{self.action:<10} {self.product_id}"


@dataclass(frozen=True)
class CatalogDiff:
    changes: tuple[Change, ...]
    unchanged: int

    def count(self, *actions: str) -> int:
        return sum(c.action in actions for c in self.changes)

    def summary(self) -> str:
        return (f"{self.count('add', 'republish')} added, {self.count('update')} updated, "
                f"{self.count('unpublish')} unpublished, {self.unchanged} unchanged")


def table_products() -> dict[str, store.StockItem]:
    """Every product item in the table, published or not (one query on the products index)."""
    found: dict[str, store.StockItem] = {}
    for item in dynamo.query(IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                             ExpressionAttributeValues={":p": dynamo.ser(store.PRODUCTS_INDEX)}):
        attrs = dynamo.attrs(item)
        found[attrs["id"]] = store.StockItem(**{k: attrs[k] for k in store.StockItem.__dataclass_fields__})
    return found


def diff(catalog: Catalog, current: dict[str, store.StockItem]) -> CatalogDiff:
    """What :func:`functions.store.sync_catalog` will change in a table holding ``current``."""
    changes: list[Change] = []
    unchanged = 0
    for pid, product in sorted(catalog.products.items()):
        item = current.get(pid)
        if item is None:
            changes.append(Change(pid, "add"))
        elif not item.published:
            changes.append(Change(pid, "republish"))
        else:
            fields = tuple((f, _show(item, f), _show(product, f)) for f in FIELDS
                           if getattr(item, f) != getattr(product, f))
            if fields:
                changes.append(Change(pid, "update", fields))
            else:
                unchanged += 1
    for pid, item in sorted(current.items()):
        if pid not in catalog.products and item.published:
            changes.append(Change(pid, "unpublish", sold=item.sold))
    return CatalogDiff(tuple(changes), unchanged)


def _show(source: Product | store.StockItem, field: str) -> str:
    value = getattr(source, field)
    return format_minor(value, source.currency) if field == "price" else str(value)
