"""Helpers for the hardening tests: table snapshots, money checks and faults at the boto3 boundary.

Faults are injected with botocore's own event hooks on the clients the
production code uses (``store.client(...)``), never by editing our code:

* ``before-send``  — answer instead of AWS (an error response; the request never
  reaches moto) or raise (a timeout before the request left), inside botocore's retry
  loop, so the SDK retries as it would;
* ``needs-retry``  — declare a request that *succeeded* as failed, so the SDK sends it
  again: the write happened and its answer was lost;
* ``after-call``   — raise after a call that went through: the caller sees a timeout
  for a write that is in the table.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.retries.standard
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from functions import dynamo, store


def scan() -> list[dict]:
    """Every item of the table, as a consistent Scan returns it."""
    found = []
    for page in store.client("dynamodb").get_paginator("scan").paginate(TableName=store.table(),
                                                                         ConsistentRead=True):
        found += page["Items"]
    return found


def in_memory() -> list[dict]:
    """The same items straight from moto's in-process table (``mock_aws`` only).

    A Scan after every step of the stateful model would spend most of its time in
    moto serialising the answer; the items are the same.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].get_table(store.table())
    return [item.to_json()["Attributes"] for item in table.all_items()]


def snapshot(read: Callable[[], list[dict]] = scan) -> list[tuple[str, str, str]]:
    """Every item of the table, raw and sorted: two equal snapshots mean nothing was written."""
    return sorted((it["PK"]["S"], it["SK"]["S"], json.dumps(it, sort_keys=True)) for it in read())


def floats_in(value: Any, path: str = "$") -> list[str]:
    """Paths of every float (or float-looking stored number) inside ``value``."""
    found: list[str] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            found.append(where)
        elif isinstance(item, dict):
            if set(item) == {"N"} and isinstance(item["N"], str) and not item["N"].lstrip("-").isdigit():
                found.append(where)  # a DynamoDB number that is not an integer
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return found


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def aws_error(code: str, status: int = 400, message: str = "injected", **extra: Any) -> AWSResponse:
    """An AWS JSON-protocol error answer (DynamoDB and SQS both speak it)."""
    body = json.dumps({"__type": f"com.amazonaws.injected#{code}", "message": message, **extra}).encode()
    headers = {"x-amzn-requestid": "injected", "content-type": "application/x-amz-json-1.0",
               "x-amzn-query-error": f"{code};Sender"}
    return AWSResponse("https://injected.invalid/", status, headers, _Raw(body))


def timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="https://injected.invalid/")


@dataclass
class Fault:
    """What to do to the ``operation`` calls of ``service`` (the first ``times`` of them, or all)."""

    service: str
    operation: str
    kind: str                      # "answer" | "raise" | "lose-response" | "raise-after"
    make: Callable[[], Any] | None = None
    times: int | None = None
    when: Callable[[dict], bool] = lambda params: True
    hits: int = 0

    def wants(self, params: dict | None) -> bool:
        return (self.times is None or self.hits < self.times) and (params is None or self.when(params))


@dataclass
class Faults:
    """Installs fault hooks on the production clients; ``calls`` counts every API call seen."""

    faults: list[Fault] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)

    def add(self, service: str, operation: str, kind: str, make: Callable[[], Any] | None = None, *,
            times: int | None = None, when: Callable[[dict], bool] = lambda params: True) -> Fault:
        fault = Fault(service, operation, kind, make, times, when)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def _find(self, service: str, operation: str, kinds: tuple[str, ...], params: dict | None) -> Fault | None:
        for fault in self.faults:
            if (fault.service, fault.operation) == (service, operation) and fault.kind in kinds \
                    and fault.wants(params):
                return fault
        return None

    def install(self, service: str) -> None:
        events = store.client(service).meta.events

        def before_build(params, model, context, **_: Any) -> None:
            self.calls[(service, model.name)] += 1
            context["fault_params"] = params

        def before_send(request, event_name, **_: Any) -> Any:
            fault = self._find(service, event_name.rpartition(".")[2], ("answer", "raise"), _body(request.body))
            if fault is None:
                return None
            fault.hits += 1
            if fault.kind == "raise":
                raise fault.make()
            # Every before-send handler runs; moto's (after this one) would still apply the
            # request. Pointing it nowhere makes moto pass, so only our answer arrives.
            request.url = "https://injected.invalid/"
            return fault.make()

        def needs_retry(response, operation, caught_exception, request_dict, **_: Any) -> Any:
            if caught_exception is not None or response is None or response[0].status_code >= 300:
                return None
            fault = self._find(service, operation.name, ("lose-response",), _body(request_dict.get("body")))
            if fault is None:
                return None
            fault.hits += 1
            return 0  # "the answer never came": botocore sends the same request again, now

        def after_call(http_response, parsed, model, context, **_: Any) -> None:
            if http_response is None or http_response.status_code >= 300:
                return
            fault = self._find(service, model.name, ("raise-after",), context.get("fault_params"))
            if fault is not None:
                fault.hits += 1
                raise fault.make()

        events.register_first("before-parameter-build", before_build, unique_id="faults-before-build")
        events.register_first("before-send", before_send, unique_id="faults-before-send")
        events.register_first("needs-retry", needs_retry, unique_id="faults-needs-retry")
        events.register("after-call", after_call, unique_id="faults-after-call")


