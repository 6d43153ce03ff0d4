"""The sandbox merchant at ``/_sandbox/``: local runs only, never deployed.

It plays every partner shop: it accepts signed webhook handoffs, shows the
tracking parameters a redirect partner would receive, lists orders, and
sends correctly signed merchant events back to ``/api/merchants/{partner}/events``
so a whole order life and the commission ledger can be walked through by hand.
"""
from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, urlencode

from functions import dynamo, signatures, store
from functions.catalog import Catalog, Handoff
from generator.local_api import dispatch

EVENT_TYPES = ("paid", "shipped", "completed", "cancelled", "refunded")
# The events a merchant sends, in order, to walk an order to "completed".
WALK = {"handed_off": ("paid", "shipped", "completed"), "paid": ("shipped", "completed"),
        "shipped": ("completed",)}


@dataclass
class Sandbox:
    """State of the local merchant: the webhook orders it received, the secrets it signs with."""

    origin: str
    secrets: dict[str, str]                    # partner id → shared secret
    received: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def localise(self, catalog: Catalog) -> Catalog:
        """Point every partner's handoff at this sandbox, keeping its tracking parameters."""
        partners = {}
        for pid, partner in catalog.partners.items():
            if partner.handoff.type == "webhook":
                handoff = Handoff("webhook", f"{self.origin}/_sandbox/{pid}/orders", {})
            else:
                handoff = Handoff("redirect", f"{self.origin}/_sandbox/{pid}/redirect",
                                  {**partner.handoff.params, "link": "{link}"})
            partners[pid] = replace(partner, handoff=handoff)
        return replace(catalog, partners=partners)

    # -- requests -----------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = [p for p in path.split("/") if p][1:]   # drop "_sandbox"
        if method == "GET" and not parts:
            return self._page(self._index(dict(parse_qsl(query))))
        if method == "POST" and parts == ["events"]:
            return self._send_event(dict(parse_qsl(body.decode("utf-8", "replace"))))
        if len(parts) == 2 and parts[1] == "orders" and method == "POST":
            return self._receive(parts[0], headers, body)
        if len(parts) == 2 and parts[1] == "redirect" and method == "GET":
            return self._page(self._redirect(parts[0], parse_qsl(query)))
        if len(parts) == 3 and parts[1] == "pay" and method == "GET":
            return self._page(self._pay(parts[0], parts[2]))
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"no such sandbox page"

    def _receive(self, partner: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        secret = self.secrets.get(partner, "")
        header = {k.lower(): v for k, v in headers.items()}.get(signatures.HEADER.lower())
        try:
            signatures.verify(header, body, secret, int(time.time()))
        except signatures.SignatureError as exc:
            return exc.status, {"Content-Type": "application/json"}, json.dumps({"error": exc.message}).encode()
        order = json.loads(body)
        merchant_order_id = f"SBX-{partner.upper()}-{order['id'][:8]}"
        with self.lock:
            if not any(r["order"]["id"] == order["id"] for r in self.received):
                self.received.append({"partner": partner, "order": order, "merchant_order_id": merchant_order_id})
        answer = {"merchant_order_id": merchant_order_id,
                  "payment_url": f"{self.origin}/_sandbox/{partner}/pay/{merchant_order_id}"}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _send_event(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        order_id, kind = form.get("order_id", ""), form.get("type", "")
        item = store.get_order(order_id) if order_id else None
        if item is None or kind not in (*EVENT_TYPES, "walk"):
            return self._back(f"unknown order or event type: {order_id} {kind}")
        kinds = WALK.get(item["status"], ()) if kind == "walk" else (kind,)
        messages = []
        for each in kinds:
            doc: dict = {"event_id": f"sbx-{secrets.token_hex(8)}", "type": each, "order_id": order_id}
            if each == "refunded" and form.get("amount", "").strip():
                try:
                    doc["amount"] = {"amount": int(form["amount"]), "currency": item["currency"]}
                except ValueError:
                    return self._back("refund amount must be whole minor units, e.g. 5000 for ¥50.00")
            status, message = self.post_event(item["partner"], doc)
            messages.append(f"{each}: {status} {message}")
            if status >= 400:
                break
        return self._back("; ".join(messages) or "nothing to do")

    def post_event(self, partner: str, doc: dict) -> tuple[int, str]:
        """Sign ``doc`` with the partner's secret and deliver it through the production handler."""
        body = json.dumps(doc).encode()
        headers = {"content-type": "application/json",
                   signatures.HEADER: signatures.sign(self.secrets[partner], body, int(time.time()))}
        status, _, data = dispatch("POST", f"/api/merchants/{partner}/events", "", headers, body)
        try:
            message = json.loads(data).get("error", {}).get("message", "ok") if status >= 400 else "ok"
        except ValueError:
            message = data.decode("utf-8", "replace")[:200]
        return status, message

    # -- pages --------------------------------------------------------------

    def _back(self, message: str) -> tuple[int, dict[str, str], bytes]:
        return 303, {"Location": f"/_sandbox/?{urlencode({'message': message})}"}, b""

    def _page(self, body: str) -> tuple[int, dict[str, str], bytes]:
        doc = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
               f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
               f"<title>Sandbox merchant · chuchuang (local only)</title><link rel=\"icon\" href=\"data:,\">"
               f"<link rel=\"stylesheet\" href=\"/_sandbox.css\"></head><body class=\"sandbox\">"
               f"<p class=\"sandbox-banner\">LOCAL SANDBOX — a stand-in for partner shops; never deployed.</p>"
               f"{body}</body></html>")
        return 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, doc.encode()

    def _orders(self) -> list[dict]:
        items = []
        # A scan is fine for a local sandbox; the deployed functions never scan.
        for page in dynamo.client("dynamodb").get_paginator("scan").paginate(
                TableName=dynamo.table(), FilterExpression="SK = :sk",
                ExpressionAttributeValues={":sk": {"S": "ORDER"}}):
            items += [dynamo.attrs(i) for i in page["Items"]]
        return sorted(items, key=lambda o: o["created_at"], reverse=True)

    def _index(self, query: dict[str, str]) -> str:
        e = html.escape
        rows = []
        for order in self._orders():
            buttons = "".join(
                f"<form method=\"post\" action=\"/_sandbox/events\"><input type=\"hidden\" name=\"order_id\" "
                f"value=\"{e(order['id'])}\"><input type=\"hidden\" name=\"type\" value=\"{kind}\">"
                f"<button type=\"submit\" data-event=\"{kind}\">{label}</button></form>"
                for kind, label in (("paid", "paid"), ("shipped", "shipped"), ("completed", "completed"),
                                    ("walk", "paid → shipped → completed"), ("cancelled", "cancel"),
                                    ("refunded", "refund all")))
            partial = (f"<form method=\"post\" action=\"/_sandbox/events\"><input type=\"hidden\" name=\"order_id\" "
                       f"value=\"{e(order['id'])}\"><input type=\"hidden\" name=\"type\" value=\"refunded\">"
                       f"<label>partial refund (minor units) <input name=\"amount\" inputmode=\"numeric\" "
                       f"size=\"8\"></label><button type=\"submit\">refund part</button></form>")
            lines = ", ".join(f"{e(ln['title'])} × {ln['quantity']}" for ln in order["lines"])
            rows.append(f"<tr data-order-id=\"{e(order['id'])}\" data-status=\"{e(order['status'])}\">"
                        f"<td><code>{e(order['id'][:12])}…</code><br>{e(order['partner'])} · {e(order['merchant'])}"
                        f"</td><td>{lines}</td><td>{order['total']} {e(order['currency'])}</td>"
                        f"<td class=\"status\">{e(order['status'])}</td><td class=\"actions\">{buttons}{partial}</td></tr>")
        message = f"<p class=\"message\" role=\"status\">{e(query['message'])}</p>" if query.get("message") else ""
        return (f"<h1>Sandbox merchant</h1>{message}<p>Orders handed to merchants by this local run "
                f"({len(self.received)} received by webhook). Buttons send correctly signed events to "
                f"<code>/api/merchants/&lt;partner&gt;/events</code>.</p><table><thead><tr><th>order</th><th>lines</th>"
                f"<th>total (minor units)</th><th>status</th><th>send event</th></tr></thead><tbody>"
                f"{''.join(rows) or '<tr><td colspan=5>No orders yet.</td></tr>'}</tbody></table>"
                f"<p>Statements: run <code>chuchuang commissions</code> in the site folder.</p>")

    def _redirect(self, partner: str, params: list[tuple[str, str]]) -> str:
        e = html.escape
        link = dict(params).get("link", "")
        items = "".join(f"<li><code>{e(k)}</code> = <code>{e(v)}</code></li>" for k, v in params if k != "link")
        return (f"<h1>{e(partner)}: redirect handoff</h1><p>In production the fan would now be on the partner's "
                f"product page:</p><p><code class=\"link\">{e(link)}</code></p><p>with these tracking parameters "
                f"added:</p><ul data-tracking>{items}</ul><p><a href=\"/_sandbox/\">Open the sandbox merchant</a> to "
                f"mark the order paid, shipped, completed or refunded.</p>")

    def _pay(self, partner: str, merchant_order_id: str) -> str:
        e = html.escape
        with self.lock:
            found = next((r for r in self.received if r["merchant_order_id"] == merchant_order_id), None)
        if found is None:
            return f"<h1>Unknown order {e(merchant_order_id)}</h1>"
        order = found["order"]
        return (f"<h1>{e(partner)} checkout (sandbox)</h1><p>Merchant order <code>{e(merchant_order_id)}</code> "
                f"for {order['total']['amount']} {e(order['total']['currency'])} (minor units). A real merchant would "
                f"ask for the fan's address and payment here — chuchuang never does.</p>"
                f"<p><a href=\"/_sandbox/\">Open the sandbox merchant</a> to send events for "
                f"<a href=\"/checkout/?order={quote(order['id'])}\">this order</a>.</p>")


SANDBOX_CSS = b"""body.sandbox{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#222}
.sandbox-banner{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem 1rem;border-radius:6px;font-weight:600}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5rem;vertical-align:top;text-align:left}
.actions form{display:inline-block;margin:0 .25rem .25rem 0}button{min-height:36px;padding:0 .75rem;cursor:pointer}
.status{font-weight:600}.message{background:#eef6ee;padding:.5rem 1rem;border-radius:6px}code{font-size:.9em}
"""
