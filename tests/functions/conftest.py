"""Fixtures for the serverless side: fake AWS, a catalog, a sandbox merchant, an API client."""
from __future__ import annotations

import json
import os
import threading
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                  AWS_REGION="us-east-1", CHUCHUANG_TABLE="chuchuang-test")
for _name in ("AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE", "CHUCHUANG_SITE_ORIGIN"):
    os.environ.pop(_name, None)

from moto import mock_aws  # noqa: E402  (after the fake credentials)

from functions import signatures, store  # noqa: E402
from functions.catalog import Catalog, Handoff, PartnerEntry, Product  # noqa: E402
from generator import local_api  # noqa: E402

OPENAPI = Path(__file__).parents[2] / "functions" / "openapi.yaml"
EVENTS = Path(__file__).parent.parent / "events"
TMALL_SECRET = "tmall-test-secret"
WEIMAI_SECRET = "weimai-test-secret"


@dataclass
class Merchant:
    """A sandbox webhook merchant on 127.0.0.1 that records every order it is sent."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.fail_next = 0


@pytest.fixture(scope="session")
def merchant() -> Iterator[Merchant]:
    state = Merchant()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with state.lock:
                state.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                failing = state.fail_next > 0
                state.fail_next -= failing
            if failing:
                self.send_response(503)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            order = json.loads(body)
            answer = json.dumps({"merchant_order_id": f"WM-{order['id'][:8]}",
                                 "payment_url": f"https://pay.weimai.com/p/{order['id']}"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/orders"
    yield state
    server.shutdown()
    server.server_close()


def make_catalog(merchant_url: str, stock: dict[str, int] | None = None) -> Catalog:
    """Five products, two creators, two merchants, one redirect and one webhook partner."""
    stock = stock or {}
    partners = {
        "tmall": PartnerEntry("tmall", "天猫", Handoff("redirect", "{link}",
                                                       {"pid": "{creator_pid}", "cc_order": "{order_id}"}),
                              "TMALL_EVENTS_SECRET"),
        "weimai": PartnerEntry("weimai", "微卖", Handoff("webhook", merchant_url), "WEIMAI_SECRET"),
    }

    def product(creator: str, slug: str, partner: str, merchant: str, price: int, rate: str, rule: str,
                link: str, title: str) -> Product:
        pid = f"{creator}--{slug}"
        return Product(id=pid, url=f"/{creator}/{slug}/", title=title, creator=creator, partner=partner,
                       merchant=merchant, price=price, currency="CNY", stock=stock.get(pid, 10), rate=rate,
                       rate_rule=rule, link=link)

    products = [
        product("lin-xiaoyu", "lancome-serum", "tmall", "lancome-official", 108000, "0.08",
                "agreement:lin-xiaoyu/lancome-official/2026-11-01",
                "https://detail.tmall.com/item.htm?id=5231234567&spm=a1.b2", "兰蔻小黑瓶精华 50ml"),
        product("lin-xiaoyu", "lancome-toner", "tmall", "lancome-official", 33333, "0.08",
                "agreement:lin-xiaoyu/lancome-official/2026-11-01",
                "https://detail.tmall.com/item.htm?id=5231234568", "兰蔻粉水 400ml"),
        product("chen-mo", "tea-set", "weimai", "teahouse", 19999, "0.10", "partner:weimai/default",
                "https://shop.weimai.com/item/88", "青瓷茶具"),
        product("chen-mo", "tea-leaves", "weimai", "teahouse", 8888, "0.10", "partner:weimai/default",
                "https://shop.weimai.com/item/89", "龙井 250g"),
        product("chen-mo", "lancome-mask", "tmall", "lancome-official", 45000, "0.05", "partner:tmall/default",
                "https://detail.tmall.com/item.htm?id=5231234569", "兰蔻面膜"),
    ]
    return Catalog(currency="CNY", lock_days=15, partners=partners, products={p.id: p for p in products})


@pytest.fixture
def catalog(merchant: Merchant) -> Catalog:
    return make_catalog(merchant.url)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, catalog: Catalog, merchant: Merchant) -> Iterator[dict[str, str]]:
    """moto in-process with the table, the queues and the catalog synced."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("CHUCHUANG_TABLE", "chuchuang-test")
    monkeypatch.setenv("TMALL_EVENTS_SECRET", TMALL_SECRET)
    monkeypatch.setenv("WEIMAI_SECRET", WEIMAI_SECRET)
    merchant.reset()
    with mock_aws():
        store.create_table("chuchuang-test")
        sqs = store.client("sqs")
        dlq = sqs.create_queue(QueueName="handoff-dlq")["QueueUrl"]
        queue = sqs.create_queue(QueueName="handoff")["QueueUrl"]
        monkeypatch.setenv("CHUCHUANG_HANDOFF_QUEUE", queue)
        store.sync_catalog(catalog)
        yield {"queue": queue, "dlq": dlq}


