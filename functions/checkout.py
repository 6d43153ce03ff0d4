"""Checkout: the whole cart in one transaction, one order per merchant shop, replayable by key."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from functions import carts, clock, commissions, handoff, http, store
from functions.http import ApiError
from functions.ids import is_id, new_id
from functions.money import round_down
from functions.orders import Order, OrderLine

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_ATTEMPTS = 3


@dataclass(frozen=True)
class CheckoutRequest:
    """``POST /api/carts/{id}/checkout``: the body is empty or ``{}``; the key is a header."""

    cart_id: str
    key: str
    body: str = "{}"

    @classmethod
    def parse(cls, request: http.Request) -> CheckoutRequest:
        body = request.json(optional=True)
        if body is not None:
            http.fields(body)
        key = request.header("idempotency-key")
        if key is None:
            raise ApiError(400, "missing_idempotency_key", "send an Idempotency-Key header (1-255 characters)")
        if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable ASCII characters")
        return cls(request.params["cart_id"], key, json.dumps(body or {}, sort_keys=True))

    @property
    def fingerprint(self) -> str:
        """Hash of what the key stands for: this cart and this body."""
        return hashlib.sha256(f"checkout\n{self.cart_id}\n{self.body}".encode()).hexdigest()


def _replay(fingerprint: str, record: dict[str, Any] | None) -> http.Response | None:
    if record is None:
        return None
    if record["fingerprint"] != fingerprint:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for another request")
    return http.Response(record["status"], json.loads(record["response"]), {"idempotent-replayed": "true"})


def _build_orders(cart_id: str, lines: tuple[carts.CartLine, ...], products: dict[str, store.StockItem],
                  at: str) -> list[Order]:
    config = store.load_config()
    groups: dict[tuple[str, str, str], list[carts.CartLine]] = {}
    for line in lines:
        p = products[line.product_id]
        groups.setdefault((p.partner, p.merchant, p.currency), []).append(line)
    orders = []
    for (partner_id, merchant, currency), group in groups.items():
        partner = config.partners[partner_id]
        order_id = new_id()
        order_lines = []
        for number, line in enumerate(group, start=1):
            p = products[line.product_id]
            amount = p.price * line.quantity
            url = None
            if partner.handoff.type == "redirect":
                url = handoff.redirect_url(partner, p.link, {"creator_pid": p.creator, "order_id": order_id,
                                                             "product_id": p.id, "merchant": merchant})
            order_lines.append(OrderLine(line=number, product_id=p.id, title=p.title, url=p.url, creator=p.creator,
                                         quantity=line.quantity, unit_price=p.price, amount=amount, rate=p.rate,
                                         rate_rule=p.rate_rule, commission=round_down(amount, p.rate), link=p.link,
                                         handoff_url=url))
        redirect = partner.handoff.type == "redirect"
        orders.append(Order(id=order_id, cart_id=cart_id, partner=partner_id, merchant=merchant, currency=currency,
                            total=sum(ln.amount for ln in order_lines),
                            status="handed_off" if redirect else "pending_handoff",
                            handoff_type=partner.handoff.type, lines=tuple(order_lines), created_at=at, updated_at=at,
                            handoff_url=order_lines[0].handoff_url,
                            history=({"status": "handed_off" if redirect else "pending_handoff", "at": at},)))
    return orders


def _out_of_stock(lines: tuple[carts.CartLine, ...], products: dict[str, store.StockItem]) -> ApiError | None:
    short = [{"product_id": ln.product_id, "requested": ln.quantity,
              "available": products[ln.product_id].available if ln.product_id in products else 0}
             for ln in lines if ln.product_id not in products or ln.quantity > products[ln.product_id].available]
    if not short:
        return None
    return ApiError(409, "out_of_stock", "not enough stock for: " + ", ".join(s["product_id"] for s in short),
                    {"products": short})


def _writes(request: CheckoutRequest, cart: carts.Cart, products: dict[str, store.StockItem],
            orders: list[Order], body: dict[str, Any]) -> list[store.Op]:
    """Everything one checkout writes, for a single transaction (at most 62 items for 20 lines)."""
    now = clock.now()
    ops = [store.idempotency_op(request.key, {
        "fingerprint": request.fingerprint, "status": 201, "cart_id": cart.id,
        "response": json.dumps(body, ensure_ascii=False, separators=(",", ":")), "created_at": clock.iso(now),
        "expires_at": int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS})]
    ops.append(store.cart_checked_out_op(cart.id, cart.version, [o.id for o in orders]))
    ops += [store.reserve_op(products[ln.product_id], ln.quantity) for ln in cart.lines]
    ops += [store.order_op(o.to_item(), None) for o in orders]
    ops += [store.entry_op(e.to_item()) for o in orders for e in commissions.pending_entries(o)]
    return ops


def checkout(request: CheckoutRequest) -> http.Response:
    """Reserve stock, write orders, pending commissions and the idempotency record, all at once."""
    for _ in range(_ATTEMPTS):
        record, item = store.get_checkout_state(request.key, request.cart_id) if is_id(request.cart_id) else (
            store.get_idempotency(request.key), None)
        replay = _replay(request.fingerprint, record)
        if replay:
            return replay
        cart = carts.live(item, request.cart_id)
        if cart.checked_out:
            raise ApiError(409, "cart_checked_out", "this cart has already been checked out",
                           {"order_ids": list(cart.order_ids)})
        if not cart.lines:
            raise ApiError(422, "cart_empty", "the cart is empty")
        carts.check_size(cart.lines)
        products = store.get_products((ln.product_id for ln in cart.lines), consistent=True)
        error = _out_of_stock(cart.lines, products)
        if error:
            raise error
        orders = _build_orders(cart.id, cart.lines, products, clock.iso(clock.now()))
        body = {"cart_id": cart.id, "orders": [o.public_json() for o in orders]}
        try:
            store.transact(_writes(request, cart, products, orders, body))
        except store.Cancelled as cancelled:
            failed = cancelled.tags()
            if "idempotency" in failed:
                continue  # a concurrent request with this key won: replay it
            if any(tag.startswith("stock:") for tag in failed):
                error = _out_of_stock(cart.lines, store.get_products((ln.product_id for ln in cart.lines),
                                                                     consistent=True))
                if error:
                    raise error from None
            http.log(logging.INFO, "checkout_retry", cart_id=cart.id, failed=cancelled.failed)
            continue  # the cart or a product changed under us: read again
        webhook = [o.id for o in orders if o.status == "pending_handoff"]
        if webhook:
            handoff.enqueue(webhook)
        http.log(logging.INFO, "checked_out", cart_id=cart.id, orders=[o.id for o in orders])
        return http.Response(201, body)
    replay = _replay(request.fingerprint, store.get_idempotency(request.key))
    if replay:
        return replay
    raise ApiError(409, "conflict", "the cart or its products changed during checkout; try again")
