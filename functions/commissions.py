"""The commission ledger (append-only) and the monthly statements read from it.

Entries are only ever added: ``pending`` at checkout, ``confirmed`` when the
merchant completes the order, ``reversal`` (negative) on cancel or refund.
``payable`` is not written: a statement derives it from a confirmed entry
whose ``lock_days`` after-sales window has passed (see :func:`statement`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from functions import clock, store
from functions.money import prorate
from functions.orders import Order, OrderLine


@dataclass(frozen=True)
class LedgerEntry:
    creator: str
    order_id: str
    line: int
    seq: int               # the order version that wrote it: unique and increasing per line
    product_id: str
    title: str
    merchant: str
    partner: str
    status: str            # pending | confirmed | reversal
    amount: int            # the line total the commission is on, minor units
    currency: str
    rate: str
    rule: str
    commission: int        # signed minor units: negative for reversals
    created_at: str
    reverses: str | None = None   # for reversals: "pending" or "confirmed"
    refunded: int = 0             # for refund reversals: the order's refunded total so far
    event_id: str | None = None

    @property
    def month(self) -> str:
        return self.created_at[:7]

    def to_item(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LedgerEntry:
        return cls(**{k: v for k, v in item.items() if k in cls.__dataclass_fields__})


def _entry(order: Order, line: OrderLine, status: str, commission: int, at: str, **extra: Any) -> LedgerEntry:
    return LedgerEntry(creator=line.creator, order_id=order.id, line=line.line, seq=order.version,
                       product_id=line.product_id, title=line.title, merchant=order.merchant,
                       partner=order.partner, status=status, amount=line.amount, currency=order.currency,
                       rate=line.rate, rule=line.rate_rule, commission=commission, created_at=at, **extra)


def pending_entries(order: Order) -> list[LedgerEntry]:
    """One ``pending`` entry per line of a new order."""
    return [_entry(order, line, "pending", line.commission, order.created_at) for line in order.lines]


def confirmed_entries(order: Order, event_id: str) -> list[LedgerEntry]:
    """``confirmed`` entries for a completed order: each line's commission less what was reversed."""
    return [_entry(order, line, "confirmed", line.commission - line.reversed, order.updated_at, event_id=event_id)
            for line in order.lines if line.commission - line.reversed > 0]


def reverse(order: Order, refunded: int, event_id: str) -> tuple[tuple[OrderLine, ...], list[LedgerEntry]]:
    """Reverse commission so each line's reversed total is ``commission × refunded / total``.

    Working from the cumulative refund keeps many partial refunds exact: the
    reversed total never drifts and never exceeds the line's commission;
    ``refunded == total`` reverses everything that is left.
    """
    reverses = "confirmed" if order.confirmed_at else "pending"
    lines, entries = [], []
    for line in order.lines:
        target = min(line.commission, prorate(line.commission, refunded, order.total))
        delta = target - line.reversed
        if delta > 0:
            entries.append(_entry(order, line, "reversal", -delta, order.updated_at, reverses=reverses,
                                  refunded=refunded, event_id=event_id))
            line = OrderLine(**{**asdict(line), "reversed": target})
        lines.append(line)
    return tuple(lines), entries


def load_ledger(creator: str) -> list[LedgerEntry]:
    return [LedgerEntry.from_item(item) for item in store.ledger(creator)]


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    payable_at: str | None      # confirmed entries: when the after-sales window closes
    payable: int                # confirmed entries past the window: what is owed for the line


@dataclass(frozen=True)
class Statement:
    creator: str
    month: str
    currency: str
    lines: tuple[StatementLine, ...]

    @property
    def totals(self) -> dict[str, int]:
        """Sums of the listed entries: ``pending`` + ``confirmed`` (each net of its reversals) = ``net``."""
        pending = sum(ln.entry.commission for ln in self.lines
                      if ln.entry.status == "pending" or ln.entry.reverses == "pending")
        confirmed = sum(ln.entry.commission for ln in self.lines
                        if ln.entry.status == "confirmed" or ln.entry.reverses == "confirmed")
        return {"pending": pending, "confirmed": confirmed, "net": pending + confirmed,
                "payable": sum(ln.payable for ln in self.lines)}

    def to_json(self) -> dict[str, Any]:
        return {"creator": self.creator, "month": self.month, "currency": self.currency,
                "entries": [{**ln.entry.to_item(), "payable_at": ln.payable_at, "payable": ln.payable}
                            for ln in self.lines],
                "totals": {k: {"amount": v, "currency": self.currency} for k, v in self.totals.items()}}


def statements(entries: Iterable[LedgerEntry], lock_days: int, month: str | None = None,
               now: datetime | None = None) -> list[Statement]:
    """One statement per (creator, month, currency) from a creator's ledger entries.

    A confirmed line becomes payable ``lock_days`` after confirmation; what is
    payable is its confirmed commission less reversals made inside the window.
    Reversals after it are clawbacks and count in the month they happen.
    """
    moment = now or clock.now()
    entries = sorted(entries, key=lambda e: (e.created_at, e.order_id, e.seq, e.line))
    groups: dict[tuple[str, str, str], list[StatementLine]] = {}
    for entry in entries:
        if month and entry.month != month:
            continue
        payable_at, payable = None, 0
        if entry.status == "confirmed":
            window_end = clock.parse(entry.created_at) + clock.days(lock_days)
            payable_at = clock.iso(window_end)
            if moment >= window_end:
                clawed = sum(e.commission for e in entries if e.status == "reversal" and e.reverses == "confirmed"
                             and (e.order_id, e.line) == (entry.order_id, entry.line)
                             and e.created_at < payable_at)
                payable = max(0, entry.commission + clawed)
        groups.setdefault((entry.creator, entry.month, entry.currency), []).append(
            StatementLine(entry, payable_at, payable))
    return [Statement(creator, m, currency, tuple(lines))
            for (creator, m, currency), lines in sorted(groups.items())]