def _body(body: Any) -> dict:
    try:
        return json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}


@contextmanager
def injected(monkeypatch: Any) -> Iterator[Faults]:
    """Fresh production clients with fault hooks (no backoff sleeps); gone again afterwards."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    store.reset()
    faults = Faults()
    for service in ("dynamodb", "sqs"):
        faults.install(service)
    try:
        yield faults
    finally:
        store.reset()


def aws_answer(body: dict, status: int = 200) -> AWSResponse:
    """A made-up AWS JSON-protocol answer (e.g. a batch send whose entries all failed)."""
    headers = {"x-amzn-requestid": "injected", "content-type": "application/x-amz-json-1.0"}
    return AWSResponse("https://injected.invalid/", status, headers, _Raw(json.dumps(body).encode()))


def _bucket(entry: dict) -> str:
    return "pending" if entry["status"] == "pending" or entry.get("reverses") == "pending" else "confirmed"


def assert_consistent(read: Callable[[], list[dict]] = scan) -> dict[str, Any]:
    """The table agrees with itself after anything that happened; returns what it read.

    * ``sold`` of every product is the units of its orders that were not cancelled, never negative;
    * every order came from exactly one recorded checkout (no orphan, no duplicate);
    * every order line has exactly one ``pending`` checkout entry (seq 0) for its commission, and
      its entries add up to what the line still owes (commission − reversed);
    * per line and bucket the running sum never goes negative: each reversal or release takes back
      only what an earlier entry put in;
    * each creator's ledger adds up to what their orders owe them;
    * no stored number and no stored money is a float.
    """
    raw = read()
    every = [{**dynamo.attrs(item), "PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in raw]
    products = {i["id"]: i for i in every if i["PK"].startswith("PRODUCT#")}
    orders = {i["id"]: i for i in every if i["PK"].startswith("ORDER#")}
    entries = [i for i in every if i["PK"].startswith("CREATOR#")]
    records = [i for i in every if i["PK"].startswith("IDEMPOTENCY#")]

    sold: Counter = Counter()
    for order in orders.values():
        if order["status"] != "cancelled":
            for line in order["lines"]:
                sold[line["product_id"]] += line["quantity"]
    for pid, product in products.items():
        assert product["sold"] >= 0, (pid, product["sold"])
        assert product["sold"] == sold[pid], (pid, product["sold"], sold[pid])
    assert set(sold) <= set(products)

    recorded = [o["id"] for r in records for o in json.loads(r["response"])["orders"]]
    assert sorted(recorded) == sorted(orders), "an order without its checkout record, or one recorded twice"

    by_line: dict[tuple[str, int], list[dict]] = {}
    for entry in entries:
        assert entry["PK"] == f"CREATOR#{entry['creator']}"
        by_line.setdefault((entry["order_id"], entry["line"]), []).append(entry)
    owed: Counter = Counter()
    expected_lines = set()
    for order in orders.values():
        assert 0 <= order["refunded"] <= order["total"], order["id"]
        assert order["total"] == sum(line["amount"] for line in order["lines"])
        for line in order["lines"]:
            key = (order["id"], line["line"])
            expected_lines.add(key)
            found = sorted(by_line.get(key, []), key=lambda e: e["seq"])
            assert found, f"order {order['id']} line {line['line']} has no ledger entry"
            checkout = [e for e in found if e["seq"] == 0]
            assert len(checkout) == 1 and checkout[0]["status"] == "pending"
            assert checkout[0]["commission"] == line["commission"] and checkout[0]["creator"] == line["creator"]
            assert len({e["seq"] for e in found}) == len(found), "two entries share a seq"
            running = {"pending": 0, "confirmed": 0}
            for entry in found:
                running[_bucket(entry)] += entry["commission"]
                assert running[_bucket(entry)] >= 0, f"{entry['SK']} takes back more than was entered"
                if entry["status"] == "reversal":
                    assert entry["commission"] < 0
            assert 0 <= line["reversed"] <= line["commission"]
            assert sum(e["commission"] for e in found) == line["commission"] - line["reversed"], key
            owed[line["creator"]] += line["commission"] - line["reversed"]
    assert set(by_line) == expected_lines, "ledger entries for an order that does not exist"
    balances: Counter = Counter()
    for entry in entries:
        balances[entry["creator"]] += entry["commission"]
    assert all(balances[c] == owed[c] for c in set(balances) | set(owed)), (dict(balances), dict(owed))
    assert floats_in(raw) == []
    return {"products": products, "orders": orders, "entries": entries, "records": records}
