"""The merchant callback checklist: one test per item, each refusal leaves the table untouched.

``POST /api/merchants/{partner}/events`` with ``X-Chuchuang-Signature:
t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>`` over the raw body.
"""
from __future__ import annotations

import json
import time

import pytest
from conftest import TMALL_SECRET, WEIMAI_SECRET
from evidence import assert_consistent, snapshot

from functions import signatures, store

SERUM = "lin-xiaoyu--lancome-serum"
TEA = "chen-mo--tea-set"


@pytest.fixture
def order(api):
    """A tmall (redirect) order for 2 serums, handed off at checkout."""
    return api.checkout(api.cart({SERUM: 2}), "cb-order").json["orders"][0]


def _body(order: dict, kind: str = "paid", event_id: str = "evt-1", **extra) -> bytes:
    return json.dumps({"event_id": event_id, "type": kind, "order_id": order["id"], **extra}).encode()


def _post(api, body: bytes, header: str | None, partner: str = "tmall", content_type: str = "application/json"):
    headers = {"content-type": content_type} | ({signatures.HEADER: header} if header is not None else {})
    return api.post(f"/api/merchants/{partner}/events", raw=body, headers=headers)


def _refused(api, body: bytes, header: str | None, status: int, code: str, partner: str = "tmall") -> None:
    before = snapshot()
    reply = _post(api, body, header, partner)
    assert (reply.status, reply.error) == (status, code), reply.json
    assert snapshot() == before


def _now() -> int:
    return int(time.time())


def test_a_valid_event_moves_the_order_and_is_recorded(api, order):
    body = _body(order)
    reply = _post(api, body, signatures.sign(TMALL_SECRET, body, _now()))
    assert reply.status == 200 and reply.json["duplicate"] is False and reply.json["order"]["status"] == "paid"
    assert store.event_seen("tmall", "evt-1")
    assert_consistent()


def test_bad_json_with_a_valid_signature_is_400(api, order):
    body = b'{"event_id": "evt-1", "type": "paid",'
    _refused(api, body, signatures.sign(TMALL_SECRET, body, _now()), 400, "invalid_json")


@pytest.mark.parametrize("header", ["garbage", "t=,v1=", "v1=abc", "t=1,t=2,v1=abc", "t=12x,v1=abc", "t=-5,v1=abc",
                                    "t=1234567890123,v1=abc", "=,=", ","])
def test_a_malformed_signature_header_is_400(api, order, header):
    _refused(api, _body(order), header, 400, "malformed_signature")


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_signature_header_is_401(api, order, header):
    _refused(api, _body(order), header, 401, "missing_signature")


def test_an_unknown_scheme_alone_is_401(api, order):
    body = _body(order)
    digest = signatures.sign(TMALL_SECRET, body, _now()).split("v1=")[1]
    _refused(api, body, f"t={_now()},v2={digest},v0={digest}", 401, "invalid_signature")


def test_a_bad_signature_is_401(api, order):
    body = _body(order)
    forged = signatures.sign("not-the-secret", body, _now())
    _refused(api, body, forged, 401, "invalid_signature")
    tampered = signatures.sign(TMALL_SECRET, body, _now())
    _refused(api, body.replace(b"paid", b"shipped"), tampered, 401, "invalid_signature")


@pytest.mark.parametrize("skew", [-301, -86400, -_now()], ids=["5min-1s", "a-day", "epoch"])
def test_a_timestamp_too_old_is_401(api, order, skew):
    body = _body(order)
    _refused(api, body, signatures.sign(TMALL_SECRET, body, _now() + skew), 401, "stale_signature")


@pytest.mark.parametrize("skew", [301, 86400], ids=["5min+1s", "a-day"])
def test_a_timestamp_too_far_in_the_future_is_401(api, order, skew):
    body = _body(order)
    _refused(api, body, signatures.sign(TMALL_SECRET, body, _now() + skew), 401, "stale_signature")


def test_several_signatures_of_which_one_is_valid_is_accepted(api, order):
    """Secret rotation: the merchant signs with the old and the new secret; one match is enough."""
    body = _body(order)
    t = _now()
    old = signatures.sign("retired-secret", body, t).split(",")[1]
    new = signatures.sign(TMALL_SECRET, body, t).split(",")[1]
    reply = _post(api, body, f"t={t},{old},{new},v2=future-scheme")
    assert reply.status == 200 and reply.json["order"]["status"] == "paid"


