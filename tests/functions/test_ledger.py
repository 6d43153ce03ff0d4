"""The order life end to end, the append-only ledger and the statements read from it."""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest
from conftest import TMALL_SECRET, WEIMAI_SECRET

from functions import clock, commissions, store, worker
from functions.money import round_down
from generator.commands import commissions as cli

SERUM = "lin-xiaoyu--lancome-serum"
TONER = "lin-xiaoyu--lancome-toner"
TEA = "chen-mo--tea-set"
LEAVES = "chen-mo--tea-leaves"


@pytest.fixture
def at(monkeypatch):
    """Set the clock: ``at("2026-11-20T10:00")``."""
    def move(text: str) -> datetime:
        moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    return move


def _event(api, partner, order_id, kind, n, **extra):
    secret = TMALL_SECRET if partner == "tmall" else WEIMAI_SECRET
    reply = api.event(partner, {"event_id": f"{order_id}-{n}", "type": kind, "order_id": order_id, **extra}, secret)
    assert reply.status == 200, reply.json
    return reply.json["order"]


def _statement(creator, month, now):
    config = store.load_config()
    [st] = commissions.statements(commissions.load_ledger(creator), config.lock_days, month, now)
    assert st.totals["net"] == sum(ln.entry.commission for ln in st.lines)  # to the cent
    return st


def _run_cli(capsys, **kw):
    args = argparse.Namespace(**{"creator": None, "month": None, "format": "json", **kw})
    code = cli.run(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_redirect_order_life_to_a_payable_statement(api, at, capsys):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TONER: 3}), "life-redirect").json["orders"][0]
    assert order["status"] == "handed_off" and order["handoff"]["url"].startswith("https://detail.tmall.com/")
    for n, kind in enumerate(("paid", "shipped")):
        _event(api, "tmall", order["id"], kind, n)
    completed = at("2026-11-25T09:00")
    assert _event(api, "tmall", order["id"], "completed", 3)["status"] == "completed"
    expected = round_down(108000, "0.08") + round_down(3 * 33333, "0.08")

    st = _statement("lin-xiaoyu", "2026-11", completed)
    assert [ln.entry.status for ln in st.lines] == ["pending", "pending", "confirmed", "confirmed"]
    assert st.totals == {"pending": expected, "confirmed": expected, "net": 2 * expected, "payable": 0}
    later = completed + clock.days(15)
    assert _statement("lin-xiaoyu", "2026-11", later).totals["payable"] == expected

    at("2026-12-11T09:00")
    code, out, _ = _run_cli(capsys, creator="lin-xiaoyu", month="2026-11")
    [doc] = json.loads(out)
    assert code == 0 and doc["totals"]["payable"] == {"amount": expected, "currency": "CNY"}
    confirmed = [e for e in doc["entries"] if e["status"] == "confirmed"]
    assert {(e["product_id"], e["amount"], e["rate"], e["rule"], e["commission"]) for e in confirmed} == {
        (SERUM, 108000, "0.08", "agreement:lin-xiaoyu/lancome-official/2026-11-01", 8640),
        (TONER, 99999, "0.08", "agreement:lin-xiaoyu/lancome-official/2026-11-01", 7999)}


def test_webhook_order_life_through_the_worker(api, aws, at, merchant):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({TEA: 2, LEAVES: 1}), "life-webhook").json["orders"][0]
    assert order["status"] == "pending_handoff"
    answer = store.client("sqs").receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {}} for m in answer["Messages"]]
    assert worker.handler({"Records": records}, None) == {"batchItemFailures": []}
    handed = api.get(f"/api/orders/{order['id']}").json
    assert handed["status"] == "handed_off" and handed["payment_url"].startswith("https://pay.weimai.com/")
    for n, kind in enumerate(("paid", "shipped", "completed")):
        _event(api, "weimai", order["id"], kind, n)
    st = _statement("chen-mo", "2026-11", clock.now() + clock.days(16))
    expected = round_down(2 * 19999, "0.10") + round_down(8888, "0.10")
    assert st.totals["confirmed"] == st.totals["payable"] == expected == 3999 + 888


def test_refund_after_checkout_reverses_the_pending_commission(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TONER: 1}), "life-refund").json["orders"][0]
    _event(api, "tmall", order["id"], "paid", 1)
    _event(api, "tmall", order["id"], "refunded", 2)
    st = _statement("lin-xiaoyu", "2026-11", clock.now())
    assert [ln.entry.status for ln in st.lines] == ["pending", "pending", "reversal", "reversal"]
    assert all(ln.entry.reverses == "pending" for ln in st.lines[2:])
    assert st.totals == {"pending": 0, "confirmed": 0, "net": 0, "payable": 0}


