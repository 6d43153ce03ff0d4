"""Carts: priced from the catalog only, strict about quantities, bounded, expiring."""
from __future__ import annotations

import pytest
from conftest import stock_of

from functions import carts, clock, store

SERUM = "lin-xiaoyu--lancome-serum"
TEA = "chen-mo--tea-set"


def test_new_cart_is_empty_and_expires_in_30_days(api):
    reply = api.post("/api/carts")
    assert reply.status == 201
    cart = reply.json
    assert cart["lines"] == [] and cart["totals"] == [] and cart["status"] == "open"
    item = store.get_cart(cart["id"])
    days = (clock.from_unix(item["expires_at"]) - clock.now()).days
    assert 29 <= days <= 30


def test_cart_is_priced_from_the_catalog_with_totals_per_currency(api):
    cart_id = api.cart({SERUM: 2})
    reply = api.put(f"/api/carts/{cart_id}/items/{TEA}", {"quantity": 3})
    assert reply.status == 200
    lines = {ln["product_id"]: ln for ln in reply.json["lines"]}
    assert lines[SERUM]["unit_price"] == {"amount": 108000, "currency": "CNY"}
    assert lines[TEA]["line_total"] == {"amount": 3 * 19999, "currency": "CNY"}
    assert reply.json["totals"] == [{"amount": 2 * 108000 + 3 * 19999, "currency": "CNY"}]
    assert reply.json["item_count"] == 5
    assert api.get(f"/api/carts/{cart_id}").json == reply.json


def test_put_zero_and_delete_remove_lines(api):
    cart_id = api.cart({SERUM: 1, TEA: 1})
    reply = api.put(f"/api/carts/{cart_id}/items/{SERUM}", {"quantity": 0})
    assert [ln["product_id"] for ln in reply.json["lines"]] == [TEA]
    assert api.delete(f"/api/carts/{cart_id}/items/{TEA}").json["lines"] == []
    assert api.delete(f"/api/carts/{cart_id}/items/{TEA}").status == 200  # idempotent


@pytest.mark.parametrize("body", [
    {"quantity": 1, "price": 1},
    {"quantity": 1, "unit_price": {"amount": 1, "currency": "CNY"}},
])
def test_client_side_price_is_an_unknown_field_and_changes_nothing(api, body):
    cart_id = api.cart({SERUM: 1})
    before = store.get_cart(cart_id)
    reply = api.put(f"/api/carts/{cart_id}/items/{TEA}", body)
    assert reply.status == 422 and reply.error == "unknown_field"
    assert store.get_cart(cart_id) == before


def test_price_in_new_cart_items_is_rejected(api):
    reply = api.post("/api/carts", {"items": [{"product_id": SERUM, "quantity": 1, "price": 1}]})
    assert reply.status == 422 and reply.error == "unknown_field"


@pytest.mark.parametrize("quantity", [-1, 1.5, 1.0, "2", True, None, 100, 10**30, [1]])
def test_quantity_must_be_an_integer_from_0_to_99(api, quantity):
    cart_id = api.cart({SERUM: 1})
    before = store.get_cart(cart_id)
    reply = api.put(f"/api/carts/{cart_id}/items/{SERUM}", {"quantity": quantity})
    assert reply.status == 422 and reply.error == "invalid_field"
    assert store.get_cart(cart_id) == before


def test_missing_quantity_is_422(api):
    cart_id = api.cart({})
    assert api.put(f"/api/carts/{cart_id}/items/{SERUM}", {}).error == "missing_field"


def test_unknown_or_unpublished_product_is_404(api, aws, catalog):
    cart_id = api.cart({})
    assert api.put(f"/api/carts/{cart_id}/items/nobody--nothing", {"quantity": 1}).error == "product_not_found"
    products = {k: v for k, v in catalog.products.items() if k != TEA}
    store.sync_catalog(type(catalog)(catalog.currency, catalog.lock_days, catalog.partners, products))
    reply = api.put(f"/api/carts/{cart_id}/items/{TEA}", {"quantity": 1})
    assert reply.status == 404 and reply.json["error"]["details"] == {"product_id": TEA}


def test_more_than_available_is_409_naming_what_is_left(api):
    cart_id = api.cart({})
    reply = api.put(f"/api/carts/{cart_id}/items/{SERUM}", {"quantity": 11})
    assert reply.status == 409 and reply.error == "out_of_stock"
    assert reply.json["error"]["details"]["products"] == [{"product_id": SERUM, "requested": 11, "available": 10}]
    assert api.get(f"/api/carts/{cart_id}").json["lines"] == []


def test_a_21st_line_is_422(api, aws, catalog, merchant):
    from conftest import make_catalog

    from functions.catalog import Product

    base = make_catalog(merchant.url)
    template = base.products[SERUM]
    extra = {f"lin-xiaoyu--p{i}": Product(**{**template.__dict__, "id": f"lin-xiaoyu--p{i}"}) for i in range(21)}
    store.sync_catalog(type(base)(base.currency, base.lock_days, base.partners, {**base.products, **extra}))
    cart_id = api.cart({f"lin-xiaoyu--p{i}": 1 for i in range(20)})
    reply = api.put(f"/api/carts/{cart_id}/items/lin-xiaoyu--p20", {"quantity": 1})
    assert reply.status == 422 and reply.error == "cart_too_large"
    assert len(api.get(f"/api/carts/{cart_id}").json["lines"]) == carts.MAX_LINES
    items = [{"product_id": f"lin-xiaoyu--p{i}", "quantity": 1} for i in range(21)]
    too_many = api.post("/api/carts", {"items": items})
    assert too_many.status == 422 and too_many.error == "cart_too_large"


def test_unknown_or_malformed_cart_id_is_404(api):
    assert api.get("/api/carts/" + "0" * 32).error == "cart_not_found"
    assert api.get("/api/carts/not-an-id").error == "cart_not_found"
    assert api.put("/api/carts/" + "0" * 32 + f"/items/{SERUM}", {"quantity": 1}).status == 404


def test_expired_cart_is_gone_even_before_ttl_deletion(api, monkeypatch):
    cart_id = api.cart({SERUM: 1})
    later = clock.now() + clock.days(31)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert api.get(f"/api/carts/{cart_id}").status == 404


def test_checked_out_cart_cannot_change(api):
    cart_id = api.cart({SERUM: 1})
    assert api.checkout(cart_id, "k-closed").status == 201
    reply = api.put(f"/api/carts/{cart_id}/items/{TEA}", {"quantity": 1})
    assert reply.status == 409 and reply.error == "cart_checked_out"
    assert api.get(f"/api/carts/{cart_id}").json["status"] == "checked_out"


def test_stock_endpoint_reports_available_and_omits_unknown(api):
    cart_id = api.cart({SERUM: 3})
    api.checkout(cart_id, "k-stock")
    reply = api.get("/api/stock", query=f"ids={SERUM},{TEA},nobody--nothing")
    assert reply.status == 200
    assert reply.json == {SERUM: {"available": 7}, TEA: {"available": 10}}
    assert stock_of(SERUM) == (10, 3)


def test_stock_endpoint_limits(api):
    assert api.get("/api/stock").error == "missing_ids"
    reply = api.get("/api/stock", query="ids=" + ",".join(f"p{i}" for i in range(101)))
    assert reply.status == 400 and reply.error == "too_many_ids"