def _openapi() -> dict[str, Any]:
    import yaml

    global _OPENAPI_DOC
    if _OPENAPI_DOC is None:
        _OPENAPI_DOC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return _OPENAPI_DOC


_OPENAPI_DOC: dict[str, Any] | None = None


def check_response(method: str, path: str, status: int, body: Any) -> None:
    """Assert a real response is documented in openapi.yaml and matches its schema."""
    import jsonschema

    doc = _openapi()
    parts = path.strip("/").split("/")
    for template in doc["paths"]:
        pattern = template.strip("/").split("/")
        if len(pattern) == len(parts) and all(p.startswith("{") or p == q for p, q in zip(pattern, parts)):
            break
    else:
        if status in (404, 405):
            return
        raise AssertionError(f"{path} is not documented")
    operation = doc["paths"][template].get(method.lower())
    if operation is None:
        assert status in (204, 405), f"{method} {template} is not documented"
        return
    response = operation["responses"].get(str(status)) or operation["responses"].get("default")
    assert response is not None, f"{method} {template} does not document status {status}"
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content")
    if content is None:
        assert body is None, f"{method} {template} {status} documents no body"
        return
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def error(self) -> str | None:
        body = self.json
        return body["error"]["code"] if isinstance(body, dict) and "error" in body else None


class Api:
    """Calls the Lambda handler through the local adapter and checks replies against openapi.yaml."""

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None, query: str = "") -> Reply:
        sent = dict(headers or {})
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        if body is not None and raw is None:
            sent.setdefault("content-type", "application/json")
        status, out_headers, out = local_api.dispatch(method, path, query, sent, data)
        reply = Reply(status, out_headers, out)
        check_response(method, path, reply.status, reply.json)
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)

    # helpers for the common flows
    def cart(self, items: dict[str, int]) -> str:
        reply = self.post("/api/carts", {"items": [{"product_id": k, "quantity": v} for k, v in items.items()]})
        assert reply.status == 201, reply.json
        return reply.json["id"]

    def checkout(self, cart_id: str, key: str) -> Reply:
        return self.post(f"/api/carts/{cart_id}/checkout", headers={"idempotency-key": key})

    def event(self, partner: str, body: dict[str, Any], secret: str, timestamp: int | None = None) -> Reply:
        import time

        data = json.dumps(body).encode()
        header = signatures.sign(secret, data, timestamp if timestamp is not None else int(time.time()))
        return self.post(f"/api/merchants/{partner}/events", raw=data,
                         headers={"content-type": "application/json", signatures.HEADER: header})


@pytest.fixture
def api(aws: dict[str, str]) -> Api:
    return Api()


def stock_of(product_id: str) -> tuple[int, int]:
    item = store.get_products([product_id], consistent=True)[product_id]
    return item.stock, item.sold


@contextlib.contextmanager
def live_api(catalog: Catalog, table: str) -> Iterator[str]:
    """The embedded backend (with its handoff worker) and the real local API server; yields its base URL."""
    from generator import backend

    saved = os.environ.get("WEIMAI_SECRET")
    os.environ["WEIMAI_SECRET"] = WEIMAI_SECRET
    running = backend.start_backend(catalog, table=table)
    server = local_api.serve_api()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        running.stop()
        if saved is None:
            os.environ.pop("WEIMAI_SECRET", None)
        else:
            os.environ["WEIMAI_SECRET"] = saved
