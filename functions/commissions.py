"""The commission ledger (append-only) and the monthly statements read from it.

The rule: **the sum of a creator's entries is exactly what they are owed**
(or will be, while pending), and a month's statement total is the sum of
that month's entries, to the cent. Entries are only ever added, never edited
or deleted; each sits in one of two buckets (:attr:`LedgerEntry.bucket`):

========================  =========  =========  ===========  =============================
entry                     status     bucket     commission   marker
========================  =========  =========  ===========  =============================
checkout                  pending    pending    +c           —
completion: release       pending    pending    −(c − r)     ``released_by="completed"``
completion: confirm       confirmed  confirmed  +(c − r)     —
cancel/refund before it   reversal   pending    −d           ``reverses="pending"``
refund after completion   reversal   confirmed  −d           ``reverses="confirmed"``
========================  =========  =========  ===========  =============================

(``c`` the line's commission, ``r`` what was already reversed when the order
completed, ``d`` the newly reversed part.) So completion moves the remaining
pending amount into the confirmed bucket like an accounting transfer: a
release entry takes it out of ``pending``, a confirmed entry puts it into
``confirmed``, and the line's sum stays ``c − r``. A release entry is the only
``pending`` entry with a negative commission and is told apart by its
``released_by`` field (``None`` on every other entry).

Keys: ``COMMISSION#<yyyy-mm>#<order>#<line>#<seq>`` with ``seq`` = 2 × the
order version that wrote the entry, + 1 for the confirmed entry of a
completion (its release takes the even number). The checkout entry is seq 0
(version 0); every later event bumps the version, so seq is unique and
increasing per line and a completion's release sorts before its confirmation.
``store.entry_key`` pads seq to 3 digits, a minimum width: keys stay unique
past 999 (order version 500+), only the key's lexicographic order would not
follow seq there, and :func:`statements` sorts entries itself.

Entries count in the month they are written, so an order checked out in one
month and completed in the next shows ``pending`` +c in the first and the
release −c with the confirmation +c in the second; every month's ``net`` is
still the sum of its own entries and the months add up to what is owed.

``payable`` is not written: a statement derives it from a confirmed entry
whose ``lock_days`` after-sales window has passed, less reversals of the
confirmed bucket inside the window (see :func:`statements`).
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
    seq: int               # 2 × the order version that wrote it (+1: a completion's confirmed entry)
    product_id: str
    title: str
    merchant: str
    partner: str
    status: str            # pending (incl. releases) | confirmed | reversal
    amount: int            # the line total the commission is on, minor units
    currency: str
    rate: str
    rule: str
    commission: int        # signed minor units: negative for reversals
    created_at: str
    reverses: str | None = None   # for reversals: "pending" or "confirmed"
    refunded: int = 0             # for refund reversals: the order's refunded total so far
    event_id: str | None = None
    released_by: str | None = None  # for pending release entries: "completed"

    @property
    def month(self) -> str:
        return self.created_at[:7]

    @property
    def bucket(self) -> str:
        """``pending`` (checkout entries, releases, reversals of pending) or ``confirmed``."""
        if self.status == "pending" or self.reverses == "pending":
            return "pending"
        if self.status == "confirmed" or self.reverses == "confirmed":
            return "confirmed"
        raise ValueError(f"ledger entry {self.order_id}/{self.line}/{self.seq} has no bucket: {self.status}")

    def to_item(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LedgerEntry:
        return cls(**{k: v for k, v in item.items() if k in cls.__dataclass_fields__})


def seq(order: Order, confirmed: bool = False) -> int:
    """The key's ``seq`` for an entry written at ``order``'s version (see the module docstring)."""
    return 2 * order.version + (1 if confirmed else 0)


def _entry(order: Order, line: OrderLine, status: str, commission: int, at: str, *, confirmed: bool = False,
           **extra: Any) -> LedgerEntry:
    return LedgerEntry(creator=line.creator, order_id=order.id, line=line.line, seq=seq(order, confirmed),
                       product_id=line.product_id, title=line.title, merchant=order.merchant,
                       partner=order.partner, status=status, amount=line.amount, currency=order.currency,
                       rate=line.rate, rule=line.rate_rule, commission=commission, created_at=at, **extra)


def pending_entries(order: Order) -> list[LedgerEntry]:
    """One ``pending`` entry per line of a new order."""
    return [_entry(order, line, "pending", line.commission, order.created_at) for line in order.lines]


def confirmed_entries(order: Order, event_id: str) -> list[LedgerEntry]:
    """What completing ``order`` appends, per line with something left (``commission − reversed > 0``):

    a ``pending`` release of −left (``released_by="completed"``, seq 2v) and a
    ``confirmed`` entry of +left (seq 2v + 1). Releases come first.
    """
    left = [(line, line.commission - line.reversed) for line in order.lines if line.commission - line.reversed > 0]
    releases = [_entry(order, line, "pending", -amount, order.updated_at, event_id=event_id,
                       released_by="completed") for line, amount in left]
    confirmed = [_entry(order, line, "confirmed", amount, order.updated_at, confirmed=True, event_id=event_id)
                 for line, amount in left]
    return releases + confirmed


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
        """Sums of the listed entries by bucket: ``pending`` + ``confirmed`` = ``net`` = the sum of all.

        ``pending`` nets checkout entries, releases and reversals of pending;
        ``confirmed`` nets confirmed entries and their reversals. ``payable``
        is derived (see :func:`statements`), not a sum of entries.
        """
        pending = sum(ln.entry.commission for ln in self.lines if ln.entry.bucket == "pending")
        confirmed = sum(ln.entry.commission for ln in self.lines if ln.entry.bucket == "confirmed")
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
