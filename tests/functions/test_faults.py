"""Faults at the boto3 boundary: every one ends in a clean 4xx/503 the client can retry, or a completed order.

Never a lost order, a duplicate order, an order without its ledger entries, or
an order stuck before handoff (the sweep re-sends it). Faults are injected with
botocore's event hooks on the production clients (see ``evidence.py``); after
each test ``assert_consistent`` checks stock, orders and the ledger agree.
"""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import EndpointConnectionError
from conftest import WEIMAI_SECRET
from evidence import (
    assert_consistent,
    aws_answer,
    aws_error,
    injected,
    snapshot,
    timeout,
)

from functions import clock, store, sweep, worker

SERUM = "lin-xiaoyu--lancome-serum"   # tmall: redirect
TEA = "chen-mo--tea-set"              # weimai: webhook


class Crash(BaseException):
    """The process dies here (a Lambda timeout or OOM): nothing after this line runs."""


@pytest.fixture
def faults(api, monkeypatch):
    with injected(monkeypatch) as installed:
        yield installed
    assert_consistent()


def _queue(aws) -> list[dict]:
    answer = store.client("sqs").receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10,
                                                 AttributeNames=["All"])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": m["Attributes"]} for m in answer.get("Messages", [])]


def _checkout(api, cart_id: str, key: str):
    return api.post(f"/api/carts/{cart_id}/checkout", headers={"idempotency-key": key})


def _after_grace(monkeypatch) -> None:
    later = clock.now() + clock.seconds(sweep.GRACE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)


def _sweep_and_deliver(aws, monkeypatch, merchant, order_id: str) -> None:
    """The sweep (clock moved past its grace) re-queues the order; the worker hands it off."""
    assert sweep.sweep()["requeued"] == 0  # fresh orders are left to the message sent at checkout
    _after_grace(monkeypatch)
    assert sweep.handler({}, None) == {"requeued": 1, "failed": []}
    records = _queue(aws)
    assert [json.loads(r["body"]) for r in records] == [{"order_id": order_id}]
    assert worker.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert store.get_order(order_id)["status"] == "handed_off"
    assert [json.loads(r["body"])["id"] for r in merchant.received] == [order_id]


def test_throttled_reads_and_writes_are_retried_by_the_sdk_and_the_checkout_completes(api, faults):
    cart_id = api.cart({SERUM: 1, TEA: 1})
    throttle = lambda: aws_error("ProvisionedThroughputExceededException")
    reads = faults.add("dynamodb", "BatchGetItem", "answer", throttle, times=2)
    writes = faults.add("dynamodb", "TransactWriteItems", "answer", lambda: aws_error("ThrottlingException"), times=2)
    reply = _checkout(api, cart_id, "throttled")
    assert reply.status == 201 and len(reply.json["orders"]) == 2
    assert (reads.hits, writes.hits) == (2, 2)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded", "InternalServerError"])
def test_persistent_throttling_is_a_503_with_retry_after_and_writes_nothing(api, faults, code):
    cart_id = api.cart({SERUM: 2, TEA: 1})
    before = snapshot()
    faults.add("dynamodb", "TransactWriteItems", "answer", lambda: aws_error(code, 500 if "Internal" in code else 400))
    reply = _checkout(api, cart_id, "busy")
    assert reply.status == 503 and reply.error == "unavailable"
    assert reply.headers["retry-after"] == "1" and "request_id" in reply.json["error"]["details"]
    assert snapshot() == before
    faults.clear()
    again = _checkout(api, cart_id, "busy")  # what the client does after Retry-After
    assert again.status == 201 and len(again.json["orders"]) == 2


def test_unreachable_dynamodb_is_503_not_500(api, faults):
    cart_id = api.cart({SERUM: 1})
    faults.add("dynamodb", "GetItem", "raise", lambda: EndpointConnectionError(endpoint_url="https://x.invalid"))
    reply = api.get(f"/api/carts/{cart_id}")
    assert reply.status == 503 and reply.headers["retry-after"] == "1"
    faults.clear()
    assert api.get(f"/api/carts/{cart_id}").status == 200


def test_a_transaction_conflict_is_retried_and_the_order_is_written_once(api, faults):
    cart_id = api.cart({SERUM: 1, TEA: 2})
    conflict = faults.add("dynamodb", "TransactWriteItems", "answer", lambda: aws_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}]),
        times=1)
    reply = _checkout(api, cart_id, "conflict-once")
    assert reply.status == 201 and conflict.hits == 1
    assert len(assert_consistent()["orders"]) == 2


