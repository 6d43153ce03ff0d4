"""The local adapter: plain HTTP requests in, the production Lambda handler, HTTP out.

``to_event`` builds exactly the API Gateway HTTP API (payload 2.0) event the
deployed function receives, so ``chuchuang serve`` and the tests run the
production code path.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

MAX_REQUEST_BODY = 1024 * 1024   # the function itself answers 413 above 64 KiB
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


class _Context:
    """The bits of a Lambda context object the handlers read."""

    function_name = "chuchuang-local"
    memory_limit_in_mb = 256

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def to_event(method: str, raw_path: str, query_string: str, headers: dict[str, str] | Iterable[tuple[str, str]],
             body: bytes) -> dict:
    """An API Gateway HTTP API v2 event for one request (headers lower-cased, repeats comma-joined)."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in (headers.items() if isinstance(headers, dict) else headers):
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    request_id = str(uuid.uuid4())
    now = time.time()
    event: dict = {
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": query_string,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000", "apiId": "local", "domainName": merged.get("host", "localhost"),
            "domainPrefix": "local", "requestId": request_id, "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
            "http": {"method": method.upper(), "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": merged.get("user-agent", "")},
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if cookies:
        event["cookies"] = cookies
    if body:
        content_type = merged.get("content-type", "").lower()
        try:
            text = body.decode("utf-8") if content_type.startswith(_TEXT_TYPES) else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            event["body"] = text
    return event


def dispatch(method: str, raw_path: str, query_string: str, headers: dict[str, str] | Iterable[tuple[str, str]],
             body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Run one request through ``functions.app.handler``; return status, headers and body bytes."""
    from functions import app

    event = to_event(method, raw_path, query_string, headers, body)
    result = app.handler(event, _Context(event["requestContext"]["requestId"]))
    payload = result.get("body") or ""
    data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
    return int(result["statusCode"]), dict(result.get("headers") or {}), data


class ApiRequestHandler(BaseHTTPRequestHandler):
    """Serves ``/api/*`` through :func:`dispatch`; everything else is a JSON 404."""

    protocol_version = "HTTP/1.1"
    server_version = "chuchuang-local"

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BODY:
            self._send(413, {"content-type": "application/json"},
                       json.dumps({"error": {"code": "body_too_large", "message": "request body too large",
                                             "details": None}}).encode(), close=True)
            return
        body = self.rfile.read(length) if length else b""
        if not path.startswith("/api/") and path != "/api":
            self._send(404, {"content-type": "application/json"},
                       json.dumps({"error": {"code": "not_found", "message": f"no such endpoint: {path}",
                                             "details": None}}).encode())
            return
        status, headers, data = dispatch(self.command, path, query, list(self.headers.items()), body)
        self._send(status, headers, data)

    def _send(self, status: int, headers: dict[str, str], data: bytes, close: bool = False) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:  # the function logs each request itself
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128   # a burst of fans (or the concurrency test) must not hit the default 5


def serve_api(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start serving ``/api`` on a daemon thread; stop with ``shutdown()`` then ``server_close()``."""
    server = _Server((host, port), ApiRequestHandler)
    threading.Thread(target=server.serve_forever, name="chuchuang-api", daemon=True).start()
    return server
