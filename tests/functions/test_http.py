"""The HTTP layer: strict bodies, errors as JSON, CORS, logs, and no traceback ever."""
from __future__ import annotations

import base64
import json
import logging

import pytest

from functions import app, http, store
from generator import local_api

SERUM = "lin-xiaoyu--lancome-serum"


def _put(api, cart_id, raw, content_type="application/json"):
    return api.put(f"/api/carts/{cart_id}/items/{SERUM}", raw=raw, headers={"content-type": content_type})


@pytest.mark.parametrize("raw", [
    b'{"quantity": 1', b"", b"quantity=1", b'{"quantity": 1, "quantity": 2}', b'{"quantity": NaN}',
    b'{"quantity": Infinity}', b'{"quantity": 1e999}', b'{"quantity": 1}\xff', b"\xef\xbb\xbf{\"quantity\": 1}",
    b'{"q": "\\ud800"}', b"[" * 40 + b"]" * 40, b"[" * 5000 + b"]" * 5000, b'{"quantity": ' + b"9" * 5000 + b"}",
], ids=["truncated", "empty", "form", "duplicate-key", "nan", "infinity", "overflow", "bad-utf8", "bom",
        "lone-surrogate", "deep", "very-deep", "huge-int"])
def test_malformed_json_is_400_and_changes_nothing(api, raw):
    cart_id = api.cart({})
    before = store.get_cart(cart_id)
    reply = _put(api, cart_id, raw)
    assert reply.status == 400 and reply.error == "invalid_json", reply.json
    assert store.get_cart(cart_id) == before


def test_body_over_64_kib_is_413(api):
    cart_id = api.cart({})
    raw = json.dumps({"quantity": 1, "pad": "x" * (64 * 1024)}).encode()
    reply = _put(api, cart_id, raw)
    assert reply.status == 413 and reply.error == "body_too_large"
    assert store.get_cart(cart_id)["lines"] == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", ""])
def test_non_json_content_type_is_415(api, content_type):
    cart_id = api.cart({})
    reply = _put(api, cart_id, b'{"quantity": 1}', content_type)
    assert reply.status == 415 and reply.error == "unsupported_media_type"


def test_json_with_charset_and_base64_body_is_accepted(api):
    cart_id = api.cart({})
    event = local_api.to_event("PUT", f"/api/carts/{cart_id}/items/{SERUM}", "",
                               {"content-type": "application/json; charset=UTF-8"}, b'{"quantity": 2}')
    event["body"], event["isBase64Encoded"] = base64.b64encode(b'{"quantity": 2}').decode(), True
    result = app.handler(event, None)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["lines"][0]["quantity"] == 2


def test_invalid_base64_is_400(api):
    event = local_api.to_event("POST", "/api/carts", "", {"content-type": "application/json"}, b"{}")
    event["body"], event["isBase64Encoded"] = "!!!not base64", True
    assert app.handler(event, None)["statusCode"] == 400


def test_non_object_body_is_422(api):
    assert api.post("/api/carts", [1, 2]).error == "invalid_body"


def test_unknown_route_is_404_and_wrong_method_405(api):
    assert api.get("/api/nope").status == 404
    reply = api.call("PATCH", "/api/carts")
    assert reply.status == 405 and reply.error == "method_not_allowed"
    assert "POST" in reply.headers["allow"]


def test_routing_ignores_route_key(api):
    event = local_api.to_event("POST", "/api/carts", "", {}, b"")
    event["routeKey"] = "POST /api/carts"
    assert app.handler(event, None)["statusCode"] == 201


def test_cors_default_is_star_and_preflight_answers(api):
    reply = api.call("OPTIONS", "/api/carts/x/checkout", headers={"origin": "https://a.example"})
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "idempotency-key" in reply.headers["access-control-allow-headers"]


def test_cors_uses_the_configured_site_origin(api, monkeypatch):
    monkeypatch.setenv("CHUCHUANG_SITE_ORIGIN", "https://chuchuang.example.com")
    reply = api.post("/api/carts", headers={"origin": "https://evil.example"})
    assert reply.headers["access-control-allow-origin"] == "https://chuchuang.example.com"
    assert reply.headers["vary"] == "Origin"


def test_unexpected_exception_is_a_logged_500_without_traceback(api, monkeypatch, caplog):
    def boom(_request):
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(app.router, "_routes", [("GET", ("api", "boom"), "/api/boom", boom)])
    event = local_api.to_event("GET", "/api/boom", "", {}, b"")
    with caplog.at_level(logging.INFO, logger="chuchuang"):
        result = app.handler(event, None)
    assert result["statusCode"] == 500
    assert "secret-internal-detail" not in result["body"] and "Traceback" not in result["body"]
    body = json.loads(result["body"])
    request_id = event["requestContext"]["requestId"]
    assert body["error"]["code"] == "internal_error" and body["error"]["details"] == {"request_id": request_id}
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "chuchuang"]
    crash = next(r for r in records if r["event"] == "unhandled_exception")
    assert crash["request_id"] == request_id and "KeyError" in crash["traceback"]
    assert any(r["event"] == "request" and r["status"] == 500 for r in records)


def test_logs_never_carry_request_bodies(api, caplog):
    with caplog.at_level(logging.INFO, logger="chuchuang"):
        api.post("/api/carts", {"items": [{"product_id": SERUM, "quantity": 1}]})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SERUM not in text and "quantity" not in text
    assert all(json.loads(r.getMessage())["request_id"] != "-" for r in caplog.records if r.name == "chuchuang")


def test_sample_events_run_through_the_handler(api):
    """tests/events/*.json are real-shaped API Gateway events; each answers as its name says."""
    from conftest import EVENTS

    samples = sorted(EVENTS.glob("*.json"))
    assert samples
    for path in samples:
        event = json.loads(path.read_text(encoding="utf-8"))
        expected = int(path.stem.split("-")[-1])
        result = app.handler(event, None)
        assert result["statusCode"] == expected, (path.name, result["body"])
        assert result["headers"]["content-type"].startswith("application/json")


def test_fields_reports_unknown_and_missing():
    with pytest.raises(http.ApiError) as err:
        http.fields({"a": 1, "z": 2}, required=("a", "b"))
    assert err.value.details["fields"] == ["z"]
    with pytest.raises(http.ApiError) as err:
        http.fields({"a": 1}, required=("a", "b"))
    assert err.value.code == "missing_field"
