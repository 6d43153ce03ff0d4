"""The scheduled sweep: re-queue webhook orders whose handoff never happened."""
from __future__ import annotations

import logging
import os

from functions import clock, handoff, store
from functions.http import log

logging.getLogger("chuchuang").setLevel(os.environ.get("CHUCHUANG_LOG_LEVEL", "INFO"))

GRACE_SECONDS = 120   # leave fresh orders to the message sent at checkout


def sweep(grace_seconds: int = GRACE_SECONDS) -> dict:
    """Send every order still ``pending_handoff`` after the grace period to the queue again."""
    before = clock.iso(clock.now() - clock.seconds(grace_seconds))
    order_ids = store.pending_handoffs(before)
    failed = handoff.enqueue(order_ids)
    log(logging.INFO if not failed else logging.WARNING, "sweep", requeued=len(order_ids) - len(failed),
        failed=len(failed))
    return {"requeued": len(order_ids) - len(failed), "failed": failed}


def handler(event: dict, context: object) -> dict:
    """Lambda entry point (EventBridge schedule)."""
    result = sweep()
    if result["failed"]:
        raise RuntimeError(f"could not re-queue {len(result['failed'])} orders")
    return result
