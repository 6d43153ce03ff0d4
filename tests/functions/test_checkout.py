"""Checkout: one transaction, one order per merchant, never oversold, replayable by key."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import stock_of

from functions import commissions, handoff, store
from functions.catalog import Handoff, PartnerEntry

SERUM = "lin-xiaoyu--lancome-serum"
TONER = "lin-xiaoyu--lancome-toner"
MASK = "chen-mo--lancome-mask"
TEA = "chen-mo--tea-set"
LEAVES = "chen-mo--tea-leaves"


def _queue_bodies(aws):
    sqs = store.client("sqs")
    answer = sqs.receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
    return [m["Body"] for m in answer.get("Messages", [])]


def test_checkout_makes_one_order_per_merchant_with_catalog_prices(api, aws):
    cart_id = api.cart({SERUM: 2, TONER: 1, MASK: 1, TEA: 1, LEAVES: 3})
    reply = api.checkout(cart_id, "key-1")
    assert reply.status == 201
    orders = {o["merchant"]: o for o in reply.json["orders"]}
    assert set(orders) == {"lancome-official", "teahouse"}
    lancome, teahouse = orders["lancome-official"], orders["teahouse"]
    assert lancome["total"] == {"amount": 2 * 108000 + 33333 + 45000, "currency": "CNY"}
    assert lancome["status"] == "handed_off" and lancome["handoff"]["type"] == "redirect"
    assert teahouse["status"] == "pending_handoff" and teahouse["handoff"] == {"type": "webhook", "url": None}
    assert [stock_of(p)[1] for p in (SERUM, TONER, MASK, TEA, LEAVES)] == [2, 1, 1, 1, 3]
    assert _queue_bodies(aws) == [f'{{"order_id": "{teahouse["id"]}"}}']
    assert api.get(f"/api/orders/{lancome['id']}").json == lancome


def test_checkout_writes_a_pending_commission_entry_per_line_rounded_down(api):
    cart_id = api.cart({TONER: 1, MASK: 1})
    order = api.checkout(cart_id, "key-c").json["orders"][0]
    lin = commissions.load_ledger("lin-xiaoyu")
    chen = commissions.load_ledger("chen-mo")
    assert [(e.status, e.amount, e.rate, e.commission, e.order_id) for e in lin] == [
        ("pending", 33333, "0.08", 2666, order["id"])]  # 2666.64 rounded down
    assert [(e.status, e.commission, e.rule) for e in chen] == [("pending", 2250, "partner:tmall/default")]


def test_redirect_handoff_url_keeps_the_link_query_and_encodes_params(api):
    order = api.checkout(api.cart({SERUM: 1}), "key-url").json["orders"][0]
    url = order["lines"][0]["handoff_url"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "detail.tmall.com", "/item.htm")
    assert parse_qsl(parts.query) == [("id", "5231234567"), ("spm", "a1.b2"), ("cc_order", order["id"]),
                                      ("pid", "lin-xiaoyu")]
    assert order["handoff"]["url"] == url


def test_redirect_url_template_encodes_and_overrides_spoofed_params():
    partner = PartnerEntry("x", "X", Handoff("redirect", "https://go.example/r?u={link}",
                                             {"pid": "{creator_pid}", "m": "{merchant} & co"}), "X")
    url = handoff.redirect_url(partner, "https://shop.example/i?id=1&pid=evil", {
        "creator_pid": "a b", "order_id": "o", "product_id": "p", "merchant": "m/1"})
    query = dict(parse_qsl(urlsplit(url).query))
    assert query == {"u": "https://shop.example/i?id=1&pid=evil", "pid": "a b", "m": "m/1 & co"}
    same_link = PartnerEntry("y", "Y", Handoff("redirect", "{link}", {"pid": "{creator_pid}"}), "Y")
    url = handoff.redirect_url(same_link, "https://shop.example/i?id=1&pid=evil&x=%E4%B8%AD", {"creator_pid": "me"})
    assert parse_qsl(urlsplit(url).query) == [("id", "1"), ("x", "中"), ("pid", "me")]


def test_same_key_same_cart_replays_the_same_response_and_writes_nothing(api, aws):
    cart_id = api.cart({SERUM: 1, TEA: 1})
    first = api.checkout(cart_id, "key-replay")
    again = api.checkout(cart_id, "key-replay")
    assert again.status == 201 and again.json == first.json
    assert again.headers["idempotent-replayed"] == "true"
    assert stock_of(SERUM)[1] == 1 and stock_of(TEA)[1] == 1
    assert len(commissions.load_ledger("lin-xiaoyu")) == 1
    assert len(_queue_bodies(aws)) == 1


def test_same_key_other_cart_is_422(api):
    api.checkout(api.cart({SERUM: 1}), "key-reuse")
    other = api.cart({TONER: 1})
    reply = api.checkout(other, "key-reuse")
    assert reply.status == 422 and reply.error == "idempotency_key_reused"
    assert stock_of(TONER)[1] == 0


def test_other_key_on_a_checked_out_cart_is_409(api):
    cart_id = api.cart({SERUM: 1})
    api.checkout(cart_id, "key-a")
    reply = api.checkout(cart_id, "key-b")
    assert reply.status == 409 and reply.error == "cart_checked_out"
    assert stock_of(SERUM)[1] == 1


@pytest.mark.parametrize("key", [None, "", "x" * 256, "naïve", "tab\tkey"])
def test_idempotency_key_is_required_and_printable_ascii(api, key):
    cart_id = api.cart({SERUM: 1})
    headers = {} if key is None else {"idempotency-key": key}
    reply = api.post(f"/api/carts/{cart_id}/checkout", headers=headers)
    assert reply.status == 400
    assert stock_of(SERUM)[1] == 0


def test_checkout_body_may_not_carry_prices(api):
    cart_id = api.cart({SERUM: 1})
    reply = api.post(f"/api/carts/{cart_id}/checkout", {"total": 1}, headers={"idempotency-key": "k"})
    assert reply.status == 422 and reply.error == "unknown_field"


def test_out_of_stock_is_409_naming_products_and_what_is_left_and_changes_nothing(api, aws):
    first = api.cart({SERUM: 8})
    second = api.cart({SERUM: 2, TEA: 1})
    api.checkout(first, "key-first")
    api.put(f"/api/carts/{second}/items/{SERUM}", {"quantity": 2})
    store.sync_catalog(store_catalog_with_stock(aws, SERUM, 9))
    reply = api.checkout(second, "key-second")
    assert reply.status == 409 and reply.error == "out_of_stock"
    assert reply.json["error"]["details"] == {"products": [{"product_id": SERUM, "requested": 2, "available": 1}]}
    assert stock_of(SERUM) == (9, 8) and stock_of(TEA) == (10, 0)
    assert api.get(f"/api/carts/{second}").json["status"] == "open"
    assert len(commissions.load_ledger("chen-mo")) == 0


def store_catalog_with_stock(aws, product_id, stock):
    from conftest import make_catalog

    config = store.load_config()
    return make_catalog(config.partners["weimai"].handoff.url, {product_id: stock})


def test_transaction_failure_on_stock_writes_nothing(api, monkeypatch):
    """The condition is checked inside the transaction: a stale read cannot oversell."""
    cart_id = api.cart({SERUM: 3, TEA: 1})
    api.checkout(api.cart({SERUM: 8}), "key-other")
    real = store.get_products
    calls = []

    def stale_first(ids, consistent=False):
        found = real(ids, consistent=consistent)
        calls.append(1)
        if len(calls) == 1:  # what a read racing the other checkout would have seen
            found[SERUM] = type(found[SERUM])(**{**found[SERUM].__dict__, "sold": 0})
        return found

    monkeypatch.setattr(store, "get_products", stale_first)
    reply = api.checkout(cart_id, "key-stale")
    assert reply.status == 409 and reply.error == "out_of_stock"
    assert reply.json["error"]["details"]["products"] == [{"product_id": SERUM, "requested": 3, "available": 2}]
    assert stock_of(SERUM) == (10, 8) and stock_of(TEA) == (10, 0)
    assert store.get_idempotency("key-stale") is None
    assert len(commissions.load_ledger("chen-mo")) == 0


def test_empty_or_missing_cart(api):
    assert api.checkout(api.cart({}), "key-empty").error == "cart_empty"
    assert api.checkout("0" * 32, "key-none").status == 404


def test_unpublished_product_cannot_be_checked_out(api, aws, catalog):
    cart_id = api.cart({SERUM: 1})
    store.sync_catalog(type(catalog)(catalog.currency, catalog.lock_days, catalog.partners,
                                     {k: v for k, v in catalog.products.items() if k != SERUM}))
    reply = api.checkout(cart_id, "key-gone")
    assert reply.status == 409
    assert reply.json["error"]["details"]["products"][0] == {"product_id": SERUM, "requested": 1, "available": 0}


def test_enqueue_failure_leaves_the_order_for_the_sweep(api, aws, monkeypatch):
    from functions import clock, sweep

    monkeypatch.setenv("CHUCHUANG_HANDOFF_QUEUE", aws["queue"] + "-missing")
    reply = api.checkout(api.cart({TEA: 1}), "key-lost")
    assert reply.status == 201
    order_id = reply.json["orders"][0]["id"]
    monkeypatch.setenv("CHUCHUANG_HANDOFF_QUEUE", aws["queue"])
    assert _queue_bodies(aws) == []
    assert sweep.sweep()["requeued"] == 0  # still inside the grace period
    later = clock.now() + clock.seconds(sweep.GRACE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert sweep.handler({}, None) == {"requeued": 1, "failed": []}
    assert _queue_bodies(aws) == [f'{{"order_id": "{order_id}"}}']


def test_a_request_racing_the_same_key_replays_the_winners_response(api, monkeypatch):
    """Both requests read "no record yet"; the loser's transaction fails on the key and it replays."""
    cart_id = api.cart({SERUM: 1})
    real = store.get_checkout_state
    calls = []

    def before_the_winner_committed(key, cart):
        record, item = real(key, cart)
        calls.append(1)
        return (None, {**item, "checked_out": False, "version": 0}) if len(calls) == 1 else (record, item)

    first = api.checkout(cart_id, "key-race")
    monkeypatch.setattr(store, "get_checkout_state", before_the_winner_committed)
    second = api.checkout(cart_id, "key-race")
    assert second.status == 201 and second.json == first.json
    assert stock_of(SERUM)[1] == 1
    assert len(commissions.load_ledger("lin-xiaoyu")) == 1


def test_a_full_20_line_cart_checks_out_in_one_transaction(api, catalog, monkeypatch):
    from dataclasses import replace

    extra = {f"chen-mo--p{i}": replace(catalog.products[TEA], id=f"chen-mo--p{i}") for i in range(10)}
    extra |= {f"lin-xiaoyu--p{i}": replace(catalog.products[SERUM], id=f"lin-xiaoyu--p{i}") for i in range(10)}
    store.sync_catalog(replace(catalog, products={**catalog.products, **extra}))
    calls = []
    real = store.transact
    monkeypatch.setattr(store, "transact", lambda ops: (calls.append(len(ops)), real(ops)))
    reply = api.checkout(api.cart({pid: 1 for pid in extra}), "key-20")
    assert reply.status == 201 and len(reply.json["orders"]) == 2
    assert calls == [2 + 20 + 2 + 20]
    assert len(commissions.load_ledger("chen-mo")) == len(commissions.load_ledger("lin-xiaoyu")) == 10
