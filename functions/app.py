"""The HTTP API Lambda: every ``/api`` route of DESIGN.md, each a thin handler."""
from __future__ import annotations

import logging
import os

from functions import carts, checkout, dynamo, events, http, orders, store
from functions.http import ApiError, Request, Response

MAX_STOCK_IDS = 100

logging.getLogger("chuchuang").setLevel(os.environ.get("CHUCHUANG_LOG_LEVEL", "INFO"))


def create_cart(request: Request) -> Response:
    return http.ok(carts.create(carts.NewCart.from_json(request.json(optional=True))), 201)


def get_cart(request: Request) -> Response:
    return http.ok(carts.get(request.params["cart_id"]))


def set_quantity(request: Request) -> Response:
    body = carts.SetQuantity.from_json(request.json())
    return http.ok(carts.set_quantity(request.params["cart_id"], request.params["product_id"], body.quantity))


def remove_item(request: Request) -> Response:
    return http.ok(carts.set_quantity(request.params["cart_id"], request.params["product_id"], 0))


def checkout_cart(request: Request) -> Response:
    return checkout.checkout(checkout.CheckoutRequest.parse(request))


def get_order(request: Request) -> Response:
    return http.ok(orders.load(request.params["order_id"]).public_json())


def get_stock(request: Request) -> Response:
    ids = [i for i in dict.fromkeys(request.query.get("ids", "").split(",")) if i]
    if not ids:
        raise ApiError(400, "missing_ids", "pass product ids as ?ids=a,b")
    if len(ids) > MAX_STOCK_IDS:
        raise ApiError(400, "too_many_ids", f"ask for at most {MAX_STOCK_IDS} ids at once", {"max": MAX_STOCK_IDS})
    products = store.get_products(i for i in ids if len(i) <= 200)
    return http.ok({pid: {"available": p.available} for pid, p in products.items()})


def merchant_event(request: Request) -> Response:
    partner = request.params["partner"]
    events.verify(partner, request)
    return http.ok(events.handle(partner, events.MerchantEvent.from_json(request.json())))


router = http.Router(transient=dynamo.is_transient)
router.add("POST", "/api/carts", create_cart)
router.add("GET", "/api/carts/{cart_id}", get_cart)
router.add("PUT", "/api/carts/{cart_id}/items/{product_id}", set_quantity)
router.add("DELETE", "/api/carts/{cart_id}/items/{product_id}", remove_item)
router.add("POST", "/api/carts/{cart_id}/checkout", checkout_cart)
router.add("GET", "/api/orders/{order_id}", get_order)
router.add("GET", "/api/stock", get_stock)
router.add("POST", "/api/merchants/{partner}/events", merchant_event)


def handler(event: dict, context: object) -> dict:
    """Lambda entry point for the HttpApi."""
    return router(event, context)
