"""Orders: one per merchant shop per checkout, holding products, amounts and ids only."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from functions import store
from functions.http import ApiError
from functions.ids import is_id

STATUSES = ("pending_handoff", "handed_off", "paid", "shipped", "completed", "cancelled", "refunded")


@dataclass(frozen=True)
class OrderLine:
    line: int
    product_id: str
    title: str
    url: str
    creator: str
    quantity: int
    unit_price: int
    amount: int            # line total, minor units
    rate: str              # commission rate copied from the catalog at checkout
    rate_rule: str
    commission: int        # round_down(amount × rate)
    link: str
    handoff_url: str | None = None
    reversed: int = 0      # commission reversed so far (cancel, refunds)


@dataclass(frozen=True)
class Order:
    id: str
    cart_id: str
    partner: str
    merchant: str
    currency: str
    total: int
    status: str
    handoff_type: str
    lines: tuple[OrderLine, ...]
    created_at: str
    updated_at: str
    version: int = 0
    handoff_url: str | None = None
    merchant_order_id: str | None = None
    payment_url: str | None = None
    refunded: int = 0
    confirmed_at: str | None = None
    history: tuple[dict[str, Any], ...] = field(default=())

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["lines"] = [asdict(line) for line in self.lines]
        item["history"] = [dict(h) for h in self.history]
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Order:
        known = {k: v for k, v in item.items() if k in cls.__dataclass_fields__}
        lines = tuple(OrderLine(**{k: v for k, v in line.items() if k in OrderLine.__dataclass_fields__})
                      for line in item["lines"])
        return cls(**{**known, "lines": lines, "history": tuple(item.get("history", ()))})

    def moved(self, status: str, at: str, event_id: str | None = None, **changes: Any) -> Order:
        """A copy in ``status`` with its history extended and version bumped."""
        entry = {"status": status, "at": at}
        if event_id:
            entry["event_id"] = event_id
        return replace(self, status=status, updated_at=at, version=self.version + 1,
                       history=(*self.history, entry), **changes)

    def public_json(self) -> dict[str, Any]:
        """What the fan's handoff page sees: no commission rates, no personal data (none exists)."""
        money = lambda amount: {"amount": amount, "currency": self.currency}  # noqa: E731
        return {
            "id": self.id, "status": self.status, "partner": self.partner, "merchant": self.merchant,
            "handoff": {"type": self.handoff_type, "url": self.handoff_url or self.payment_url},
            "merchant_order_id": self.merchant_order_id, "payment_url": self.payment_url,
            "lines": [{"product_id": ln.product_id, "title": ln.title, "url": ln.url, "quantity": ln.quantity,
                       "unit_price": money(ln.unit_price), "line_total": money(ln.amount),
                       "handoff_url": ln.handoff_url} for ln in self.lines],
            "total": money(self.total), "refunded": money(self.refunded),
            "created_at": self.created_at, "updated_at": self.updated_at,
        }

    def merchant_json(self) -> dict[str, Any]:
        """What the webhook sends the merchant: the public order plus creator attribution."""
        doc = self.public_json()
        for out, line in zip(doc["lines"], self.lines):
            out.update(creator=line.creator, commission_rate=line.rate)
        doc.pop("handoff")
        return doc


def load(order_id: str) -> Order:
    """The order ``order_id`` or a 404."""
    item = store.get_order(order_id) if is_id(order_id) else None
    if item is None:
        raise ApiError(404, "order_not_found", f"no order {order_id}")
    return Order.from_item(item)
