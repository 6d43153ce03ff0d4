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
MASK = "chen-mo--lancome-mask"


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


def _owed(creator, order_id):
    """What the order owes ``creator`` now, from the order itself: each line's commission less its reversals."""
    order = store.get_order(order_id)
    return sum(ln["commission"] - ln["reversed"] for ln in order["lines"] if ln["creator"] == creator)


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
    assert [ln.entry.status for ln in st.lines] == ["pending"] * 4 + ["confirmed"] * 2
    assert [ln.entry.released_by for ln in st.lines] == [None, None, "completed", "completed", None, None]
    assert [ln.entry.commission for ln in st.lines[2:4]] == [-8640, -7999]  # each line's pending, released
    assert st.totals == {"pending": 0, "confirmed": expected, "net": expected, "payable": 0}
    entries = commissions.load_ledger("lin-xiaoyu")
    assert sum(e.commission for e in entries) == expected == _owed("lin-xiaoyu", order["id"])
    assert sorted((e.line, e.seq) for e in entries) == [(1, 0), (1, 6), (1, 7), (2, 0), (2, 6), (2, 7)]
    later = completed + clock.days(15)
    assert _statement("lin-xiaoyu", "2026-11", later).totals["payable"] == expected

    at("2026-12-11T09:00")
    code, out, _ = _run_cli(capsys, creator="lin-xiaoyu", month="2026-11")
    [doc] = json.loads(out)
    assert code == 0 and doc["totals"]["payable"] == {"amount": expected, "currency": "CNY"}
    assert doc["totals"]["net"] == doc["totals"]["confirmed"] == {"amount": expected, "currency": "CNY"}
    assert doc["totals"]["pending"] == {"amount": 0, "currency": "CNY"}
    assert sum(e["commission"] for e in doc["entries"]) == expected
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
    assert st.totals["confirmed"] == st.totals["payable"] == st.totals["net"] == expected == 3999 + 888
    assert st.totals["pending"] == 0


def test_refund_after_checkout_reverses_the_pending_commission(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TONER: 1}), "life-refund").json["orders"][0]
    _event(api, "tmall", order["id"], "paid", 1)
    _event(api, "tmall", order["id"], "refunded", 2)
    st = _statement("lin-xiaoyu", "2026-11", clock.now())
    assert [ln.entry.status for ln in st.lines] == ["pending", "pending", "reversal", "reversal"]
    assert all(ln.entry.reverses == "pending" for ln in st.lines[2:])
    assert st.totals == {"pending": 0, "confirmed": 0, "net": 0, "payable": 0}
    assert sum(e.commission for e in commissions.load_ledger("lin-xiaoyu")) == 0


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
    assert november.totals == {"pending": 0, "confirmed": sum(commission.values()) - first,
                               "net": sum(commission.values()) - first, "payable": sum(commission.values()) - first}
    december = _statement("lin-xiaoyu", "2026-12", clock.now())
    clawback = sum(c * 10701 // total - c * 10001 // total for c in commission.values())
    assert december.totals == {"pending": 0, "confirmed": -clawback, "net": -clawback, "payable": 0}
    owed = sum(c - c * 10701 // total for c in commission.values())
    assert november.totals["net"] + december.totals["net"] == owed == _owed("lin-xiaoyu", order["id"])

    _event(api, "tmall", order["id"], "refunded", 6, amount={"amount": total - 10701, "currency": "CNY"})
    entries = commissions.load_ledger("lin-xiaoyu")
    for product, c in commission.items():
        line = [e for e in entries if e.product_id == product]
        assert sum(e.commission for e in line) == 0  # everything reversed, exactly, and nothing more
        assert sum(e.commission for e in line if e.bucket == "confirmed") == 0
        assert -sum(e.commission for e in line if e.status == "reversal") == c


def test_partial_refund_before_completion_releases_only_what_is_left(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1, TONER: 1}), "life-partial-early").json["orders"][0]
    total = 108000 + 33333
    commission = {SERUM: 8640, TONER: 2666}
    _event(api, "tmall", order["id"], "paid", 1)
    _event(api, "tmall", order["id"], "refunded", 2, amount={"amount": 33333, "currency": "CNY"})
    _event(api, "tmall", order["id"], "shipped", 3)
    _event(api, "tmall", order["id"], "completed", 4)

    entries = commissions.load_ledger("lin-xiaoyu")
    for product, c in commission.items():
        reversed_ = c * 33333 // total
        line = sorted((e for e in entries if e.product_id == product), key=lambda e: e.seq)
        assert [(e.status, e.reverses, e.released_by, e.commission) for e in line] == [
            ("pending", None, None, c), ("reversal", "pending", None, -reversed_),
            ("pending", None, "completed", -(c - reversed_)), ("confirmed", None, None, c - reversed_)]
        assert [e.seq for e in line] == [0, 4, 8, 9]  # versions 0, 2 (refund), 4 (completed)
    st = _statement("lin-xiaoyu", "2026-11", clock.now())
    owed = _owed("lin-xiaoyu", order["id"])
    assert owed == sum(c - c * 33333 // total for c in commission.values())
    assert st.totals == {"pending": 0, "confirmed": owed, "net": owed, "payable": 0}


def test_cancel_reverses_and_ledger_is_append_only(api, at):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 2}), "life-cancel").json["orders"][0]
    before = {(e.order_id, e.line, e.seq): e for e in commissions.load_ledger("lin-xiaoyu")}
    _event(api, "tmall", order["id"], "cancelled", 1)
    after = {(e.order_id, e.line, e.seq): e for e in commissions.load_ledger("lin-xiaoyu")}
    assert all(after[k] == v for k, v in before.items())
    assert sorted(e.commission for e in after.values()) == [-17280, 17280]
    assert [e.reverses for e in after.values() if e.status == "reversal"] == ["pending"]


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


