"""The table: catalog sync keeps sales counters, unpublishes instead of deleting, writes the config."""
from __future__ import annotations

from dataclasses import replace

from conftest import make_catalog, stock_of

from functions import store

SERUM = "lin-xiaoyu--lancome-serum"
TEA = "chen-mo--tea-set"


def test_resync_updates_allocation_price_and_rate_without_touching_sold(api, aws, merchant):
    api.checkout(api.cart({SERUM: 3}), "sync-1")
    catalog = make_catalog(merchant.url, {SERUM: 50})
    catalog.products[SERUM] = replace(catalog.products[SERUM], price=99000, rate="0.09")
    store.sync_catalog(catalog)
    store.sync_catalog(catalog)
    item = store.get_products([SERUM], consistent=True)[SERUM]
    assert (item.stock, item.sold, item.price, item.rate, item.published) == (50, 3, 99000, "0.09", True)
    cart = api.get(f"/api/carts/{api.cart({SERUM: 1})}").json
    assert cart["lines"][0]["unit_price"]["amount"] == 99000


def test_products_gone_from_the_catalog_are_unpublished_not_deleted(api, aws, merchant):
    api.checkout(api.cart({TEA: 2}), "sync-2")
    catalog = make_catalog(merchant.url)
    store.sync_catalog(replace(catalog, products={k: v for k, v in catalog.products.items() if k != TEA}))
    item = store.get_products([TEA], consistent=True)[TEA]
    assert (item.published, item.sold, item.available) == (False, 2, 0)
    assert api.get("/api/stock", query=f"ids={TEA}").json == {TEA: {"available": 0}}
    store.sync_catalog(catalog)
    assert stock_of(TEA) == (10, 2)
    assert store.get_products([TEA])[TEA].published


def test_config_item_carries_partners_lock_days_currency_and_creators(aws, merchant):
    config = store.load_config()
    assert (config.currency, config.lock_days) == ("CNY", 15)
    assert config.partners["weimai"].handoff.type == "webhook"
    assert config.partners["tmall"].handoff.params == {"pid": "{creator_pid}", "cc_order": "{order_id}"}
    assert config.creators == ("chen-mo", "lin-xiaoyu")


def test_items_use_the_documented_keys(api, aws):
    cart_id = api.cart({SERUM: 1})
    order_id = api.checkout(cart_id, "keys").json["orders"][0]["id"]
    ddb = store.client("dynamodb")
    keys = {(i["PK"]["S"], i["SK"]["S"]) for i in ddb.scan(TableName=store.table())["Items"]}
    assert (f"PRODUCT#{SERUM}", "STOCK") in keys
    assert (f"CART#{cart_id}", "CART") in keys
    assert (f"ORDER#{order_id}", "ORDER") in keys
    assert ("IDEMPOTENCY#keys", "IDEMPOTENCY") in keys
    month = store.get_order(order_id)["created_at"][:7]
    assert ("CREATOR#lin-xiaoyu", f"COMMISSION#{month}#{order_id}#01#000") in keys
    ttl = ddb.describe_time_to_live(TableName=store.table())["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
