"""Hostile API input: every hazard is a 4xx and leaves the table exactly as it was.

Each case snapshots every item of the table before and after the request.
"""
from __future__ import annotations

import base64
import json

import pytest
from conftest import TMALL_SECRET
from evidence import aws_error, injected, snapshot

from functions import app, carts
from generator import local_api

SERUM = "lin-xiaoyu--lancome-serum"
TEA = "chen-mo--tea-set"


@pytest.fixture
def cart_id(api):
    return api.cart({SERUM: 1})


def _unchanged(api, method: str, path: str, *, body=None, raw: bytes | None = None, headers=None,
               status: int | tuple[int, ...], code: str | None = None):
    before = snapshot()
    sent = dict(headers or {})
    if raw is not None:
        sent.setdefault("content-type", "application/json")
    reply = api.call(method, path, body, raw=raw, headers=sent)
    wanted = status if isinstance(status, tuple) else (status,)
    assert reply.status in wanted, (reply.status, reply.json)
    assert 400 <= reply.status < 500
    if code is not None:
        assert reply.error == code, reply.json
    assert snapshot() == before
    return reply


# --- prices, totals, creators and rates come from the catalog only -----------------------------

@pytest.mark.parametrize("field,value", [
    ("price", 1), ("unit_price", {"amount": 1, "currency": "CNY"}), ("total", {"amount": 1, "currency": "CNY"}),
    ("creator", "someone-else"), ("rate", "0.99"), ("commission", 100000), ("currency", "USD"),
])
def test_client_sent_money_fields_on_set_quantity_are_422(api, cart_id, field, value):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", body={"quantity": 1, field: value},
               status=422, code="unknown_field")


@pytest.mark.parametrize("field,value", [("price", 1), ("creator", "x"), ("rate", "1"), ("merchant", "m")])
def test_client_sent_money_fields_on_new_cart_items_are_422(api, field, value):
    _unchanged(api, "POST", "/api/carts", body={"items": [{"product_id": SERUM, "quantity": 1, field: value}]},
               status=422, code="unknown_field")


@pytest.mark.parametrize("body", [{"total": {"amount": 1, "currency": "CNY"}}, {"price": 1}, {"rate": "0.5"},
                                  {"creator": "x"}])
def test_client_sent_money_fields_on_checkout_are_422(api, cart_id, body):
    _unchanged(api, "POST", f"/api/carts/{cart_id}/checkout", body=body, headers={"idempotency-key": "k"},
               status=422, code="unknown_field")


# --- quantities ---------------------------------------------------------------------------------

def test_quantity_zero_on_create_is_422(api):
    _unchanged(api, "POST", "/api/carts", body={"items": [{"product_id": SERUM, "quantity": 0}]},
               status=422, code="invalid_field")


@pytest.mark.parametrize("quantity", [-1, -99, 1.5, 1.0, 0.5, True, False, "1", "１", 100, 10**6, 10**30, None, [1],
                                      {"n": 1}], ids=lambda q: repr(q))
def test_invalid_quantity_values_are_422(api, cart_id, quantity):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", body={"quantity": quantity},
               status=422, code="invalid_field")
    _unchanged(api, "POST", "/api/carts", body={"items": [{"product_id": TEA, "quantity": quantity}]},
               status=422, code="invalid_field")


@pytest.mark.parametrize("raw", [b'{"quantity": \xef\xbc\x91}', b'{"quantity": NaN}', b'{"quantity": Infinity}',
                                 b'{"quantity": -Infinity}', b'{"quantity": 1e999}', b'{"quantity": 0x1}',
                                 b'{"quantity": 01}', b'{"quantity": +1}'],
                         ids=["fullwidth-digit", "nan", "infinity", "-infinity", "overflow", "hex", "leading-zero",
                              "plus"])
def test_quantities_that_are_not_json_numbers_are_400(api, cart_id, raw):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=raw, status=400, code="invalid_json")


