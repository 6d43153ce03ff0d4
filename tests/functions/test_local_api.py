"""The local adapter builds the same API Gateway v2 events the deployed function gets."""
from __future__ import annotations

import base64
import json

from generator import local_api


def test_to_event_builds_an_http_api_v2_event():
    event = local_api.to_event("post", "/api/carts/abc/checkout", "ids=a&ids=b&x=%E4%B8%AD",
                               [("Content-Type", "application/json"), ("X-Multi", "1"), ("x-multi", "2"),
                                ("Cookie", "a=1; b=2"), ("Idempotency-Key", "k")], b'{"a": 1}')
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/api/carts/abc/checkout" and event["rawQueryString"] == "ids=a&ids=b&x=%E4%B8%AD"
    assert event["queryStringParameters"] == {"ids": "a,b", "x": "中"}
    assert event["headers"] == {"content-type": "application/json", "x-multi": "1,2", "idempotency-key": "k"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False


def test_binary_or_non_text_bodies_are_base64():
    event = local_api.to_event("POST", "/api/carts", "", {"content-type": "application/octet-stream"}, b"\xff\x00")
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"
    event = local_api.to_event("POST", "/api/carts", "", {"content-type": "application/json"}, b"\xff")
    assert event["isBase64Encoded"] is True
    assert "body" not in local_api.to_event("GET", "/api/stock", "", {}, b"")


def test_dispatch_returns_status_headers_and_bytes(api):
    status, headers, body = local_api.dispatch("GET", "/api/orders/" + "0" * 32, "", {}, b"")
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "order_not_found"
