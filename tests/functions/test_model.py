"""A stateful model of carts, stock, orders and the ledger, driven through the real handlers on moto.

Hypothesis picks a sequence of fans, merchants, the SQS worker and the operator
acting on one small shop (stocks of 2-3 units so sell-outs happen): carts are
filled and emptied, checked out and retried with the same key, merchant events
arrive duplicated and out of order (refused ones are redelivered later, accepted
ones replayed), handoff messages are delivered twice, and the catalog is
redeployed with another allocation or rate. A plain-Python model predicts every
answer; after every step the invariants below are checked against the whole table.

Invariants (after every step):

* available stock is never negative, and ``sold`` equals the units of the orders
  that were not cancelled;
* ``sold`` never exceeds the allocation, except when a redeploy lowered the
  allocation below what had already sold — then nothing is available and no
  new sale happens;
* every order has exactly its commission entries, every reversal or release takes
  back only what an earlier entry put in, each creator's balance equals the sum
  of their ledger and equals what their orders owe (model and table agree);
* no float anywhere: not in a stored number, not in a response.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from itertools import count

import pytest
from conftest import TMALL_SECRET, WEIMAI_SECRET, make_catalog
from evidence import assert_consistent, floats_in, in_memory
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from functions import handoff, signatures, store, worker
from generator import local_api

PRODUCTS = ("lin-xiaoyu--lancome-serum", "lin-xiaoyu--lancome-toner", "chen-mo--lancome-mask",
            "chen-mo--tea-set", "chen-mo--tea-leaves")
START_STOCK = {"lin-xiaoyu--lancome-serum": 3, "lin-xiaoyu--lancome-toner": 2, "chen-mo--lancome-mask": 2,
               "chen-mo--tea-set": 3, "chen-mo--tea-leaves": 2}
RATES = ("0.05", "0.08", "0.10", "0.125", "0.2")
SECRETS = {"tmall": TMALL_SECRET, "weimai": WEIMAI_SECRET}
# The order state machine as README.md states it, written out independently of functions/events.py.
ALLOWED_FROM = {"paid": {"handed_off"}, "shipped": {"paid"}, "completed": {"shipped"},
                "cancelled": {"pending_handoff", "handed_off", "paid"}, "refunded": {"paid", "shipped", "completed"}}
KINDS = ("paid", "shipped", "completed", "cancelled", "refunded", "partial")
NEXT = {"handed_off": "paid", "paid": "shipped", "shipped": "completed"}   # the happy path
_tables = count()


@dataclass
class Line:
    product_id: str
    creator: str
    quantity: int
    amount: int
    commission: int
    reversed: int = 0


@dataclass
class Order:
    id: str
    partner: str
    total: int
    lines: list[Line]
    status: str
    refunded: int = 0

    def owed(self) -> Counter:
        owed: Counter = Counter()
        for line in self.lines:
            owed[line.creator] += line.commission - line.reversed
        return owed


@dataclass
class Reply:
    status: int
    headers: dict
    body: object

    @property
    def error(self) -> str | None:
        return self.body["error"]["code"] if isinstance(self.body, dict) and "error" in self.body else None


@dataclass
class Merchant:
    """The webhook merchant behind ``handoff.SEND``: counts the orders it is sent."""

    posts: Counter = field(default_factory=Counter)

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        order = json.loads(body)
        assert headers["Idempotency-Key"] == order["id"]
        signatures.verify(headers[signatures.HEADER], body, WEIMAI_SECRET, int(time.time()))
        self.posts[order["id"]] += 1
        return 200, json.dumps({"merchant_order_id": f"WM-{order['id'][:8]}",
                                "payment_url": f"https://pay.weimai.com/p/{order['id']}"}).encode()


def call(method: str, path: str, body: object = None, headers: dict | None = None, raw: bytes | None = None) -> Reply:
    sent = dict(headers or {})
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    if data:
        sent.setdefault("content-type", "application/json")
    status, out_headers, out = local_api.dispatch(method, path, "", sent, data)
    doc = json.loads(out) if out else None
    assert floats_in(doc) == [], f"{method} {path} answered a float: {doc}"
    assert status < 500, (method, path, status, doc)
    return Reply(status, out_headers, doc)


def round_down(amount: int, rate: str) -> int:
    return int((Decimal(amount) * Decimal(rate)).to_integral_value(rounding=ROUND_DOWN))


CATALOG = make_catalog("https://api.weimai.com/v1/orders", dict(START_STOCK))
MAX_REDEPLOYS = 2   # a sync rewrites every product (~100 ms on moto): a few per story are plenty


def synced_items() -> list[dict]:
    """What ``store.sync_catalog(CATALOG)`` writes to an empty table, synced once per test run."""
    table = os.environ["CHUCHUANG_TABLE"]
    os.environ["CHUCHUANG_TABLE"] = f"model-seed-{os.getpid()}"
    try:
        store.create_table(os.environ["CHUCHUANG_TABLE"])
        store.sync_catalog(CATALOG)
        return in_memory()
    finally:
        os.environ["CHUCHUANG_TABLE"] = table


class Shop(RuleBasedStateMachine):
    merchant: Merchant        # set by the test
    seed: tuple[dict, ...] = ()   # the synced catalog, copied into each story's fresh table
    stories = 0                   # how many examples ran to the end

    def __init__(self) -> None:
        super().__init__()
        n = next(_tables)
        self.table = f"model-{os.getpid()}-{n}"
        os.environ["CHUCHUANG_TABLE"] = self.table
        store.create_table(self.table)
        store.client("dynamodb").batch_write_item(RequestItems={self.table: [
            {"PutRequest": {"Item": item}} for item in self.seed]})
        self.queue = store.client("sqs").create_queue(QueueName=f"model-{os.getpid()}-{n}")["QueueUrl"]
        os.environ["CHUCHUANG_HANDOFF_QUEUE"] = self.queue
        self.catalog = CATALOG
        self.redeploys = 0
        self.allocation = dict(START_STOCK)
        self.sold: Counter = Counter()
        self.lowered: set[str] = set()  # allocation lowered below what had sold
        self.carts: dict[str, dict] = {}
        self.orders: dict[str, Order] = {}
        self.keys: dict[str, tuple[str, object]] = {}
        self.accepted: list[tuple[str, bytes]] = []
        self.refused: list[tuple[str, dict]] = []
        self.events = count()
        # Choices are made by position in these insertion-ordered dicts, never by the random ids,
        # so Hypothesis replays and shrinks the same story.

    def teardown(self) -> None:
        Shop.stories += 1
        store.client("dynamodb").delete_table(TableName=self.table)
        store.client("sqs").delete_queue(QueueUrl=self.queue)

    # --- the model's view ------------------------------------------------------------------------

    def available(self, pid: str) -> int:
        return max(0, self.allocation[pid] - self.sold[pid])

    def product(self, pid: str):
        return self.catalog.products[pid]

    # --- fans ----------------------------------------------------------------------------------------

    @rule(items=st.dictionaries(st.sampled_from(PRODUCTS), st.integers(1, 3), min_size=1, max_size=3))
    def new_cart(self, items: dict[str, int]) -> None:
        reply = call("POST", "/api/carts", {"items": [{"product_id": p, "quantity": q} for p, q in items.items()]})
        if any(q > self.available(p) for p, q in items.items()):
            assert (reply.status, reply.error) == (409, "out_of_stock")
            return
        assert reply.status == 201, reply.body
        self.carts[reply.body["id"]] = {"lines": dict(items), "checked_out": False}
        self.check_cart(reply.body)

    @precondition(lambda self: self.carts)
    @rule(data=st.data(), pid=st.sampled_from(PRODUCTS), quantity=st.integers(0, 4), delete=st.booleans())
    def set_quantity(self, data, pid: str, quantity: int, delete: bool) -> None:
        cart_id = data.draw(st.sampled_from(list(self.carts)), label="cart")
        cart = self.carts[cart_id]
        path = f"/api/carts/{cart_id}/items/{pid}"
        reply = call("DELETE", path) if delete else call("PUT", path, {"quantity": quantity})
        quantity = 0 if delete else quantity
        if cart["checked_out"]:
            assert (reply.status, reply.error) == (409, "cart_checked_out")
        elif quantity == cart["lines"].get(pid, 0):
            assert reply.status == 200  # unchanged: nothing to check
        elif quantity and quantity > self.available(pid):
            assert (reply.status, reply.error) == (409, "out_of_stock")
            assert reply.body["error"]["details"]["products"][0]["available"] == self.available(pid)
        else:
            assert reply.status == 200, reply.body
            if quantity:
                cart["lines"][pid] = quantity
            else:
                cart["lines"].pop(pid, None)
            self.check_cart(reply.body)

    def check_cart(self, body: dict) -> None:
        lines = self.carts[body["id"]]["lines"]
        assert {ln["product_id"]: ln["quantity"] for ln in body["lines"]} == lines
        for ln in body["lines"]:
            price = self.product(ln["product_id"]).price
            assert ln["unit_price"] == {"amount": price, "currency": "CNY"}
            assert ln["line_total"]["amount"] == price * ln["quantity"]
            assert ln["available"] == self.available(ln["product_id"])

    @initialize(items=st.dictionaries(st.sampled_from(PRODUCTS), st.integers(1, 2), min_size=1, max_size=3))
    def first_order(self, items: dict[str, int]) -> None:
        """Every story starts with one order, so merchants and the worker have something to act on."""
        self.new_cart(items)
        self.check_out(list(self.carts)[-1])

    @precondition(lambda self: self.carts)
    @rule(data=st.data())
    def checkout(self, data) -> None:
        self.check_out(data.draw(st.sampled_from(list(self.carts)), label="cart"))

    def check_out(self, cart_id: str) -> None:
        key = f"key-{len(self.keys)}-{cart_id[:6]}"
        cart = self.carts[cart_id]
        reply = call("POST", f"/api/carts/{cart_id}/checkout", headers={"idempotency-key": key})
        event(f"checkout: {reply.status} {reply.error or ''}")
        if cart["checked_out"]:
            assert (reply.status, reply.error) == (409, "cart_checked_out")
            return
        if not cart["lines"]:
            assert (reply.status, reply.error) == (422, "cart_empty")
            return
        short = sorted(p for p, q in cart["lines"].items() if q > self.available(p))
        if short:
            assert (reply.status, reply.error) == (409, "out_of_stock")
            assert sorted(s["product_id"] for s in reply.body["error"]["details"]["products"]) == short
            return
        assert reply.status == 201, reply.body
        self.keys[key] = (cart_id, reply.body)
        cart["checked_out"] = True
        groups: dict[tuple[str, str], list[str]] = {}
        for pid in cart["lines"]:
            groups.setdefault((self.product(pid).partner, self.product(pid).merchant), []).append(pid)
        assert len(reply.body["orders"]) == len(groups)
        for doc in reply.body["orders"]:
            pids = groups[(doc["partner"], doc["merchant"])]
            assert [ln["product_id"] for ln in doc["lines"]] == pids
            lines = []
            for pid in pids:
                p, q = self.product(pid), cart["lines"][pid]
                lines.append(Line(pid, p.creator, q, p.price * q, round_down(p.price * q, p.rate)))
                self.sold[pid] += q
                assert self.sold[pid] <= self.allocation[pid]  # a sale only ever fits the allocation
            total = sum(ln.amount for ln in lines)
            assert doc["total"] == {"amount": total, "currency": "CNY"}
            status = "handed_off" if doc["partner"] == "tmall" else "pending_handoff"
            assert doc["status"] == status
            self.orders[doc["id"]] = Order(doc["id"], doc["partner"], total, lines, status)

    @precondition(lambda self: self.keys)
    @rule(data=st.data(), other_cart=st.booleans())
    def checkout_again_with_the_same_key(self, data, other_cart: bool) -> None:
        key = data.draw(st.sampled_from(list(self.keys)), label="key")
        cart_id, first = self.keys[key]
        others = [c for c in self.carts if c != cart_id]
        if other_cart and others:
            other = data.draw(st.sampled_from(others), label="other cart")
            reply = call("POST", f"/api/carts/{other}/checkout", headers={"idempotency-key": key})
            assert (reply.status, reply.error) == (422, "idempotency_key_reused")
            return
        reply = call("POST", f"/api/carts/{cart_id}/checkout", headers={"idempotency-key": key})
        assert reply.status == 201 and reply.body == first
        assert reply.headers.get("idempotent-replayed") == "true"

    # --- merchants -----------------------------------------------------------------------------------

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), kind=st.sampled_from(KINDS), twice=st.booleans(), cut=st.integers(1, 100),
          currency=st.sampled_from(["CNY", "CNY", "CNY", "USD"]))
    def merchant_event(self, data, kind: str, twice: bool, cut: int, currency: str) -> None:
        order = self.orders[data.draw(st.sampled_from(list(self.orders)), label="order")]
        body = {"event_id": f"evt-{next(self.events)}", "type": "refunded" if kind == "partial" else kind,
                "order_id": order.id}
        if kind == "partial":  # up to a bit more than what is left, so over-refunds are tried too
            left = order.total - order.refunded
            body["amount"] = {"amount": max(1, (left + 10) * cut // 100), "currency": currency}
        self.deliver_event(order.partner, body)
        if twice:  # the merchant's retry of the same delivery
            self.deliver_event(order.partner, body)

    @precondition(lambda self: any(o.status in NEXT for o in self.orders.values()))
    @rule(data=st.data(), twice=st.booleans(), steps=st.integers(1, 3))
    def merchant_moves_an_order_on(self, data, twice: bool, steps: int) -> None:
        """The next events on the happy path (random events alone rarely get past "paid")."""
        order = data.draw(st.sampled_from([o for o in self.orders.values() if o.status in NEXT]), label="order")
        for _ in range(steps):
            if order.status not in NEXT:
                break
            body = {"event_id": f"evt-{next(self.events)}", "type": NEXT[order.status], "order_id": order.id}
            for _ in range(1 + twice):
                self.deliver_event(order.partner, body)

    @precondition(lambda self: any(o.status in ALLOWED_FROM["refunded"] for o in self.orders.values()))
    @rule(data=st.data(), share=st.integers(1, 110), full=st.booleans())
    def merchant_refunds(self, data, share: int, full: bool) -> None:
        """A full refund, or a partial one of ``share`` % of what is left (over 100 %: refused)."""
        order = data.draw(st.sampled_from([o for o in self.orders.values()
                                           if o.status in ALLOWED_FROM["refunded"]]), label="order")
        body = {"event_id": f"evt-{next(self.events)}", "type": "refunded", "order_id": order.id}
        if not full:
            body["amount"] = {"amount": max(1, (order.total - order.refunded) * share // 100), "currency": "CNY"}
        self.deliver_event(order.partner, body)

    @precondition(lambda self: self.refused)
    @rule(data=st.data())
    def redeliver_a_refused_event(self, data) -> None:
        """Out of order: an event refused earlier (e.g. shipped before paid) arrives again later."""
        partner, body = self.refused.pop(data.draw(st.integers(0, len(self.refused) - 1), label="event"))
        self.deliver_event(partner, body)

    @precondition(lambda self: self.accepted)
    @rule(data=st.data())
    def replay_an_applied_event(self, data) -> None:
        partner, raw = data.draw(st.sampled_from(self.accepted), label="event")
        reply = self.send(partner, raw)
        assert reply.status == 200 and reply.body["duplicate"] is True

    def send(self, partner: str, raw: bytes) -> Reply:
        header = signatures.sign(SECRETS[partner], raw, int(time.time()))
        return call("POST", f"/api/merchants/{partner}/events", raw=raw,
                    headers={"content-type": "application/json", signatures.HEADER: header})

    def deliver_event(self, partner: str, body: dict) -> None:
        raw = json.dumps(body).encode()
        if any(raw == seen for _, seen in self.accepted):
            reply = self.send(partner, raw)
            assert reply.status == 200 and reply.body["duplicate"] is True
            return
        order = self.orders[body["order_id"]]
        kind, money = body["type"], body.get("amount")
        reply = self.send(partner, raw)
        event(f"event {kind}{' partial' if money else ''} from {order.status}: {reply.status}")
        if order.status not in ALLOWED_FROM[kind]:
            assert (reply.status, reply.error) == (409, "illegal_transition"), reply.body
            self.refused.append((partner, body))
            return
        if money and money["currency"] != "CNY":
            assert (reply.status, reply.error) == (422, "currency_mismatch")
            return
        if money and order.refunded + money["amount"] > order.total:
            assert (reply.status, reply.error) == (422, "refund_exceeds_total")
            return
        assert reply.status == 200 and reply.body["duplicate"] is False, reply.body
        self.accepted.append((partner, raw))
        if kind == "cancelled":
            order.status = "cancelled"
            for line in order.lines:
                self.sold[line.product_id] -= line.quantity
                line.reversed = line.commission
        elif kind == "refunded":
            order.refunded = order.refunded + money["amount"] if money else order.total
            if order.refunded == order.total:
                order.status = "refunded"
            for line in order.lines:
                line.reversed = min(line.commission, line.commission * order.refunded // order.total)
        else:
            order.status = kind
        assert reply.body["order"]["status"] == order.status
        assert reply.body["order"]["refunded"] == {"amount": order.refunded, "currency": "CNY"}

    # --- the handoff worker (SQS delivers at least once) -------------------------------------------------

    @rule()
    def deliver_handoff_messages_twice(self) -> None:
        sqs = store.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", [])
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m["Attributes"]} for m in messages]
        for _ in range(2):
            assert worker.handler({"Records": records}, None) == {"batchItemFailures": []}
        for record in records:
            order = self.orders[json.loads(record["body"])["order_id"]]
            if order.status == "pending_handoff":
                order.status = "handed_off"
        if records:
            sqs.delete_message_batch(QueueUrl=self.queue, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records)])
        for order_id, posts in self.merchant.posts.items():
            assert posts == 1, f"order {order_id} was posted {posts} times"

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def deliver_one_order_again(self, data) -> None:
        order = self.orders[data.draw(st.sampled_from(list(self.orders)), label="order")]
        changed = handoff.deliver(order.id)
        assert changed is (order.status == "pending_handoff")
        if changed:
            order.status = "handed_off"
        assert handoff.deliver(order.id) is False

    # --- the operator ------------------------------------------------------------------------------------

    @precondition(lambda self: self.redeploys < MAX_REDEPLOYS)
    @rule(pid=st.sampled_from(PRODUCTS), allocation=st.integers(0, 5), rate=st.sampled_from(RATES))
    def redeploy(self, pid: str, allocation: int, rate: str) -> None:
        self.redeploys += 1
        products = dict(self.catalog.products)
        products[pid] = replace(products[pid], stock=allocation, rate=rate)
        self.catalog = replace(self.catalog, products=products)
        store.sync_catalog(self.catalog)
        self.allocation[pid] = allocation
        if allocation < self.sold[pid]:
            self.lowered.add(pid)

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def table_agrees_with_itself_and_the_model(self) -> None:
        state = assert_consistent(in_memory)  # stock vs orders, entries per line, reversals, balances, no floats
        for pid, item in state["products"].items():
            available = store.StockItem(**{k: item[k] for k in store.StockItem.__dataclass_fields__}).available
            assert available >= 0 and available == self.available(pid)
            assert (item["stock"], item["sold"]) == (self.allocation[pid], self.sold[pid])
            if item["sold"] > item["stock"]:
                assert pid in self.lowered and available == 0
        assert sorted(state["orders"]) == sorted(self.orders)
        owed: Counter = Counter()
        for order_id, order in self.orders.items():
            stored = state["orders"][order_id]
            assert (stored["status"], stored["refunded"]) == (order.status, order.refunded)
            assert [(ln["commission"], ln["reversed"]) for ln in stored["lines"]] == [
                (ln.commission, ln.reversed) for ln in order.lines]
            owed.update(order.owed())
        balances: Counter = Counter()
        for entry in state["entries"]:
            balances[entry["creator"]] += entry["commission"]
        assert all(balances[c] == owed[c] for c in set(balances) | set(owed))


@pytest.mark.slow
def test_the_shop_model_holds_its_invariants(aws, monkeypatch):
    """At least 200 stories of up to 15 steps each (about 40 s on one core; ``MODEL_EXAMPLES`` overrides)."""
    examples = int(os.environ.get("MODEL_EXAMPLES", "200"))
    Shop.merchant, Shop.stories = Merchant(), 0
    Shop.seed = tuple(synced_items())
    monkeypatch.setattr(handoff, "SEND", Shop.merchant)
    monkeypatch.setenv("CHUCHUANG_TABLE", os.environ["CHUCHUANG_TABLE"])
    monkeypatch.setenv("CHUCHUANG_HANDOFF_QUEUE", os.environ["CHUCHUANG_HANDOFF_QUEUE"])
    run_state_machine_as_test(Shop, settings=settings(
        max_examples=examples, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert Shop.stories >= examples
