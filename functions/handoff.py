"""Handing an order to the merchant: a redirect URL, or a signed webhook from the SQS worker."""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from functions import clock, signatures, store
from functions.catalog import PartnerEntry
from functions.http import log
from functions.orders import Order

TIMEOUT_SECONDS = 10
MAX_ANSWER = 64 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# (url, body, headers) -> (status, answer body); tests and the sandbox may swap it.
Sender = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


class HandoffError(Exception):
    """The merchant did not take the order; the SQS message is retried."""


def redirect_url(partner: PartnerEntry, link: str, values: dict[str, str]) -> str:
    """The partner's template with ``{link}`` and tracking params filled in, URL-encoded.

    Params replace same-named ones already in the link, so a link cannot carry
    another creator's pid; the rest of the link's query is kept as it was.
    """
    template = partner.handoff.url
    fill = {**values, "link": link}
    if template == "{link}":
        base = link
    else:
        base = template
        for name, value in fill.items():
            base = base.replace("{" + name + "}", quote(value, safe=""))
    params = {name: _fill(value, fill) for name, value in partner.handoff.params.items()}
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += sorted(params.items())
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def enqueue(order_ids: Iterable[str]) -> list[str]:
    """Put webhook orders on the handoff queue; return the ids that could not be sent."""
    ids = list(order_ids)
    failed: list[str] = []
    for start in range(0, len(ids), 10):
        batch = ids[start:start + 10]
        try:
            answer = store.client("sqs").send_message_batch(
                QueueUrl=os.environ["CHUCHUANG_HANDOFF_QUEUE"],
                Entries=[{"Id": str(i), "MessageBody": json.dumps({"order_id": oid})} for i, oid in enumerate(batch)])
            failed += [batch[int(f["Id"])] for f in answer.get("Failed", [])]
        except Exception as exc:  # the sweep re-sends whatever did not make it
            log(logging.WARNING, "handoff_enqueue_failed", orders=batch, error=type(exc).__name__)
            failed += batch
    return failed


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST with a timeout, no redirects; plain http only to loopback (the local sandbox)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise HandoffError(f"refusing to send an order to a non-https URL: {parts.scheme}://{parts.hostname}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return answer.status, answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as err:
        return err.code, err.read(MAX_ANSWER)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


SEND: Sender = post


def _payment_url(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) and len(value) <= 2048 else None
    if parts is None or not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise HandoffError("the merchant's payment_url is not an https URL")
    return value


def deliver(order_id: str, send: Sender | None = None) -> bool:
    """POST a ``pending_handoff`` order to its merchant and record the answer.

    Returns ``False`` when there was nothing to do (already handed off, or
    gone), so a second delivery of the same message changes nothing.
    """
    item = store.get_order(order_id)
    if item is None:
        log(logging.WARNING, "handoff_order_missing", order_id=order_id)
        return False
    order = Order.from_item(item)
    if order.status != "pending_handoff":
        return False
    partner = store.load_config().partners[order.partner]
    secret = os.environ.get(partner.secret_env)
    if not secret:
        raise HandoffError(f"the secret for {partner.id} is not set ({partner.secret_env})")
    body = json.dumps(order.merchant_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": order.id,
               "User-Agent": "chuchuang-handoff/1",
               signatures.HEADER: signatures.sign(secret, body, int(time.time()))}
    status, answer = (send or SEND)(partner.handoff.url, body, headers)
    if not 200 <= status < 300:
        raise HandoffError(f"{partner.id} answered HTTP {status}")
    try:
        doc = json.loads(answer)
        merchant_order_id, payment_url = doc["merchant_order_id"], _payment_url(doc["payment_url"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HandoffError(f"{partner.id} answered without merchant_order_id and payment_url: {exc}") from None
    if not isinstance(merchant_order_id, str) or not 1 <= len(merchant_order_id) <= 255:
        raise HandoffError(f"{partner.id} answered a malformed merchant_order_id")
    at = clock.iso(clock.now())
    changed = store.mark_handed_off(order.id, {"merchant_order_id": merchant_order_id, "payment_url": payment_url,
                                               "updated_at": at}, {"status": "handed_off", "at": at})
    log(logging.INFO, "handed_off", order_id=order.id, partner=partner.id, changed=changed)
    return changed
