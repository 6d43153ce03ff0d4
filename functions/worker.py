"""The SQS-triggered handoff worker: POSTs webhook orders, reports failures per message.

A failed message stays on the queue with a longer visibility timeout each
time (exponential backoff); after the queue's maxReceiveCount it goes to
the dead-letter queue.
"""
from __future__ import annotations

import json
import logging
import os

from functions import handoff, store
from functions.http import log

logging.getLogger("chuchuang").setLevel(os.environ.get("CHUCHUANG_LOG_LEVEL", "INFO"))

MAX_BACKOFF_SECONDS = 900


def _backoff(record: dict) -> None:
    queue = os.environ.get("CHUCHUANG_HANDOFF_QUEUE")
    receipt = record.get("receiptHandle")
    if not queue or not receipt:
        return
    tries = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
    try:
        store.client("sqs").change_message_visibility(QueueUrl=queue, ReceiptHandle=receipt,
                                                      VisibilityTimeout=min(MAX_BACKOFF_SECONDS, 5 * 2 ** tries))
    except Exception as exc:  # the queue's own visibility timeout still applies
        log(logging.WARNING, "backoff_failed", error=type(exc).__name__)


def handler(event: dict, context: object) -> dict:
    """Lambda entry point: deliver each message's order; failed ones are retried by SQS."""
    failures = []
    for record in event.get("Records", []):
        try:
            order_id = json.loads(record["body"])["order_id"]
            handoff.deliver(order_id)
        except Exception as exc:
            log(logging.WARNING, "handoff_failed", message_id=record.get("messageId"),
                error=type(exc).__name__, detail=str(exc)[:300])
            failures.append({"itemIdentifier": record.get("messageId", "")})
            _backoff(record)
    return {"batchItemFailures": failures}