def test_statement_shows_the_release_entries(api, at, capsys):
    at("2026-11-20T10:00")
    order = api.checkout(api.cart({SERUM: 1}), "life-cli-release").json["orders"][0]
    for n, kind in enumerate(("paid", "shipped", "completed")):
        _event(api, "tmall", order["id"], kind, n)
    code, out, _ = _run_cli(capsys, creator="lin-xiaoyu", month="2026-11", format="table")
    assert code == 0 and "pending released (completed)" in out and "-¥86.40" in out.replace("−", "-")
    assert "net: ¥86.40" in out and "pending: ¥0.00" in out
    code, out, _ = _run_cli(capsys, creator="lin-xiaoyu", month="2026-11", format="csv")
    header, *rows = [r.split(",") for r in out.strip().splitlines()]
    rows = [dict(zip(header, r)) for r in rows]
    assert [(r["status"], r["released_by"], r["commission"]) for r in rows] == [
        ("pending", "", "86.40"), ("pending", "completed", "-86.40"), ("confirmed", "", "86.40")]
    code, out, _ = _run_cli(capsys, creator="lin-xiaoyu", month="2026-11", format="json")
    [doc] = json.loads(out)
    assert [(e["status"], e["released_by"], e["commission"]) for e in doc["entries"]] == [
        ("pending", None, 8640), ("pending", "completed", -8640), ("confirmed", None, 8640)]
    assert doc["totals"]["net"]["amount"] == sum(e["commission"] for e in doc["entries"]) == 8640


