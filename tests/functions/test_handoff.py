"""The handoff worker: signed webhook POSTs, recorded answers, harmless redelivery, retries."""
from __future__ import annotations

import json
import time

import pytest
from conftest import WEIMAI_SECRET

from functions import handoff, signatures, store, worker

TEA = "chen-mo--tea-set"


def _sqs_event(aws, max_messages=10):
    answer = store.client("sqs").receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=max_messages,
                                                 AttributeNames=["All"])
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m["Attributes"], "eventSource": "aws:sqs"}
                        for m in answer.get("Messages", [])]}


def _webhook_order(api):
    reply = api.checkout(api.cart({TEA: 2}), f"key-{time.monotonic_ns()}")
    return reply.json["orders"][0]["id"]


def test_worker_posts_the_signed_order_and_records_the_answer(api, aws, merchant):
    order_id = _webhook_order(api)
    event = _sqs_event(aws)
    assert worker.handler(event, None) == {"batchItemFailures": []}
    [sent] = merchant.received
    body = sent["body"]
    signatures.verify(sent["headers"]["x-chuchuang-signature"], body, WEIMAI_SECRET, int(time.time()))
    doc = json.loads(body)
    assert doc["id"] == order_id and doc["lines"][0]["creator"] == "chen-mo"
    assert sent["headers"]["idempotency-key"] == order_id
    assert not {"name", "address", "phone", "email"} & set(doc)
    order = api.get(f"/api/orders/{order_id}").json
    assert order["status"] == "handed_off"
    assert order["merchant_order_id"] == f"WM-{order_id[:8]}"
    assert order["payment_url"] == order["handoff"]["url"] == f"https://pay.weimai.com/p/{order_id}"
    assert store.pending_handoffs("9999") == []


def test_the_same_message_twice_posts_once_and_changes_nothing(api, aws, merchant):
    order_id = _webhook_order(api)
    event = _sqs_event(aws)
    worker.handler(event, None)
    before = store.get_order(order_id)
    assert worker.handler(event, None) == {"batchItemFailures": []}
    assert len(merchant.received) == 1
    assert store.get_order(order_id) == before


def test_merchant_failure_is_reported_for_retry_with_backoff(api, aws, merchant):
    order_id = _webhook_order(api)
    merchant.fail_next = 1
    event = _sqs_event(aws)
    result = worker.handler(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert store.get_order(order_id)["status"] == "pending_handoff"
    assert _sqs_event(aws)["Records"] == []  # hidden for the backoff
    assert handoff.deliver(order_id) is True
    assert store.get_order(order_id)["status"] == "handed_off"


def test_one_bad_message_does_not_fail_the_batch(api, aws, merchant):
    order_id = _webhook_order(api)
    event = _sqs_event(aws)
    event["Records"].append({"messageId": "bad", "receiptHandle": "x", "body": "not json", "attributes": {}})
    assert worker.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert store.get_order(order_id)["status"] == "handed_off"


@pytest.mark.parametrize("answer", [
    (200, b"not json"), (200, b'{"merchant_order_id": "x"}'),
    (200, b'{"merchant_order_id": "x", "payment_url": "javascript:alert(1)"}'),
    (200, b'{"merchant_order_id": "", "payment_url": "https://pay.example/1"}'),
    (302, b""), (500, b"{}"),
])
def test_unusable_merchant_answers_are_retried(api, aws, answer):
    order_id = _webhook_order(api)
    with pytest.raises(handoff.HandoffError):
        handoff.deliver(order_id, send=lambda url, body, headers: answer)
    assert store.get_order(order_id)["status"] == "pending_handoff"


def test_missing_secret_fails_the_delivery(api, aws, monkeypatch):
    order_id = _webhook_order(api)
    monkeypatch.delenv("WEIMAI_SECRET")
    with pytest.raises(handoff.HandoffError):
        handoff.deliver(order_id, send=lambda *a: pytest.fail("must not send unsigned"))


def test_plain_http_is_refused_except_to_loopback():
    with pytest.raises(handoff.HandoffError):
        handoff.post("http://api.weimai.com/v1/orders", b"{}", {})


def test_redirect_orders_are_not_posted(api, aws, merchant):
    reply = api.checkout(api.cart({"lin-xiaoyu--lancome-serum": 1}), "key-redirect")
    order_id = reply.json["orders"][0]["id"]
    assert handoff.deliver(order_id) is False
    assert merchant.received == []
