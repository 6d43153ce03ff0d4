"""Unguessable identifiers: 128 bits from ``secrets``, as 32 lower-case hex digits."""
from __future__ import annotations

import re
import secrets

_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A fresh 128-bit random id."""
    return secrets.token_hex(16)


def is_id(text: str) -> bool:
    """Whether ``text`` has the shape of an id made by :func:`new_id`."""
    return _ID.fullmatch(text) is not None
