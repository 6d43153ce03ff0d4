"""``X-Chuchuang-Signature: t=<unix>,v1=<hex hmac-sha256(secret, f"{t}.{body}")>``.

The same scheme signs our webhooks to merchants and their events to us. A
header may carry several ``v1=`` values (a merchant rotating its secret);
one match is enough. Unknown schemes are ignored, as Stripe does.
"""
from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Chuchuang-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Why a signature was refused, with the HTTP status and error code to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(header: str | None, body: bytes, secret: str, now: int) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise :class:`SignatureError`."""
    if not header:
        raise SignatureError(401, "missing_signature", f"the {HEADER} header is required")
    timestamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or not name or not value:
            raise SignatureError(400, "malformed_signature", f"{HEADER} must look like t=<unix>,v1=<hex>")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise SignatureError(400, "malformed_signature", f"{HEADER} needs exactly one t=<unix seconds>")
    timestamp = int(timestamps[0])
    expected = _digest(secret, timestamp, body).encode("ascii")
    if not any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates):
        raise SignatureError(401, "invalid_signature", "no v1 signature matches the body")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(401, "stale_signature",
                             f"the signature timestamp is more than {TOLERANCE_SECONDS} s from now")
    return timestamp
