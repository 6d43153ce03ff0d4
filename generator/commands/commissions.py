"""``chuchuang commissions``: monthly commission statements read from the ledger.

Every entry is listed, including the ``pending`` release a completion appends
(shown as "pending released (completed)"; ``released_by`` in csv and json), so
each statement's ``net`` is the sum of its listed commissions, to the cent.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

from functions import clock
from functions.money import exponent, format_minor
from generator.local_env import reachable

if TYPE_CHECKING:
    from functions.commissions import LedgerEntry, Statement

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
COLUMNS = ("creator", "month", "created_at", "order_id", "line", "product_id", "status", "reverses", "amount",
           "currency", "rate", "rule", "commission", "payable", "released_by")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``commissions`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "commissions", help="print commission statements from the ledger",
        description="Print each creator's monthly statement: every ledger entry (order, product, amount, rate, "
                    "rule, commission, status) and totals that are the sums of those entries. Reads the table "
                    "named by CHUCHUANG_TABLE (endpoint from AWS_ENDPOINT_URL).")
    parser.add_argument("--creator", help="only this creator (default: every creator in the catalog)")
    parser.add_argument("--month", help="YYYY-MM (default: the current month, UTC)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    return parser


def _decimal(amount: int, currency: str) -> str:
    return str(Decimal(amount).scaleb(-exponent(currency)))


def status_text(entry: LedgerEntry) -> str:
    """The status as a statement reader sees it, e.g. "pending released (completed)", "reversal of pending"."""
    if entry.status == "reversal":
        return f"reversal of {entry.reverses}"
    if entry.released_by:
        return f"{entry.status} released ({entry.released_by})"
    return entry.status


def _table(statements: list[Statement]) -> str:
    out = []
    for st in statements:
        out.append(f"{st.creator} · {st.month} · {st.currency}")
        rows = [("date", "order", "product", "amount", "rate", "rule", "commission", "status")]
        for ln in st.lines:
            e = ln.entry
            status = status_text(e)
            if ln.payable_at:
                status += f" (payable {ln.payable_at[:10]})" if not ln.payable else " (payable)"
            rows.append((e.created_at[:10], e.order_id, e.product_id, format_minor(e.amount, e.currency), e.rate,
                         e.rule, format_minor(e.commission, e.currency), status))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            out.append("  ".join(c.rjust(w) if i in (3, 6) else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        for name, amount in st.totals.items():
            out.append(f"{name:>10}: {format_minor(amount, st.currency)}")
        out.append("")
    return "\n".join(out) if out else "no commission entries\n"


def _csv(statements: list[Statement]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for st in statements:
        for ln in st.lines:
            e = ln.entry
            writer.writerow((e.creator, e.month, e.created_at, e.order_id, e.line, e.product_id, e.status,
                             e.reverses or "", _decimal(e.amount, e.currency), e.currency, e.rate, e.rule,
                             _decimal(e.commission, e.currency), _decimal(ln.payable, e.currency),
                             e.released_by or ""))
    return buffer.getvalue()


def run(args: argparse.Namespace) -> int:
    """Print the statements; 0 ok, 1 backend unreachable or unset, 2 bad arguments."""
    from functions import (  # boto3: imported only when a statement is read
        commissions,
        store,
    )

    month = args.month or clock.iso(clock.now())[:7]
    if not MONTH.fullmatch(month):
        print(f"chuchuang commissions: --month must be YYYY-MM (e.g. 2026-11), not {month!r}", file=sys.stderr)
        return 2
    table = os.environ.get("CHUCHUANG_TABLE")
    if not table:
        print("chuchuang commissions: CHUCHUANG_TABLE is not set (start `chuchuang serve` or export it)",
              file=sys.stderr)
        return 1
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint and not reachable(endpoint):
        print(f"chuchuang commissions: no backend answers at {endpoint} (is `chuchuang serve` running?)",
              file=sys.stderr)
        return 1
    try:
        config = store.load_config()
        creators = [args.creator] if args.creator else list(config.creators)
        statements = [st for creator in creators
                      for st in commissions.statements(commissions.load_ledger(creator), config.lock_days, month)]
    except Exception as exc:  # any backend failure is one clear line, not a traceback
        where = os.environ.get("AWS_ENDPOINT_URL", "AWS")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"chuchuang commissions: cannot read the ledger from table {table} at {where}: {reason}",
              file=sys.stderr)
        return 1
    if args.format == "json":
        sys.stdout.write(json.dumps([st.to_json() for st in statements], ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        sys.stdout.write(_csv(statements))
    else:
        sys.stdout.write(_table(statements))
    return 0
