"""Carts: product ids and quantities only; every price is read from the catalog items."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from functions import clock, http, store
from functions.http import ApiError
from functions.ids import is_id, is_product_id, new_id
from functions.money import Money

MAX_LINES = 20          # what one checkout transaction can hold
MAX_QUANTITY = 99
TTL_DAYS = 30
_RETRIES = 3


@dataclass(frozen=True)
class CartLine:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class Cart:
    id: str
    lines: tuple[CartLine, ...]
    created_at: str
    updated_at: str
    expires_at: int
    version: int = 0
    checked_out: bool = False
    order_ids: tuple[str, ...] = ()

    def to_item(self) -> dict[str, Any]:
        item = {"id": self.id, "lines": [{"product_id": ln.product_id, "quantity": ln.quantity} for ln in self.lines],
                "created_at": self.created_at, "updated_at": self.updated_at, "expires_at": self.expires_at,
                "version": self.version}
        if self.checked_out:
            item.update(checked_out=True, order_ids=list(self.order_ids))
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Cart:
        return cls(id=item["id"], lines=tuple(CartLine(**ln) for ln in item["lines"]),
                   created_at=item["created_at"], updated_at=item["updated_at"], expires_at=item["expires_at"],
                   version=item["version"], checked_out=bool(item.get("checked_out")),
                   order_ids=tuple(item.get("order_ids", ())))


@dataclass(frozen=True)
class SetQuantity:
    """``PUT /api/carts/{id}/items/{product}`` body: ``{"quantity": 0..99}`` (0 removes)."""

    quantity: int

    @classmethod
    def from_json(cls, data: Any) -> SetQuantity:
        http.fields(data, required=("quantity",))
        return cls(http.integer(data["quantity"], "quantity", 0, MAX_QUANTITY))


@dataclass(frozen=True)
class NewCart:
    """``POST /api/carts`` body, optional: ``{"items": [{"product_id", "quantity"}]}``."""

    items: tuple[CartLine, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> NewCart:
        if data is None:
            return cls()
        http.fields(data, optional=("items",))
        items = data.get("items", [])
        if not isinstance(items, list):
            raise ApiError(422, "invalid_field", "items must be a list", {"field": "items"})
        lines: dict[str, CartLine] = {}
        for item in items:
            http.fields(item, required=("product_id", "quantity"))
            pid = http.string(item["product_id"], "product_id", 200)
            if pid in lines:
                raise ApiError(422, "invalid_field", f"{pid} appears twice in items", {"field": "items"})
            lines[pid] = CartLine(pid, http.integer(item["quantity"], "quantity", 1, MAX_QUANTITY))
        return cls(tuple(lines.values()))


def _expiry(now: Any) -> int:
    return int((now + clock.days(TTL_DAYS)).timestamp())


def load(cart_id: str) -> Cart:
    """The live cart ``cart_id`` or a 404."""
    return live(store.get_cart(cart_id) if is_id(cart_id) else None, cart_id)


def live(item: dict[str, Any] | None, cart_id: str) -> Cart:
    """The cart stored as ``item``, or a 404 if there is none or it has expired."""
    if item is None or item["expires_at"] < int(clock.now().timestamp()):
        raise ApiError(404, "cart_not_found", f"no cart {cart_id} (carts expire after {TTL_DAYS} days)")
    return Cart.from_item(item)


def check_size(lines: tuple[CartLine, ...]) -> None:
    """A cart must fit in one checkout transaction."""
    if len(lines) > MAX_LINES:
        raise ApiError(422, "cart_too_large", f"a cart holds at most {MAX_LINES} different products",
                       {"max_lines": MAX_LINES, "lines": len(lines)})


def _check_lines(lines: tuple[CartLine, ...]) -> dict[str, store.StockItem]:
    check_size(lines)
    products = store.get_products(ln.product_id for ln in lines)
    for line in lines:
        product = products.get(line.product_id)
        if product is None or not product.published:
            raise ApiError(404, "product_not_found", f"no product {line.product_id} is for sale",
                           {"product_id": line.product_id})
    short = [{"product_id": ln.product_id, "requested": ln.quantity, "available": products[ln.product_id].available}
             for ln in lines if ln.quantity > products[ln.product_id].available]
    if short:
        raise ApiError(409, "out_of_stock", "not enough stock for: " + ", ".join(s["product_id"] for s in short),
                       {"products": short})
    return products


def view(cart: Cart, products: dict[str, store.StockItem] | None = None) -> dict[str, Any]:
    """The cart as the API returns it, priced from the product items right now."""
    if products is None:
        products = store.get_products(ln.product_id for ln in cart.lines)
    lines, totals = [], {}
    for ln in cart.lines:
        product = products.get(ln.product_id)
        if product is None:
            continue
        unit = Money(product.price, product.currency)
        total = unit.times(ln.quantity)
        totals[total.currency] = totals[total.currency] + total if total.currency in totals else total
        lines.append({"product_id": ln.product_id, "title": product.title, "url": product.url,
                      "creator": product.creator, "merchant": product.merchant, "partner": product.partner,
                      "quantity": ln.quantity, "unit_price": unit.to_json(), "line_total": total.to_json(),
                      "available": product.available})
    return {"id": cart.id, "status": "checked_out" if cart.checked_out else "open", "lines": lines,
            "totals": [totals[c].to_json() for c in sorted(totals)],
            "item_count": sum(ln["quantity"] for ln in lines), "order_ids": list(cart.order_ids),
            "created_at": cart.created_at, "updated_at": cart.updated_at,
            "expires_at": clock.iso(clock.from_unix(cart.expires_at))}


def create(body: NewCart) -> dict[str, Any]:
    """A new cart, optionally with first items."""
    products = _check_lines(body.items) if body.items else {}
    now = clock.now()
    cart = Cart(new_id(), body.items, clock.iso(now), clock.iso(now), _expiry(now))
    store.put_cart(cart.to_item(), None)
    return view(cart, products)


def get(cart_id: str) -> dict[str, Any]:
    return view(load(cart_id))


def set_quantity(cart_id: str, product_id: str, quantity: int) -> dict[str, Any]:
    """Set one line's quantity (0 removes it), re-checking catalog and stock."""
    if not is_product_id(product_id):  # never send a malformed (or over-long) key to DynamoDB
        raise ApiError(404, "product_not_found", "no such product", {"product_id": product_id[:200]})
    for _ in range(_RETRIES):
        cart = load(cart_id)
        if cart.checked_out:
            raise ApiError(409, "cart_checked_out", "this cart has been checked out; start a new one",
                           {"order_ids": list(cart.order_ids)})
        others = tuple(ln for ln in cart.lines if ln.product_id != product_id)
        if quantity == 0:
            lines = others
        elif any(ln.product_id == product_id for ln in cart.lines):
            lines = tuple(CartLine(product_id, quantity) if ln.product_id == product_id else ln for ln in cart.lines)
        else:
            lines = (*cart.lines, CartLine(product_id, quantity))
        if lines == cart.lines:
            return view(cart)
        check_size(lines)
        products = _check_lines(tuple(ln for ln in lines if ln.product_id == product_id)) if quantity else {}
        now = clock.now()
        updated = replace(cart, lines=lines, updated_at=clock.iso(now), expires_at=_expiry(now),
                          version=cart.version + 1)
        if store.put_cart(updated.to_item(), cart.version):
            return view(updated, None if len(lines) > len(products) else products)
    raise ApiError(409, "conflict", "the cart changed while updating it; try again")