def test_every_statement_is_the_sum_of_its_entries_over_two_months(api, at):
    """Completions, partial and full refunds, cancels, across November and December, two creators."""
    orders = {}

    def checkout(name, when, cart):
        at(when)
        orders[name] = api.checkout(api.cart(cart), f"two-months-{name}").json["orders"][0]["id"]

    def send(name, when, *kinds, **extra):
        at(when)
        for kind in kinds:
            send.n += 1
            _event(api, "tmall", orders[name], kind, send.n, **extra)
    send.n = 0

    def cny(amount):
        return {"amount": {"amount": amount, "currency": "CNY"}}

    checkout("done", "2026-11-20T10:00", {SERUM: 1, TONER: 3, MASK: 1})       # completed in November
    send("done", "2026-11-21T10:00", "paid", "shipped", "completed")
    checkout("late", "2026-11-21T10:00", {SERUM: 2, MASK: 1})                  # partial refund, completes in Dec,
    send("late", "2026-11-22T10:00", "paid")                                   # then refunds after completion
    send("late", "2026-11-23T10:00", "refunded", **cny(12345))
    send("late", "2026-11-30T23:00", "shipped")
    send("late", "2026-12-02T10:00", "completed")
    send("late", "2026-12-05T10:00", "refunded", **cny(777))
    send("late", "2026-12-28T10:00", "refunded", **cny(30001))
    checkout("refund", "2026-11-28T10:00", {TONER: 2})                         # fully refunded before completion
    send("refund", "2026-12-01T10:00", "paid", "refunded")
    checkout("cancel", "2026-11-30T10:00", {SERUM: 1, MASK: 1})                # cancelled in December
    send("cancel", "2026-12-01T11:00", "cancelled")
    checkout("piecemeal", "2026-11-29T10:00", {TONER: 1, MASK: 1})             # refunded in pieces to the total
    send("piecemeal", "2026-11-29T11:00", "paid")
    send("piecemeal", "2026-11-30T11:00", "refunded", **cny(1))
    send("piecemeal", "2026-12-01T11:00", "refunded", **cny(33333 + 45000 - 1))
    checkout("december", "2026-12-10T10:00", {SERUM: 1, TONER: 1, MASK: 1})    # completed, then fully refunded
    send("december", "2026-12-11T10:00", "paid", "shipped", "completed")
    send("december", "2026-12-20T10:00", "refunded")
    checkout("open", "2026-12-15T10:00", {TONER: 1, MASK: 1})                  # still pending at the end
    send("open", "2026-12-15T11:00", "paid")

    end = clock.now() + clock.days(30)
    config = store.load_config()
    for creator in ("lin-xiaoyu", "chen-mo"):
        entries = commissions.load_ledger(creator)
        assert len({(e.order_id, e.line, e.seq) for e in entries}) == len(entries)
        months = commissions.statements(entries, config.lock_days, None, end)
        assert [st.month for st in months] == ["2026-11", "2026-12"]
        for st in months:
            assert st.totals["net"] == sum(ln.entry.commission for ln in st.lines)  # to the cent
            assert st.totals["net"] == st.totals["pending"] + st.totals["confirmed"]
            assert st.totals == _statement(creator, st.month, end).totals  # same through month filtering
        assert sum(st.totals["net"] for st in months) == sum(e.commission for e in entries) == sum(
            _owed(creator, order_id) for order_id in orders.values())
        for name, order_id in orders.items():
            mine = [e for e in entries if e.order_id == order_id]
            status = store.get_order(order_id)["status"]
            pending = sum(e.commission for e in mine if e.bucket == "pending")
            confirmed = sum(e.commission for e in mine if e.bucket == "confirmed")
            assert pending + confirmed == _owed(creator, order_id), name
            if store.get_order(order_id)["confirmed_at"]:
                assert pending == 0 and confirmed == _owed(creator, order_id), name
            else:
                assert confirmed == 0 and pending == _owed(creator, order_id), name
            if status in ("cancelled", "refunded"):
                assert pending + confirmed == 0, name
            for line in {e.line for e in mine}:
                reversed_ = -sum(e.commission for e in mine if e.line == line and e.status == "reversal")
                [checkout_entry] = [e for e in mine if e.line == line and e.seq == 0]
                assert 0 <= reversed_ <= checkout_entry.commission, name
    lin = commissions.load_ledger("lin-xiaoyu")
    late = [e for e in lin if e.order_id == orders["late"]]
    assert {e.month for e in late if e.released_by} == {"2026-12"}   # released when it completed
    assert {(e.month, e.reverses) for e in late if e.status == "reversal"} == {
        ("2026-11", "pending"), ("2026-12", "confirmed")}


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
