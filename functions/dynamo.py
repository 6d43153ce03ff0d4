"""Talking to DynamoDB: one client per service per process, and attribute-value encoding.

Numbers are integers only (rates are decimal strings), so nothing here ever
sees a float or a ``Decimal``. Keys and expressions belong to :mod:`functions.store`.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

# Errors AWS answers while it is busy or briefly unreachable: the same request can
# succeed a moment later, so a client should be told to retry (503), not that we broke.
_TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError", "InternalFailure", "ServiceUnavailable",
    "RequestTimeout", "RequestTimeoutException",
})

_clients: dict[tuple[str, str | None], Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """One boto3 client per service per process; endpoint from ``AWS_ENDPOINT_URL`` (boto3 reads it)."""
    key = (service, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                config = Config(connect_timeout=3, read_timeout=10, max_pool_connections=64,
                                retries={"max_attempts": 3, "mode": "standard"})
                found = _clients[key] = boto3.session.Session().client(service, config=config)
    return found


def reset() -> None:
    """Forget every client (the next call builds new ones from the environment)."""
    with _lock:
        _clients.clear()


class Unavailable(RuntimeError):
    """DynamoDB left part of a request unprocessed even after retries."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means AWS was busy or unreachable (retrying later may work), not a bug."""
    if isinstance(exc, (EndpointUnreachable, HTTPClientError, Unavailable)):
        return True  # timeouts (also after a write went through), refused or dropped connections
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return exc.response.get("Error", {}).get("Code") in _TRANSIENT_CODES or status >= 500
    return False


def table() -> str:
    return os.environ["CHUCHUANG_TABLE"]


# --- attribute values ----------------------------------------------------------------

def ser(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (set, frozenset)):
        return {"SS": sorted(value)}
    if isinstance(value, (list, tuple)):
        return {"L": [ser(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): ser(v) for k, v in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__}")


def de(av: dict) -> Any:
    (kind, value), = av.items()
    if kind == "N":
        return int(value)
    if kind in ("S", "BOOL"):
        return value
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(value)
    if kind == "L":
        return [de(v) for v in value]
    if kind == "M":
        return {k: de(v) for k, v in value.items()}
    raise TypeError(f"unexpected attribute type {kind}")


def attrs(item: dict) -> dict[str, Any]:
    return {k: de(v) for k, v in item.items() if k not in ("PK", "SK", "GSI1PK", "GSI1SK")}


def get(key: dict, consistent: bool = True) -> dict[str, Any] | None:
    item = client("dynamodb").get_item(TableName=table(), Key=key, ConsistentRead=consistent).get("Item")
    return attrs(item) if item else None


def query(**kwargs: Any) -> Iterator[dict]:
    paginator = client("dynamodb").get_paginator("query")
    for page in paginator.paginate(TableName=table(), **kwargs):
        yield from page.get("Items", [])




def batch_get(keys: list[dict], consistent: bool) -> list[dict]:
    """Raw items for up to 100 ``keys``, retrying unprocessed ones."""
    found: list[dict] = []
    request = {table(): {"Keys": keys, "ConsistentRead": consistent}}
    for _ in range(8):
        answer = client("dynamodb").batch_get_item(RequestItems=request)
        found += answer.get("Responses", {}).get(table(), [])
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.05)
    raise Unavailable("DynamoDB left keys unprocessed after retries")
