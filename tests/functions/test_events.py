"""Merchant events: signatures, deduplication and the order state machine."""
from __future__ import annotations

import json
import time

import pytest
from conftest import TMALL_SECRET, WEIMAI_SECRET, stock_of

from functions import commissions, signatures, store

SERUM = "lin-xiaoyu--lancome-serum"
TEA = "chen-mo--tea-set"


@pytest.fixture
def order(api):
    """A tmall (redirect) order for 2 serums, already handed off."""
    return api.checkout(api.cart({SERUM: 2}), "key-order").json["orders"][0]


def _send(api, order, kind, event_id=None, **extra):
    body = {"event_id": event_id or f"evt-{kind}-{time.monotonic_ns()}", "type": kind, "order_id": order["id"], **extra}
    return api.event("tmall", body, TMALL_SECRET)


def _signed(api, body: bytes, header: str, partner="tmall"):
    return api.post(f"/api/merchants/{partner}/events", raw=body,
                    headers={"content-type": "application/json", signatures.HEADER: header})


def test_paid_shipped_completed_move_the_order(api, order):
    for kind in ("paid", "shipped", "completed"):
        reply = _send(api, order, kind)
        assert reply.status == 200 and reply.json["order"]["status"] == kind
    assert api.get(f"/api/orders/{order['id']}").json["status"] == "completed"


def test_merchant_order_id_from_an_event_is_recorded(api, order):
    _send(api, order, "paid", merchant_order_id="TM-42")
    assert api.get(f"/api/orders/{order['id']}").json["merchant_order_id"] == "TM-42"


@pytest.mark.parametrize("path,kind", [((), "shipped"), ((), "completed"), ((), "refunded"),
                                       (("paid", "shipped", "completed"), "cancelled"),
                                       (("paid", "shipped", "completed"), "paid"), (("paid",), "paid")])
def test_illegal_transitions_are_409_and_change_nothing(api, order, path, kind):
    for step in path:
        assert _send(api, order, step).status == 200
    before = store.get_order(order["id"])
    reply = _send(api, order, kind)
    assert reply.status == 409 and reply.error == "illegal_transition"
    assert store.get_order(order["id"]) == before


def test_a_duplicate_event_changes_nothing(api, order):
    first = _send(api, order, "cancelled", event_id="evt-dup")
    assert first.json["duplicate"] is False
    assert stock_of(SERUM)[1] == 0
    ledger = commissions.load_ledger("lin-xiaoyu")
    again = _send(api, order, "cancelled", event_id="evt-dup")
    assert again.status == 200 and again.json == {"received": True, "duplicate": True, "event_id": "evt-dup"}
    assert stock_of(SERUM)[1] == 0
    assert commissions.load_ledger("lin-xiaoyu") == ledger


def test_cancel_releases_stock_exactly_once(api, order):
    assert stock_of(SERUM) == (10, 2)
    assert _send(api, order, "cancelled").status == 200
    assert stock_of(SERUM) == (10, 0)
    assert _send(api, order, "cancelled").status == 409  # a second, different cancel event
    assert stock_of(SERUM) == (10, 0)


def test_cancel_of_a_webhook_order_before_handoff(api):
    order = api.checkout(api.cart({TEA: 1}), "key-wh").json["orders"][0]
    body = {"event_id": "wh-1", "type": "cancelled", "order_id": order["id"]}
    assert api.event("weimai", body, WEIMAI_SECRET).json["order"]["status"] == "cancelled"
    assert stock_of(TEA)[1] == 0
    assert store.pending_handoffs("9999") == []


def test_signature_may_carry_several_v1_values(api, order):
    body = json.dumps({"event_id": "rot-1", "type": "paid", "order_id": order["id"]}).encode()
    t = int(time.time())
    good = signatures.sign(TMALL_SECRET, body, t).split(",")[1]
    reply = _signed(api, body, f"t={t},v1={'ab' * 32},{good},v0=ignored")
    assert reply.status == 200