def test_a_huge_integer_quantity_is_refused(api, cart_id):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=b'{"quantity": ' + b"9" * 4000 + b"}",
               status=(400, 422))
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=b'{"quantity": ' + b"9" * 50_000 + b"}",
               status=400, code="invalid_json")


# --- JSON shape and transport -----------------------------------------------------------------------

def test_duplicate_json_keys_are_400(api, cart_id):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=b'{"quantity": 1, "quantity": 2}',
               status=400, code="invalid_json")
    _unchanged(api, "POST", "/api/carts",
               raw=b'{"items": [{"product_id": "chen-mo--tea-set", "quantity": 1, "quantity": 99}]}',
               status=400, code="invalid_json")


@pytest.mark.parametrize("opening,closing", [(b"[", b"]"), (b'{"a":', b"}")], ids=["arrays", "objects"])
def test_ten_thousand_deep_nesting_is_400(api, cart_id, opening, closing):
    raw = opening * 10_000 + b"1" + closing * 10_000
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=raw, status=400, code="invalid_json")


def test_a_body_over_64_kib_is_413(api, cart_id):
    raw = json.dumps({"quantity": 1, "pad": "x" * (64 * 1024)}).encode()
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=raw, status=413, code="body_too_large")
    items = [{"product_id": f"chen-mo--p{i}", "quantity": 1} for i in range(3000)]
    _unchanged(api, "POST", "/api/carts", raw=json.dumps({"items": items}).encode(), status=413)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/json; charset=latin-1",
                                          "application/jsonx", "text/json"])
def test_a_wrong_or_missing_content_type_is_415(api, cart_id, content_type):
    headers = {} if content_type is None else {"content-type": content_type}
    before = snapshot()
    status, _, out = local_api.dispatch("PUT", f"/api/carts/{cart_id}/items/{TEA}", "", headers, b'{"quantity": 1}')
    assert status == 415 and json.loads(out)["error"]["code"] == "unsupported_media_type"
    assert snapshot() == before


@pytest.mark.parametrize("raw", [b'{"quantity": 1, "x": "\xff"}', b'{"quantity": 1}\xc3', b"\xed\xa0\x80",
                                 b'{"q": "\\ud800"}', b"\xfe\xff\x00{"], ids=["ff", "truncated", "surrogate-bytes",
                                                                           "escaped-lone-surrogate", "utf16-bom"])
def test_invalid_utf8_bodies_are_400(api, cart_id, raw):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{TEA}", raw=raw, status=400, code="invalid_json")


@pytest.mark.parametrize("body", ["!!!not base64", "eyJx", "e30=\n", "e3 0=", "****"])
def test_invalid_base64_bodies_are_400(api, body):
    before = snapshot()
    event = local_api.to_event("POST", "/api/carts", "", {"content-type": "application/json"}, b"{}")
    event["body"], event["isBase64Encoded"] = body, True
    result = app.handler(event, None)
    assert result["statusCode"] == 400 and json.loads(result["body"])["error"]["code"] in ("invalid_body",
                                                                                           "invalid_json")
    assert snapshot() == before


def test_base64_of_invalid_utf8_is_400(api):
    before = snapshot()
    event = local_api.to_event("POST", "/api/carts", "", {"content-type": "application/json"}, b"{}")
    event["body"], event["isBase64Encoded"] = base64.b64encode(b'{"items": "\xff"}').decode(), True
    assert app.handler(event, None)["statusCode"] == 400
    assert snapshot() == before


# --- ids ------------------------------------------------------------------------------------------------

HOSTILE_IDS = {
    "nul": "%00", "control": "%01%1b", "newline": "abc%0Aabc", "zero-width": f"{SERUM}%E2%80%8B",
    "bidi": f"%E2%80%AE{SERUM}", "fullwidth": "ｌｉｎ--ｓｅｒｕｍ", "dotdot": "..", "encoded-slash": "..%2F..%2Fetc",
    "backslash": "..%5C..%5Cetc", "uppercase": SERUM.upper(), "spaces": "%20" + SERUM, "long": "a--" + "b" * 3000,
    "hash-key": "PRODUCT%23x--y", "percent": "%25", "wildcard": "*",
}


