"""API Gateway HTTP API (payload v2) in, JSON out: parsing, routing, errors, CORS and logs.

Every handler gets a :class:`Request` and returns a :class:`Response` or raises
:class:`ApiError`; anything else becomes a logged 500 whose body carries only
the request id, never a traceback.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from functions.ids import new_id

MAX_BODY = 64 * 1024
MAX_DEPTH = 32
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOWED_HEADERS = "content-type, idempotency-key"
RETRY_AFTER_SECONDS = 1

logger = logging.getLogger("chuchuang")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class ApiError(Exception):
    """An answer to the client: HTTP status, stable code, human message, optional details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> Response:
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        headers = {"allow": ALLOWED_METHODS} if self.status == 405 else {}
        return Response(self.status, body, headers)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    request_id: str
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self, *, optional: bool = False) -> Any:
        """The body as strict JSON; ``None`` for an empty body when ``optional``."""
        if not self.raw_body and optional:
            return None
        media = (self.header("content-type") or "").split(";")
        params = {k.strip().lower(): v.strip().strip('"').lower()
                  for k, _, v in (p.partition("=") for p in media[1:])}
        if media[0].strip().lower() != "application/json" or params.get("charset", "utf-8") != "utf-8":
            raise ApiError(415, "unsupported_media_type", "send the body as application/json (UTF-8)")
        value = decode_json(self.raw_body)
        if value is None:  # a JSON null is not "no body": it must not pass for an optional one
            raise ApiError(422, "invalid_body", "the body must be a JSON object")
        return value


def ok(body: Any, status: int = 200) -> Response:
    return Response(status, body)


def log(level: int, event: str, **fields: Any) -> None:
    """One structured JSON log line carrying the current request id."""
    if logger.isEnabledFor(level):
        record = {"level": logging.getLevelName(level), "event": event,
                  "request_id": _request_id.get(), **fields}
        logger.log(level, json.dumps(record, ensure_ascii=False, default=str))


# --- strict JSON -----------------------------------------------------------------

def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _check_shape(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nesting deeper than {MAX_DEPTH}")
        if isinstance(item, str):
            item.encode("utf-8")  # lone surrogates from \ud800 escapes fail here
        elif isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def decode_json(raw: bytes) -> Any:
    """Parse JSON strictly: UTF-8, no duplicate keys, no NaN/Infinity, bounded nesting."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates,
                           parse_constant=_reject_constant, parse_float=_finite_float)
        _check_shape(value)
    except UnicodeError:
        raise ApiError(400, "invalid_json", "the body is not valid UTF-8") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", f"nesting deeper than {MAX_DEPTH}") from None
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    return value


def fields(data: Any, *, required: Iterable[str] = (), optional: Iterable[str] = ()) -> dict[str, Any]:
    """Check a JSON object has every required field and nothing unknown."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object")
    required, optional = set(required), set(optional)
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(unknown)}",
                       {"fields": unknown, "allowed": sorted(required | optional)})
    missing = sorted(required - set(data))
    if missing:
        raise ApiError(422, "missing_field", f"missing field(s): {', '.join(missing)}", {"fields": missing})
    return data


def integer(value: Any, name: str, low: int, high: int) -> int:
    """A JSON integer (not a bool, not 1.0) within [low, high]."""
    if type(value) is not int or not low <= value <= high:
        raise ApiError(422, "invalid_field", f"{name} must be an integer from {low} to {high}",
                       {"field": name, "min": low, "max": high})
    return value