@pytest.mark.parametrize("case,status,code", [
    ("forged", 401, "invalid_signature"), ("other-secret", 401, "invalid_signature"),
    ("stale", 401, "stale_signature"), ("future", 401, "stale_signature"), ("missing", 401, "missing_signature"),
    ("no-v1", 401, "invalid_signature"), ("no-t", 400, "malformed_signature"), ("garbage", 400, "malformed_signature"),
    ("tampered-body", 401, "invalid_signature"), ("non-ascii", 401, "invalid_signature"),
])
def test_bad_signatures_are_refused_and_change_nothing(api, order, case, status, code):
    body = json.dumps({"event_id": f"sig-{case}", "type": "paid", "order_id": order["id"]}).encode()
    now = int(time.time())
    headers = {
        "forged": f"t={now},v1={'0' * 64}",
        "other-secret": signatures.sign(WEIMAI_SECRET, body, now),
        "stale": signatures.sign(TMALL_SECRET, body, now - 301),
        "future": signatures.sign(TMALL_SECRET, body, now + 301),
        "missing": None,
        "no-v1": f"t={now},v0=abc",
        "no-t": "v1=" + signatures.sign(TMALL_SECRET, body, now).split("v1=")[1],
        "garbage": "sha256 deadbeef",
        "tampered-body": signatures.sign(TMALL_SECRET, body + b" ", now),
        "non-ascii": f"t={now},v1=é",
    }
    header = headers[case]
    sent = {"content-type": "application/json"} | ({signatures.HEADER: header} if header else {})
    reply = api.post("/api/merchants/tmall/events", raw=body, headers=sent)
    assert (reply.status, reply.error) == (status, code)
    assert store.get_order(order["id"])["status"] == "handed_off"
    assert not store.event_seen("tmall", f"sig-{case}")


def test_signature_within_tolerance_is_accepted(api, order):
    body = json.dumps({"event_id": "tol", "type": "paid", "order_id": order["id"]}).encode()
    assert _signed(api, body, signatures.sign(TMALL_SECRET, body, int(time.time()) - 290)).status == 200


def test_event_for_another_partners_order_is_404(api, order):
    body = {"event_id": "x-1", "type": "paid", "order_id": order["id"]}
    reply = api.event("weimai", body, WEIMAI_SECRET)
    assert reply.status == 404 and reply.error == "order_not_found"
    assert store.get_order(order["id"])["status"] == "handed_off"


def test_unknown_partner_and_unknown_order_are_404(api):
    assert api.event("nobody", {"event_id": "e", "type": "paid", "order_id": "0" * 32}, TMALL_SECRET).status == 404
    reply = api.event("tmall", {"event_id": "e", "type": "paid", "order_id": "0" * 32}, TMALL_SECRET)
    assert reply.error == "order_not_found"


@pytest.mark.parametrize("body,code", [
    ({"event_id": "b", "type": "exploded", "order_id": "0" * 32}, "invalid_field"),
    ({"event_id": "b", "type": "paid"}, "missing_field"),
    ({"event_id": "b", "type": "paid", "order_id": "0" * 32, "extra": 1}, "unknown_field"),
    ({"event_id": "b", "type": "paid", "order_id": "0" * 32, "amount": {"amount": 1, "currency": "CNY"}},
     "invalid_field"),
    ({"event_id": "b", "type": "refunded", "order_id": "0" * 32, "amount": {"amount": 1.5, "currency": "CNY"}},
     "invalid_field"),
])
def test_malformed_event_bodies_are_422(api, body, code):
    reply = api.event("tmall", body, TMALL_SECRET)
    assert reply.status == 422 and reply.error == code


def test_partial_refunds_keep_the_state_until_the_total_is_refunded(api, order):
    _send(api, order, "paid")
    total = order["total"]["amount"]
    reply = _send(api, order, "refunded", amount={"amount": 1000, "currency": "CNY"})
    assert reply.json["order"]["status"] == "paid" and reply.json["order"]["refunded"]["amount"] == 1000
    assert _send(api, order, "refunded", amount={"amount": total, "currency": "CNY"}).error == "refund_exceeds_total"
    assert _send(api, order, "refunded", amount={"amount": 5, "currency": "USD"}).error == "currency_mismatch"
    reply = _send(api, order, "refunded", amount={"amount": total - 1000, "currency": "CNY"})
    assert reply.json["order"]["status"] == "refunded"
    ledger = commissions.load_ledger("lin-xiaoyu")
    assert sum(e.commission for e in ledger) == 0
    assert _send(api, order, "refunded", amount={"amount": 1, "currency": "CNY"}).status == 409
