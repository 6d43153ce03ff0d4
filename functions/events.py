"""Merchant events: verify, deduplicate, and move the order through its state machine.

``pending_handoff → handed_off → paid → shipped → completed``; ``cancelled``
from pending_handoff/handed_off/paid (stock released, commission reversed);
``refunded`` from paid/shipped/completed. A ``refunded`` event with an
``amount`` is a partial refund: the state stays unless the refunds reach the
order total. The event record is written in the same transaction as the
change, so a redelivered event changes nothing.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Any

from functions import clock, commissions, http, signatures, store
from functions.http import ApiError
from functions.orders import Order, load

TYPES = ("paid", "shipped", "completed", "cancelled", "refunded")
ALLOWED_FROM = {
    "paid": {"handed_off"},
    "shipped": {"paid"},
    "completed": {"shipped"},
    "cancelled": {"pending_handoff", "handed_off", "paid"},
    "refunded": {"paid", "shipped", "completed"},
}
EVENT_TTL_SECONDS = 90 * 24 * 3600
_ATTEMPTS = 3


@dataclass(frozen=True)
class MerchantEvent:
    event_id: str
    type: str
    order_id: str
    amount: int | None = None          # partial refund, minor units
    currency: str | None = None
    merchant_order_id: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> MerchantEvent:
        http.fields(data, required=("event_id", "type", "order_id"), optional=("amount", "merchant_order_id"))
        kind = data["type"]
        if kind not in TYPES:
            raise ApiError(422, "invalid_field", f"type must be one of {', '.join(TYPES)}", {"field": "type"})
        amount = currency = None
        if "amount" in data:
            if kind != "refunded":
                raise ApiError(422, "invalid_field", "amount is only for refunded events", {"field": "amount"})
            money = http.fields(data["amount"], required=("amount", "currency"))
            amount = http.integer(money["amount"], "amount.amount", 1, 10**15)
            currency = http.string(money["currency"], "amount.currency", 3)
        merchant_order_id = data.get("merchant_order_id")
        if merchant_order_id is not None:
            http.string(merchant_order_id, "merchant_order_id")
        return cls(http.string(data["event_id"], "event_id"), kind, http.string(data["order_id"], "order_id", 64),
                   amount, currency, merchant_order_id)


def verify(partner_id: str, request: http.Request) -> None:
    """Check the partner exists and its signature matches the raw body (before any parsing)."""
    partner = store.load_config().partners.get(partner_id)
    if partner is None:
        raise ApiError(404, "partner_not_found", f"no partner {partner_id}")
    secret = os.environ.get(partner.secret_env)
    if not secret:
        raise RuntimeError(f"{partner.secret_env} is not set: cannot verify {partner_id} events")
    try:
        signatures.verify(request.header(signatures.HEADER), request.raw_body, secret, int(time.time()))
    except signatures.SignatureError as err:
        raise ApiError(err.status, err.code, err.message) from None


def _next(order: Order, event: MerchantEvent) -> tuple[Order, list[store.Op]]:
    """The order after ``event`` and the ledger/stock writes that go with it."""
    partial = event.type == "refunded" and event.amount is not None
    if order.status not in ALLOWED_FROM[event.type]:
        raise ApiError(409, "illegal_transition", f"an order that is {order.status} cannot become {event.type}",
                       {"from": order.status, "to": event.type})
    at = clock.iso(clock.now())
    extra: dict[str, Any] = {}
    if event.merchant_order_id and not order.merchant_order_id:
        extra["merchant_order_id"] = event.merchant_order_id
    ops: list[store.Op] = []
    if partial:
        if event.currency != order.currency:
            raise ApiError(422, "currency_mismatch", f"the order is in {order.currency}", {"currency": order.currency})
        refunded = order.refunded + event.amount
        if refunded > order.total:
            raise ApiError(422, "refund_exceeds_total", "refunds would exceed the order total",
                           {"total": order.total, "refunded": order.refunded})
        status = "refunded" if refunded == order.total else order.status
        moved = order.moved(status, at, event.event_id, refunded=refunded, **extra)
    elif event.type in ("cancelled", "refunded"):
        refunded = order.total if event.type == "refunded" else order.refunded
        moved = order.moved(event.type, at, event.event_id, refunded=refunded, **extra)
        if event.type == "cancelled":
            ops += [store.release_op(line.product_id, line.quantity) for line in order.lines]
    elif event.type == "completed":
        moved = order.moved("completed", at, event.event_id, confirmed_at=at, **extra)
        ops += [store.entry_op(e.to_item()) for e in commissions.confirmed_entries(moved, event.event_id)]
        return moved, ops
    else:
        moved = order.moved(event.type, at, event.event_id, **extra)
        return moved, ops
    basis = moved.total if event.type == "cancelled" else moved.refunded
    lines, entries = commissions.reverse(moved, basis, event.event_id)
    moved = replace(moved, lines=lines)
    return moved, ops + [store.entry_op(e.to_item()) for e in entries]


def handle(partner_id: str, event: MerchantEvent) -> dict[str, Any]:
    """Apply one verified event exactly once; a repeat answers ``duplicate: true``."""
    for _ in range(_ATTEMPTS):
        if store.event_seen(partner_id, event.event_id):
            return {"received": True, "duplicate": True, "event_id": event.event_id}
        order = load(event.order_id)
        if order.partner != partner_id:
            raise ApiError(404, "order_not_found", f"no order {event.order_id}")
        moved, ops = _next(order, event)
        now = int(time.time())
        record = {"partner": partner_id, "event_id": event.event_id, "type": event.type, "order_id": order.id,
                  "received_at": clock.iso(clock.now()), "expires_at": now + EVENT_TTL_SECONDS}
        try:
            store.transact([store.event_op(partner_id, event.event_id, record),
                            store.order_op(moved.to_item(), order.version), *ops])
        except store.Cancelled as cancelled:
            http.log(logging.INFO, "event_retry", event_id=event.event_id, failed=cancelled.failed)
            continue  # a concurrent delivery or change: look again
        http.log(logging.INFO, "merchant_event", partner=partner_id, event_id=event.event_id, type=event.type,
                 order_id=order.id, status=moved.status)
        return {"received": True, "duplicate": False, "event_id": event.event_id, "order": moved.public_json()}
    raise ApiError(409, "conflict", "the order changed while applying the event; send it again")