def test_partial_refunds_reverse_proportionally_rounded_down_and_never_too_much(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TONER: 1}), "life-partial").json["orders"][0]
    total = 108000 + 33333
    commission = {SERUM: 8640, TONER: 2666}
    for n, kind in enumerate(("paid", "shipped")):
        _event(api, "tmall", order["id"], kind, n)
    at("2026-11-22T10:00")
    _event(api, "tmall", order["id"], "completed", 3)
    at("2026-11-28T10:00")  # inside the 15-day window
    _event(api, "tmall", order["id"], "refunded", 4, amount={"amount": 10001, "currency": "CNY"})
    at("2026-12-20T10:00")  # after it: a clawback in December
    _event(api, "tmall", order["id"], "refunded", 5, amount={"amount": 700, "currency": "CNY"})

    entries = commissions.load_ledger("lin-xiaoyu")
    for product, c in commission.items():
        reversals = [e for e in entries if e.product_id == product and e.status == "reversal"]
        first = c * 10001 // total
        assert [-e.commission for e in reversals] == [first, c * 10701 // total - first]
        assert all(e.commission < 0 for e in reversals)
    november = _statement("lin-xiaoyu", "2026-11", clock.now())
    first = sum(c * 10001 // total for c in commission.values())
    assert november.totals["confirmed"] == sum(commission.values()) - first
    assert november.totals["payable"] == sum(commission.values()) - first
    december = _statement("lin-xiaoyu", "2026-12", clock.now())
    assert december.totals["confirmed"] == -sum(c * 10701 // total - c * 10001 // total for c in commission.values())

    _event(api, "tmall", order["id"], "refunded", 6, amount={"amount": total - 10701, "currency": "CNY"})
    entries = commissions.load_ledger("lin-xiaoyu")
    for product in commission:
        line = [e for e in entries if e.product_id == product]
        assert sum(e.commission for e in line if e.status != "pending") == 0  # confirmed fully reversed, exactly


def test_cancel_reverses_and_ledger_is_append_only(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 2}), "life-cancel").json["orders"][0]
    before = {(e.order_id, e.line, e.seq): e for e in commissions.load_ledger("lin-xiaoyu")}
    _event(api, "tmall", order["id"], "cancelled", 1)
    after = {(e.order_id, e.line, e.seq): e for e in commissions.load_ledger("lin-xiaoyu")}
    assert all(after[k] == v for k, v in before.items())
    assert sorted(e.commission for e in after.values()) == [-17280, 17280]


def test_statement_csv_and_table_formats(api, at, capsys):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TEA: 1}), "life-cli").json["orders"]
    code, out, _ = _run_cli(capsys, month="2026-11", format="csv")
    rows = out.strip().splitlines()
    assert code == 0 and rows[0].startswith("creator,month,created_at,order_id")
    assert len(rows) == 3 and any(",pending,,1080.00,CNY,0.08," in r and ",86.40," in r for r in rows)
    code, out, _ = _run_cli(capsys, month="2026-11", format="table")
    assert code == 0 and "lin-xiaoyu · 2026-11 · CNY" in out and "¥86.40" in out and order[0]["id"] in out
    code, out, _ = _run_cli(capsys, month="2026-10", format="table")
    assert code == 0 and "no commission entries" in out


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-11", "2026-11-01", "november"])
def test_bad_month_exits_2(api, capsys, month):
    code, out, err = _run_cli(capsys, month=month)
    assert code == 2 and out == "" and "--month must be YYYY-MM" in err


def test_unreachable_backend_is_one_line_and_exit_1(capsys, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("CHUCHUANG_TABLE", "chuchuang-unreachable")
    code, out, err = _run_cli(capsys, month="2026-11")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"no backend answers at http://127.0.0.1:{port}" in err


def test_backend_errors_are_one_line_and_exit_1(aws, capsys, monkeypatch):
    monkeypatch.setenv("CHUCHUANG_TABLE", "no-such-table")
    code, out, err = _run_cli(capsys, month="2026-11")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "cannot read the ledger from table no-such-table" in err


def test_add_parser_registers_the_verb():
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["commissions", "--creator", "chen-mo", "--month", "2026-11", "--format", "csv"])
    assert (args.creator, args.month, args.format) == ("chen-mo", "2026-11", "csv")