@pytest.mark.parametrize("raw_id", list(HOSTILE_IDS.values()), ids=list(HOSTILE_IDS))
def test_hostile_product_ids_are_404(api, cart_id, raw_id):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{raw_id}", body={"quantity": 1}, status=404)
    _unchanged(api, "DELETE", f"/api/carts/{cart_id}/items/{raw_id}", status=404)


@pytest.mark.parametrize("raw_id", list(HOSTILE_IDS.values()) + ["0" * 31, "0" * 33, "A" * 32, "g" * 32],
                         ids=[*HOSTILE_IDS, "short", "long-hex", "upper-hex", "not-hex"])
def test_hostile_cart_and_order_ids_are_404(api, raw_id):
    _unchanged(api, "GET", f"/api/carts/{raw_id}", status=404)
    _unchanged(api, "PUT", f"/api/carts/{raw_id}/items/{SERUM}", body={"quantity": 1}, status=404)
    _unchanged(api, "POST", f"/api/carts/{raw_id}/checkout", headers={"idempotency-key": "k"}, status=404)
    _unchanged(api, "GET", f"/api/orders/{raw_id}", status=404)


def _oversized_key(body: dict) -> bool:
    """Whether a DynamoDB request carries a key attribute over DynamoDB's 2,048-byte limit."""
    text = json.dumps(body, ensure_ascii=False)
    return any(len(value.encode()) > 2048 for value in _strings(json.loads(text)))


def _strings(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("PK", "SK") and isinstance(inner, dict) and "S" in inner:
                yield inner["S"]
            else:
                yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def test_an_over_long_product_id_never_reaches_dynamodb(api, cart_id, monkeypatch):
    """moto accepts any key length; DynamoDB refuses keys over 2 KiB with a ValidationException (a 500
    here). The hook answers as DynamoDB would, so the test sees what production would."""
    with injected(monkeypatch) as faults:
        for operation in ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "TransactWriteItems"):
            faults.add("dynamodb", operation, "answer", lambda: aws_error(
                "ValidationException", message="Hash primary key values must be under 2048 bytes"),
                when=_oversized_key)
        long_id = "a--" + "b" * 3000
        _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/{long_id}", body={"quantity": 1}, status=404)
        _unchanged(api, "DELETE", f"/api/carts/{cart_id}/items/{long_id}", status=404)
        _unchanged(api, "POST", "/api/carts", body={"items": [{"product_id": long_id, "quantity": 1}]}, status=422)
        assert api.get("/api/stock", query=f"ids={long_id},{SERUM}").json == {SERUM: {"available": 10}}
        assert all(f.hits == 0 for f in faults.faults)


def test_a_path_that_is_not_utf8_is_400(api, cart_id):
    _unchanged(api, "PUT", f"/api/carts/{cart_id}/items/%FF%FE", body={"quantity": 1}, status=400,
               code="invalid_path")


def test_another_carts_or_an_orders_id_is_not_a_cart(api, cart_id):
    order_id = api.checkout(api.cart({TEA: 1}), "other").json["orders"][0]["id"]
    _unchanged(api, "GET", f"/api/carts/{order_id}", status=404, code="cart_not_found")
    _unchanged(api, "PUT", f"/api/carts/{order_id}/items/{SERUM}", body={"quantity": 1}, status=404)
    _unchanged(api, "GET", f"/api/orders/{cart_id}", status=404, code="order_not_found")


# --- cart size and idempotency keys -----------------------------------------------------------------

