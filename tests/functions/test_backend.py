"""The embedded backend behind the real local HTTP server: the handoff worker, and 50 fans racing for 5 units."""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from boto3.dynamodb.types import TypeSerializer
from conftest import live_api, make_catalog

from functions import carts, clock, commissions, store
from functions.ids import new_id
from generator import backend

PRODUCT = "lin-xiaoyu--lancome-serum"
THREADS = 50
LAST_UNITS = 5
REPETITIONS = 20


@pytest.fixture(scope="module")
def live(merchant) -> Iterator[str]:
    """The embedded backend (with its handoff worker) and the local API server, shared by the tests here."""
    with live_api(make_catalog(merchant.url), "chuchuang-local") as url:
        yield url


def test_backend_sets_up_table_queues_and_redrive(live):
    sqs = store.client("sqs")
    queue = os.environ["CHUCHUANG_HANDOFF_QUEUE"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])
                        ["Attributes"]["RedrivePolicy"])
    assert int(policy["maxReceiveCount"]) == backend.MAX_RECEIVE_COUNT
    assert policy["deadLetterTargetArn"].endswith("-dlq")
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert store.load_config().lock_days == 15


def test_webhook_order_is_handed_off_by_the_worker_thread(live, merchant):
    merchant.reset()
    status, cart = _request(live, "POST", "/api/carts", {"items": [{"product_id": "chen-mo--tea-set", "quantity": 1}]})
    status, result = _request(live, "POST", f"/api/carts/{cart['id']}/checkout", headers={"idempotency-key": "w-1"})
    assert status == 201 and result["orders"][0]["status"] == "pending_handoff"
    order_id = result["orders"][0]["id"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status, order = _request(live, "GET", f"/api/orders/{order_id}")
        if order["status"] == "handed_off":
            break
        time.sleep(0.1)
    assert order["status"] == "handed_off" and order["payment_url"] == f"https://pay.weimai.com/p/{order_id}"
    assert [json.loads(r["body"])["id"] for r in merchant.received] == [order_id]


def test_unknown_paths_and_huge_bodies_are_refused_by_the_local_server(live):
    status, body = _request(live, "GET", "/not-api")
    assert status == 404 and body["error"]["code"] == "not_found"
    request = urllib.request.Request(live + "/api/carts", data=b"x" * (2 * 1024 * 1024), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as err:
        assert err.code == 413
    except (ConnectionError, urllib.error.URLError):
        pass  # the server may close before the client finishes sending


def _request(base: str, method: str, path: str, body: dict | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    sent = {"content-type": "application/json", **(headers or {})} if data else dict(headers or {})
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _seed_carts(n: int) -> list[str]:
    """n carts holding one unit each, written in batches (setup, not the race)."""
    serialise = TypeSerializer().serialize
    now = clock.now()
    made = [carts.Cart(new_id(), (carts.CartLine(PRODUCT, 1),), clock.iso(now), clock.iso(now),
                       int(now.timestamp()) + 3600) for _ in range(n)]
    ddb = store.client("dynamodb")
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={store.table(): [
            {"PutRequest": {"Item": {**store.cart_key(c.id), **{k: serialise(v) for k, v in c.to_item().items()}}}}
            for c in made[start:start + 25]]})
    return [c.id for c in made]


def test_exactly_the_last_units_sell_under_contention(live, merchant, monkeypatch):
    catalog = make_catalog(merchant.url, {PRODUCT: LAST_UNITS})
    for repetition in range(REPETITIONS):
        # A fresh table each round: moto deep-copies the whole table on every transaction.
        monkeypatch.setenv("CHUCHUANG_TABLE", f"chuchuang-race-{repetition}")
        store.create_table(f"chuchuang-race-{repetition}")
        store.sync_catalog(catalog)
        results: list[tuple[int, dict]] = [(0, {})] * THREADS
        gate = threading.Barrier(THREADS)

        cart_ids = _seed_carts(THREADS)

        def fan(i: int, gate: threading.Barrier, cart_id: str, key: str, results: list) -> None:
            gate.wait()
            results[i] = _request(live, "POST", f"/api/carts/{cart_id}/checkout", headers={"idempotency-key": key})

        threads = [threading.Thread(target=fan, args=(i, gate, cart_ids[i], f"race-{repetition}-{i}", results))
                   for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] * LAST_UNITS + [409] * (THREADS - LAST_UNITS), statuses
        assert all(body["error"]["code"] == "out_of_stock" for status, body in results if status == 409)
        item = store.get_products([PRODUCT], consistent=True)[PRODUCT]
        assert (item.stock, item.sold, item.available) == (LAST_UNITS, LAST_UNITS, 0)
        winners = sorted(body["orders"][0]["id"] for status, body in results if status == 201)
        entries = commissions.load_ledger("lin-xiaoyu")
        assert sorted(e.order_id for e in entries) == winners
        assert all(store.get_order(order_id)["status"] == "handed_off" for order_id in winners)
