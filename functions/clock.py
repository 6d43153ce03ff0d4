"""The one place that reads the wall clock, so tests can move time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601 (``2026-11-20T08:00:00.000000Z``) so strings sort as times."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    """Inverse of :func:`iso`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