def string(value: Any, name: str, max_length: int = 255) -> str:
    """A non-empty JSON string of at most ``max_length`` characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise ApiError(422, "invalid_field", f"{name} must be a string of 1 to {max_length} characters",
                       {"field": name})
    return value


# --- events in, responses out ------------------------------------------------------

def parse_event(event: dict, context: object = None) -> Request:
    """Turn an HTTP API v2 event into a :class:`Request` (size and encoding checked)."""
    ctx = event.get("requestContext") or {}
    method = (ctx.get("http") or {}).get("method") or event.get("httpMethod") or "GET"
    request_id = ctx.get("requestId") or getattr(context, "aws_request_id", None) or new_id()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    body = event.get("body") or ""
    if len(body) > MAX_BODY * 4 // 3 + 4:
        raise ApiError(413, "body_too_large", f"the body exceeds {MAX_BODY} bytes")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_body", "the body is not valid base64") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body exceeds {MAX_BODY} bytes")
    return Request(method=method.upper(), path=event.get("rawPath") or "/", headers=headers,
                   query=query, raw_body=raw, request_id=request_id)


def _cors(origin: str | None) -> dict[str, str]:
    configured = os.environ.get("CHUCHUANG_SITE_ORIGIN")
    if configured is None:
        allow = "*"
    else:
        allowed = [o.strip() for o in configured.split(",") if o.strip()]
        allow = origin if origin in allowed else (allowed[0] if allowed else "null")
    headers = {"access-control-allow-origin": allow,
               "access-control-expose-headers": "x-request-id, retry-after"}
    if configured is not None:
        headers["vary"] = "Origin"
    return headers


Handler = Callable[[Request], Response]


class Router:
    """Routes by method and path template (``/api/carts/{cart_id}``), whatever the routeKey.

    ``transient`` tells an exception that means "a dependency is busy, retry" (a 503
    with ``Retry-After``) from a bug (a 500).
    """

    def __init__(self, transient: Callable[[BaseException], bool] = lambda exc: False) -> None:
        self._routes: list[tuple[str, tuple[str, ...], str, Handler]] = []
        self._transient = transient

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append((method, tuple(template.strip("/").split("/")), template, handler))

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str]:
        try:
            parts = [unquote(p, errors="strict") for p in path.strip("/").split("/")]
        except UnicodeError:
            raise ApiError(400, "invalid_path", "the path is not valid percent-encoded UTF-8") from None
        path_matched = False
        for route_method, pattern, template, handler in self._routes:
            if len(pattern) != len(parts):
                continue
            params: dict[str, str] = {}
            for want, got in zip(pattern, parts):
                if want.startswith("{"):
                    if not got:
                        break
                    params[want[1:-1]] = got
                elif want != got:
                    break
            else:
                if route_method == method:
                    return handler, params, template
                path_matched = True
        if path_matched:
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}")
        raise ApiError(404, "not_found", f"no such endpoint: {path}")

    def __call__(self, event: dict, context: object = None) -> dict:
        started = time.monotonic()
        token = _request_id.set("-")
        route, origin, method = "-", None, None
        try:
            try:
                request = parse_event(event, context)
                method, origin = request.method, request.header("origin")
                _request_id.set(request.request_id)
                if request.method == "OPTIONS":
                    response = Response(204, None, {"access-control-allow-methods": ALLOWED_METHODS,
                                                    "access-control-allow-headers": ALLOWED_HEADERS,
                                                    "access-control-max-age": "600"})
                else:
                    handler, params, route = self._match(request.method, request.path)
                    response = handler(replace(request, params=params))
            except ApiError as err:
                response = err.response()
            except Exception as exc:  # the catch-all: log everything, tell the client nothing
                response = _unavailable(route, exc) if self._transient(exc) else _internal_error(route)
            try:
                result = _render(response, origin, _request_id.get())
            except Exception:
                response = _internal_error(route)
                result = _render(response, origin, _request_id.get())
            log(logging.INFO, "request", method=method, route=route, status=response.status,
                ms=round((time.monotonic() - started) * 1000, 1))
            return result
        finally:
            _request_id.reset(token)


def _internal_error(route: str) -> Response:
    import traceback  # only on the error path

    log(logging.ERROR, "unhandled_exception", route=route, traceback=traceback.format_exc())
    return ApiError(500, "internal_error", "an unexpected error occurred",
                    {"request_id": _request_id.get()}).response()


def _unavailable(route: str, exc: BaseException) -> Response:
    log(logging.WARNING, "dependency_unavailable", route=route, error=type(exc).__name__)
    error = ApiError(503, "unavailable", "the service is busy; retry the same request shortly",
                     {"request_id": _request_id.get(), "retry_after": RETRY_AFTER_SECONDS})
    return replace(error.response(), headers={"retry-after": str(RETRY_AFTER_SECONDS)})


def _render(response: Response, origin: str | None, request_id: str) -> dict:
    headers = {"cache-control": "no-store", "x-content-type-options": "nosniff",
               "x-request-id": request_id, **_cors(origin), **response.headers}
    body = ""
    if response.body is not None:
        headers["content-type"] = "application/json; charset=utf-8"
        body = json.dumps(response.body, ensure_ascii=False, separators=(",", ":"))
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": False}
