"""Unguessable identifiers: 128 bits from ``secrets``, as 32 lower-case hex digits."""
from __future__ import annotations

import re
import secrets

_ID = re.compile(r"[0-9a-f]{32}")
# "<creator>--<slug>", both slugs as the generator makes them; bounded well under DynamoDB's 2 KiB key limit.
_PRODUCT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*--[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_PRODUCT_ID = 200


def new_id() -> str:
    """A fresh 128-bit random id."""
    return secrets.token_hex(16)


def is_id(text: str) -> bool:
    """Whether ``text`` has the shape of an id made by :func:`new_id`."""
    return _ID.fullmatch(text) is not None


def is_product_id(text: str) -> bool:
    """Whether ``text`` has the shape of a catalog product id (``<creator>--<slug>``)."""
    return len(text) <= MAX_PRODUCT_ID and _PRODUCT_ID.fullmatch(text) is not None