def test_too_many_lines_is_422(api, catalog, aws):
    from dataclasses import replace

    from functions import store

    extra = {f"chen-mo--p{i}": replace(catalog.products[TEA], id=f"chen-mo--p{i}") for i in range(25)}
    store.sync_catalog(replace(catalog, products={**catalog.products, **extra}))
    items = [{"product_id": pid, "quantity": 1} for pid in extra]
    _unchanged(api, "POST", "/api/carts", body={"items": items}, status=422, code="cart_too_large")
    full = api.cart({pid: 1 for pid in list(extra)[:carts.MAX_LINES]})
    _unchanged(api, "PUT", f"/api/carts/{full}/items/chen-mo--p24", body={"quantity": 1}, status=422,
               code="cart_too_large")


@pytest.mark.parametrize("key", [None, "", "x" * 256, "ключ", "tab\tkey", "nl\nkey", "\x7f"],
                         ids=["missing", "empty", "over-long", "non-ascii", "tab", "newline", "del"])
def test_a_missing_or_malformed_idempotency_key_is_400(api, cart_id, key):
    headers = {} if key is None else {"idempotency-key": key}
    _unchanged(api, "POST", f"/api/carts/{cart_id}/checkout", headers=headers, status=400)


def test_an_idempotency_key_reused_for_another_cart_or_body_is_422(api, cart_id):
    first = api.checkout(cart_id, "reused")
    assert first.status == 201
    other = api.cart({TEA: 1})
    _unchanged(api, "POST", f"/api/carts/{other}/checkout", headers={"idempotency-key": "reused"},
               status=422, code="idempotency_key_reused")
    _unchanged(api, "POST", f"/api/carts/{cart_id}/checkout", body={"note": "x"},
               headers={"idempotency-key": "reused"}, status=422, code="unknown_field")


def test_a_refund_in_another_currency_is_422(api):
    order = api.checkout(api.cart({SERUM: 1}), "fx").json["orders"][0]
    api.event("tmall", {"event_id": "fx-paid", "type": "paid", "order_id": order["id"]}, TMALL_SECRET)
    before = snapshot()
    for currency in ("USD", "cny", "JPY"):
        body = {"event_id": f"fx-{currency}", "type": "refunded", "order_id": order["id"],
                "amount": {"amount": 100, "currency": currency}}
        reply = api.event("tmall", body, TMALL_SECRET)
        assert reply.status == 422 and reply.error == "currency_mismatch"
    assert snapshot() == before


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", True, 10**16])
def test_a_refund_amount_that_is_not_a_positive_integer_is_422(api, amount):
    order = api.checkout(api.cart({SERUM: 1}), "amt").json["orders"][0]
    api.event("tmall", {"event_id": "amt-paid", "type": "paid", "order_id": order["id"]}, TMALL_SECRET)
    before = snapshot()
    body = {"event_id": "amt", "type": "refunded", "order_id": order["id"],
            "amount": {"amount": amount, "currency": "CNY"}}
    assert api.event("tmall", body, TMALL_SECRET).status == 422
    assert snapshot() == before


def test_api_answers_never_carry_rates_commissions_or_allocations(api):
    """What a fan's browser sees: prices and availability, never the creator × merchant terms."""
    cart_id = api.cart({SERUM: 1, TEA: 1})
    answers = [api.get(f"/api/carts/{cart_id}").json, api.checkout(cart_id, "terms").json]
    answers += [api.get(f"/api/orders/{o['id']}").json for o in answers[1]["orders"]]
    answers.append(api.get("/api/stock", query=f"ids={SERUM}").json)
    text = json.dumps(answers)
    for secret_term in ('"rate"', '"rate_rule"', '"commission"', '"stock"', '"sold"', "agreement:", "0.08"):
        assert secret_term not in text, secret_term


@pytest.mark.parametrize("path", ["/api/carts", "/api/carts/{cart}/checkout"])
def test_a_json_null_body_is_not_an_empty_body(api, cart_id, path):
    """Found by schemathesis: ``null`` passed for the optional body and created a cart."""
    _unchanged(api, "POST", path.format(cart=cart_id), raw=b"null", headers={"idempotency-key": "null"},
               status=422, code="invalid_body")