def test_a_persistent_transaction_conflict_is_a_409_to_retry_and_writes_nothing(api, faults):
    cart_id = api.cart({SERUM: 1, TEA: 2})
    before = snapshot()
    faults.add("dynamodb", "TransactWriteItems", "answer", lambda: aws_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": "TransactionConflict"}]))
    reply = _checkout(api, cart_id, "conflict")
    assert reply.status == 409 and reply.error == "conflict" and "try again" in reply.json["error"]["message"]
    assert snapshot() == before
    faults.clear()
    assert _checkout(api, cart_id, "conflict").status == 201


def test_a_lost_answer_to_the_checkout_write_replays_the_same_orders(api, aws, faults, merchant, monkeypatch):
    """The transaction commits, its answer is lost, the SDK sends it again: the retry is refused
    by the idempotency record, and checkout answers with what was written."""
    cart_id = api.cart({SERUM: 1, TEA: 1})
    lost = faults.add("dynamodb", "TransactWriteItems", "lose-response", times=1)
    reply = _checkout(api, cart_id, "lost")
    assert reply.status == 201 and lost.hits == 1
    assert faults.calls[("dynamodb", "TransactWriteItems")] == 1  # one call, sent twice by the SDK
    state = assert_consistent()
    assert sorted(state["orders"]) == sorted(o["id"] for o in reply.json["orders"])
    assert store.get_products([SERUM, TEA], consistent=True)[TEA].sold == 1
    webhook = next(o["id"] for o in reply.json["orders"] if o["partner"] == "weimai")
    _sweep_and_deliver(aws, monkeypatch, merchant, webhook)


def test_a_timeout_after_the_checkout_committed_is_503_and_the_retry_replays(api, aws, faults, merchant,
                                                                             monkeypatch):
    cart_id = api.cart({SERUM: 1, TEA: 1})
    faults.add("dynamodb", "TransactWriteItems", "raise-after", timeout, times=1)
    first = _checkout(api, cart_id, "timeout")
    assert first.status == 503 and first.headers["retry-after"] == "1"
    written = assert_consistent()["orders"]
    assert len(written) == 2  # the write is there; the client does not know yet
    again = _checkout(api, cart_id, "timeout")
    assert again.status == 201 and again.headers["idempotent-replayed"] == "true"
    assert sorted(o["id"] for o in again.json["orders"]) == sorted(written)
    assert len(assert_consistent()["orders"]) == 2
    webhook = next(o["id"] for o in again.json["orders"] if o["partner"] == "weimai")
    _sweep_and_deliver(aws, monkeypatch, merchant, webhook)


def test_a_timeout_after_an_event_committed_is_503_and_the_redelivery_is_a_duplicate(api, faults):
    order = _checkout(api, api.cart({SERUM: 2}), "evt").json["orders"][0]
    from conftest import TMALL_SECRET

    faults.add("dynamodb", "TransactWriteItems", "raise-after", timeout, times=1)
    body = {"event_id": "evt-cancel", "type": "cancelled", "order_id": order["id"]}
    assert api.event("tmall", body, TMALL_SECRET).status == 503
    assert store.get_order(order["id"])["status"] == "cancelled"
    again = api.event("tmall", body, TMALL_SECRET)  # the merchant retries its callback
    assert again.status == 200 and again.json["duplicate"] is True
    assert store.get_products([SERUM], consistent=True)[SERUM].sold == 0  # released exactly once


@pytest.mark.parametrize("failure", ["error", "entries-failed", "unreachable"])
def test_an_sqs_send_failure_still_completes_the_order_and_the_sweep_resends_it(api, aws, faults, merchant,
                                                                                monkeypatch, failure):
    make = {"error": ("answer", lambda: aws_error("InternalError", 500)),
            "entries-failed": ("answer", lambda: aws_answer({"Successful": [], "Failed": [
                {"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "injected"}]})),
            "unreachable": ("raise", lambda: EndpointConnectionError(endpoint_url="https://x.invalid"))}[failure]
    faults.add("sqs", "SendMessageBatch", *make)
    reply = _checkout(api, api.cart({TEA: 1}), f"sqs-{failure}")
    assert reply.status == 201
    order_id = reply.json["orders"][0]["id"]
    faults.clear()
    assert store.get_order(order_id)["status"] == "pending_handoff" and _queue(aws) == []
    _sweep_and_deliver(aws, monkeypatch, merchant, order_id)


def test_an_sqs_send_whose_answer_was_lost_queues_twice_and_posts_once(api, aws, faults, merchant):
    faults.add("sqs", "SendMessageBatch", "lose-response", times=1)
    order_id = _checkout(api, api.cart({TEA: 1}), "sqs-twice").json["orders"][0]["id"]
    records = _queue(aws)
    assert [json.loads(r["body"]) for r in records] == [{"order_id": order_id}] * 2
    for record in records:  # two deliveries, as SQS would make them
        assert worker.handler({"Records": [record]}, None) == {"batchItemFailures": []}
    assert [json.loads(r["body"])["id"] for r in merchant.received] == [order_id]
    assert store.get_order(order_id)["status"] == "handed_off"


def test_a_crash_between_the_order_write_and_the_handoff_send(api, aws, faults, merchant, monkeypatch):
    cart_id = api.cart({TEA: 1, SERUM: 1})
    faults.add("sqs", "SendMessageBatch", "raise", Crash, times=1)
    with pytest.raises(Crash):
        _checkout(api, cart_id, "crash")
    state = assert_consistent()  # the order is whole: stock, entries, record
    [webhook] = [o["id"] for o in state["orders"].values() if o["partner"] == "weimai"]
    again = _checkout(api, cart_id, "crash")  # the fan's client never got an answer, so it retries
    assert again.status == 201 and sorted(o["id"] for o in again.json["orders"]) == sorted(state["orders"])
    _sweep_and_deliver(aws, monkeypatch, merchant, webhook)


def test_a_throttled_handoff_write_is_retried_by_sqs_and_ends_handed_off(api, aws, faults, merchant):
    order_id = _checkout(api, api.cart({TEA: 1}), "handoff-busy").json["orders"][0]["id"]
    records = _queue(aws)
    faults.add("dynamodb", "UpdateItem", "answer", lambda: aws_error("ProvisionedThroughputExceededException"))
    failed = worker.handler({"Records": records}, None)
    assert failed == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    assert store.get_order(order_id)["status"] == "pending_handoff"
    faults.clear()
    assert worker.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert store.get_order(order_id)["status"] == "handed_off"
    # The merchant was sent the order twice under one Idempotency-Key (the order id), so it makes one.
    assert {r["headers"]["idempotency-key"] for r in merchant.received} == {order_id}


def test_a_timeout_after_the_handoff_was_recorded_redelivers_harmlessly(api, aws, faults, merchant):
    order_id = _checkout(api, api.cart({TEA: 1}), "handoff-timeout").json["orders"][0]["id"]
    records = _queue(aws)
    faults.add("dynamodb", "UpdateItem", "raise-after", timeout, times=1)
    assert worker.handler({"Records": records}, None)["batchItemFailures"]
    recorded = store.get_order(order_id)
    assert recorded["status"] == "handed_off"
    assert worker.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert store.get_order(order_id) == recorded and len(merchant.received) == 1


def test_a_sweep_that_cannot_reach_sqs_fails_loudly_and_keeps_the_order(api, aws, faults, merchant, monkeypatch):
    faults.add("sqs", "SendMessageBatch", "answer", lambda: aws_error("InternalError", 500))
    order_id = _checkout(api, api.cart({TEA: 1}), "sweep-down").json["orders"][0]["id"]
    _after_grace(monkeypatch)
    with pytest.raises(RuntimeError, match="could not re-queue 1"):
        sweep.handler({}, None)  # a failed scheduled run is retried by EventBridge and alarms
    assert store.pending_handoffs("9999") == [order_id]
    faults.clear()
    assert sweep.handler({}, None) == {"requeued": 1, "failed": []}


def test_the_webhook_secret_never_leaves_in_logs_under_faults(api, aws, faults, caplog):
    faults.add("dynamodb", "TransactWriteItems", "answer", lambda: aws_error("ThrottlingException"))
    with caplog.at_level("DEBUG", logger="chuchuang"):
        _checkout(api, api.cart({TEA: 1}), "logs")
        faults.clear()
        assert _checkout(api, api.cart({TEA: 1}), "logs-2").status == 201
        assert worker.handler({"Records": _queue(aws)}, None) == {"batchItemFailures": []}
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert WEIMAI_SECRET not in text and "dependency_unavailable" in text