def test_the_replay_of_a_processed_event_id_changes_nothing(api, order):
    body = _body(order, "cancelled", "evt-cancel")
    assert _post(api, body, signatures.sign(TMALL_SECRET, body, _now())).status == 200
    before = snapshot()
    for _ in range(3):  # the same delivery again, and re-signed later (a retried webhook)
        reply = _post(api, body, signatures.sign(TMALL_SECRET, body, _now()))
        assert reply.status == 200 and reply.json == {"received": True, "duplicate": True, "event_id": "evt-cancel"}
    assert snapshot() == before
    assert store.get_products([SERUM], consistent=True)[SERUM].sold == 0  # released once
    assert_consistent()


def test_an_event_for_another_partners_order_is_404(api, order):
    body = _body(order)  # a tmall order, signed and sent by weimai
    _refused(api, body, signatures.sign(WEIMAI_SECRET, body, _now()), 404, "order_not_found", partner="weimai")
    body = _body(order)  # and signed with tmall's secret but sent to weimai's endpoint
    _refused(api, body, signatures.sign(TMALL_SECRET, body, _now()), 401, "invalid_signature", partner="weimai")


def test_events_out_of_order_are_409_until_their_turn(api, order):
    def send(kind: str, event_id: str):
        body = _body(order, kind, event_id)
        return _post(api, body, signatures.sign(TMALL_SECRET, body, _now()))

    before = snapshot()
    assert send("completed", "e3").error == "illegal_transition"
    assert send("shipped", "e2").error == "illegal_transition"
    assert snapshot() == before  # a refused event is not recorded, so its redelivery counts
    assert send("paid", "e1").status == 200
    assert send("shipped", "e2").json["order"]["status"] == "shipped"   # the same event ids, redelivered
    assert send("completed", "e3").json["order"]["status"] == "completed"
    assert_consistent()


@pytest.mark.parametrize("path,kind", [
    ((), "shipped"), ((), "completed"), ((), "refunded"),
    (("paid",), "paid"), (("paid", "shipped"), "cancelled"), (("paid", "shipped", "completed"), "cancelled"),
    (("cancelled",), "paid"), (("cancelled",), "refunded"), (("paid", "refunded"), "completed"),
    (("paid", "refunded"), "refunded"),
])
def test_illegal_transitions_are_409_and_change_nothing(api, order, path, kind):
    for n, step in enumerate(path):
        body = _body(order, step, f"step-{n}")
        assert _post(api, body, signatures.sign(TMALL_SECRET, body, _now())).status == 200
    body = _body(order, kind, "illegal")
    _refused(api, body, signatures.sign(TMALL_SECRET, body, _now()), 409, "illegal_transition")
    assert_consistent()


def test_an_event_body_in_another_content_type_is_415_even_when_signed(api, order):
    body = _body(order)
    before = snapshot()
    reply = _post(api, body, signatures.sign(TMALL_SECRET, body, _now()), content_type="text/plain")
    assert reply.status == 415 and snapshot() == before


def test_partner_secrets_come_from_the_environment_and_are_never_stored(api, order, monkeypatch):
    """The table and the catalog hold only the variable's name; rotating the variable takes effect at once."""
    body = _body(order)
    signed = signatures.sign(TMALL_SECRET, body, _now())
    monkeypatch.setenv("TMALL_EVENTS_SECRET", "rotated-secret")
    _refused(api, body, signed, 401, "invalid_signature")
    assert _post(api, body, signatures.sign("rotated-secret", body, _now())).status == 200
    stored = json.dumps(snapshot(), ensure_ascii=False)
    assert TMALL_SECRET not in stored and "rotated-secret" not in stored and "TMALL_EVENTS_SECRET" in stored


def test_event_bodies_signatures_and_secrets_never_reach_the_logs(api, order, caplog):
    body = _body(order, "paid", "evt-logged", merchant_order_id="TM-PRIVATE-42")
    header = signatures.sign(TMALL_SECRET, body, _now())
    with caplog.at_level("DEBUG", logger="chuchuang"):
        assert _post(api, body, header).status == 200
        _post(api, body, "t=1,v1=" + "0" * 64)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "evt-logged" in text  # the event is traceable by its id ...
    for secret in (TMALL_SECRET, header.split("v1=")[1], "TM-PRIVATE-42", body.decode()):
        assert secret not in text  # ... but never by its body, signature or secret
