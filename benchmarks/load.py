#!/usr/bin/env python3
"""Concurrent fans against ``chuchuang serve``: throughput, latency and proof of no oversell.

Copies the demo site to a temporary folder, caps the allocation of a few
products (``--stock``, so they sell out during the run), starts
``chuchuang serve --no-watch`` on a free port of 127.0.0.1 with the embedded
backend, and lets ``--fans`` threads buy: each fan, over and over, creates a
cart with one unit of one of the hot products and checks it out (with its own
``Idempotency-Key``), until the time or request budget is spent. Every request
goes to 127.0.0.1 only, and the run stops by itself.

It reports requests per second, p50/p95/p99 latency (per request, and per
cart → checkout purchase), the answers by status, and the proof of no oversell
read from the table afterwards: for each hot product, ``sold`` equals the
units of the orders the fans were given (201), equals ``min(demand, stock)``,
and every order has its commission entry.

    python benchmarks/load.py                       # 16 fans, 20 s, 3 products of 40 units
    python benchmarks/load.py --fans 32 --seconds 30 --stock 100 --json
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"   # the only address this benchmark ever talks to


@dataclass
class Fan:
    """What one fan thread saw."""

    latencies: list[float] = field(default_factory=list)     # every request, seconds
    purchases: list[float] = field(default_factory=list)     # cart + checkout, seconds, when it sold
    statuses: Counter = field(default_factory=Counter)
    sold: Counter = field(default_factory=Counter)           # units per product from 201 answers
    demand: Counter = field(default_factory=Counter)         # units per product the fan tried to buy
    order_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare_site(stock: int, products: int) -> tuple[Path, list[str]]:
    """A temporary copy of the demo site whose first ``products`` products have ``stock`` units."""
    root = Path(tempfile.mkdtemp(prefix="chuchuang-load-"))
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "templates", root / "templates")
    hot: list[str] = []
    for path in sorted((root / "content").glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        if path.name == "_index.md" or re.search(r"^draft:\s*true", text, re.MULTILINE):
            continue
        slug = re.search(r"^slug:\s*(\S+)", text, re.MULTILINE)
        hot.append(f"{path.parent.name}--{slug.group(1) if slug else path.stem}")
        path.write_text(re.sub(r"^stock:.*$", f"stock: {stock}", text, count=1, flags=re.MULTILINE), encoding="utf-8")
        if len(hot) == products:
            break
    return root, hot


def start_serve(root: Path, port: int, timeout: float = 180.0) -> subprocess.Popen:
    """``chuchuang serve`` in its own process group; returns once /api answers."""
    log = open(root / "serve.log", "wb")  # noqa: SIM115 (the server writes to it for its whole life)
    process = subprocess.Popen([sys.executable, "-m", "generator.cli", "-C", str(root), "serve", "--host", HOST,
                                "--port", str(port), "--no-watch"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chuchuang serve exited: {(root / 'serve.log').read_text(errors='replace')[-2000:]}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/api/stock?ids=x--y")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.25)
    stop_serve(process)
    raise RuntimeError("chuchuang serve did not answer in time")


def stop_serve(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def fan(index: int, port: int, hot: list[str], deadline: list[float], max_requests: int, start: threading.Event,
        result: Fan) -> None:
    """Buy one unit at a time until the clock or the request budget runs out."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
        nonlocal connection
        data = json.dumps(body).encode() if body is not None else None
        sent = {"content-type": "application/json", **(headers or {})} if data else dict(headers or {})
        began = time.perf_counter()
        try:
            connection.request(method, path, body=data, headers=sent)
            answer = connection.getresponse()
            raw = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
            result.errors.append(f"{method} {path}: {exc!r}")
            result.statuses["transport-error"] += 1
            return 0, {}
        result.latencies.append(time.perf_counter() - began)
        result.statuses[answer.status] += 1
        return answer.status, json.loads(raw) if raw else {}

    start.wait()
    attempt = 0
    while time.monotonic() < deadline[0] and len(result.latencies) + 2 <= max_requests:
        product = hot[(index + attempt) % len(hot)]
        attempt += 1
        result.demand[product] += 1
        began = time.perf_counter()
        status, cart = call("POST", "/api/carts", {"items": [{"product_id": product, "quantity": 1}]})
        if status != 201:
            continue  # 409: sold out already
        status, done = call("POST", f"/api/carts/{cart['id']}/checkout",
                            headers={"idempotency-key": f"load-{index}-{attempt}"})
        if status == 201:
            result.purchases.append(time.perf_counter() - began)
            result.sold[product] += 1
            result.order_ids += [o["id"] for o in done["orders"]]
    connection.close()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def table_proof(root: Path, hot: list[str], fans: list[Fan], stock: int) -> dict:
    """Read the embedded backend's table: sold counters, orders and ledger entries."""
    record = json.loads((root / ".chuchuang" / "serve.json").read_text(encoding="utf-8"))
    os.environ.update(AWS_ENDPOINT_URL=record["endpoint"], AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=record["region"],
                      AWS_REGION=record["region"], CHUCHUANG_TABLE=record["table"])
    sys.path.insert(0, str(REPO))
    from functions import dynamo, store

    products = store.get_products(hot, consistent=True)
    items = []
    for page in store.client("dynamodb").get_paginator("scan").paginate(TableName=store.table(),
                                                                         ConsistentRead=True):
        items += [dynamo.attrs(i) | {"PK": i["PK"]["S"]} for i in page["Items"]]
    orders = {i["id"]: i for i in items if i["PK"].startswith("ORDER#")}
    entries = Counter((i["order_id"], i["line"]) for i in items if i["PK"].startswith("CREATOR#") and i["seq"] == 0)
    demand = sum((f.demand for f in fans), Counter())
    granted = sum((f.sold for f in fans), Counter())
    given = [oid for f in fans for oid in f.order_ids]
    units_in_orders = Counter()
    for order in orders.values():
        for line in order["lines"]:
            units_in_orders[line["product_id"]] += line["quantity"]
    proof = {}
    for pid in hot:
        item = products[pid]
        proof[pid] = {"stock": item.stock, "sold_in_table": item.sold, "units_in_orders": units_in_orders[pid],
                      "units_granted_to_fans": granted[pid], "demand": demand[pid],
                      "min_demand_stock": min(demand[pid], stock), "available": item.available,
                      "ok": item.sold == units_in_orders[pid] == granted[pid] == min(demand[pid], stock)}
    every_line_has_its_entry = all(entries[(o["id"], ln["line"])] == 1 for o in orders.values() for ln in o["lines"])
    return {"products": proof, "orders_in_table": len(orders), "orders_given_to_fans": len(given),
            "no_duplicate_orders": len(set(given)) == len(given) == len(orders),
            "every_line_has_its_entry": every_line_has_its_entry,
            "no_oversell": all(p["ok"] for p in proof.values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fans", type=int, default=16, help="concurrent fan threads (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the fans buy (default 20)")
    parser.add_argument("--max-requests", type=int, default=2000, help="request budget per fan (default 2000)")
    parser.add_argument("--products", type=int, default=3, help="hot products (default 3)")
    parser.add_argument("--stock", type=int, default=40, help="allocation of each hot product (default 40)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.fans <= 256 and 0 < args.seconds <= 600 and 1 <= args.max_requests <= 100_000):
        parser.error("keep it bounded: 1-256 fans, at most 600 s, at most 100,000 requests per fan")

    root, hot = prepare_site(args.stock, args.products)
    port = free_port()
    started = time.monotonic()
    process = start_serve(root, port)
    try:
        startup = time.monotonic() - started
        results = [Fan() for _ in range(args.fans)]
        go, deadline = threading.Event(), [0.0]
        threads = [threading.Thread(target=fan, args=(i, port, hot, deadline, args.max_requests, go, results[i]),
                                    daemon=True) for i in range(args.fans)]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        deadline[0] = began + args.seconds
        go.set()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        elapsed = time.monotonic() - began
        proof = table_proof(root, hot, results, args.stock)
    finally:
        stop_serve(process)
    latencies = [x for f in results for x in f.latencies]
    purchases = [x for f in results for x in f.purchases]
    statuses = sum((f.statuses for f in results), Counter())
    report = {
        "fans": args.fans, "seconds": round(elapsed, 2), "serve_startup_seconds": round(startup, 1),
        "cpus": os.cpu_count(), "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {k: round(percentile(latencies, q) * 1000, 1) for k, q in (("p50", .5), ("p95", .95),
                                                                                   ("p99", .99))},
        "purchases": len(purchases), "purchases_per_second": round(len(purchases) / elapsed, 1),
        "purchase_latency_ms": {k: round(percentile(purchases, q) * 1000, 1) for k, q in (("p50", .5),
                                                                                            ("p99", .99))},
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "transport_errors": [e for f in results for e in f.errors][:5],
        "proof": proof,
    }
    shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        print(f"{args.fans} fans for {report['seconds']} s on {report['cpus']} cores "
              f"(serve started in {report['serve_startup_seconds']} s)")
        print(f"  {report['requests']} requests: {report['requests_per_second']} req/s, latency p50 "
              f"{report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms, p99 "
              f"{report['latency_ms']['p99']} ms")
        print(f"  {report['purchases']} purchases (cart + checkout): {report['purchases_per_second']}/s, p50 "
              f"{report['purchase_latency_ms']['p50']} ms, p99 {report['purchase_latency_ms']['p99']} ms")
        print(f"  answers: {report['statuses']}")
        for pid, p in proof["products"].items():
            print(f"  {pid}: stock {p['stock']}, demand {p['demand']}, sold (table) {p['sold_in_table']}, "
                  f"in orders {p['units_in_orders']}, granted {p['units_granted_to_fans']} -> "
                  f"{'ok' if p['ok'] else 'MISMATCH'}")
        print(f"  no oversell: {proof['no_oversell']}; no duplicate orders: {proof['no_duplicate_orders']}; "
              f"every order line has its commission entry: {proof['every_line_has_its_entry']}")
    server_errors = sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500)
    ok = proof["no_oversell"] and proof["no_duplicate_orders"] and proof["every_line_has_its_entry"]
    return 0 if ok and not server_errors and not statuses["transport-error"] else 1


if __name__ == "__main__":
    sys.exit(main())
