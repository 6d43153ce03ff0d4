"""``chuchuang serve``: the showcase, ``/api`` and the sandbox merchant on one local port.

The site is built with the normal incremental build, served from disk and
rebuilt when content, templates or site.yaml change (watchfiles); open pages
reload over a server-sent-events channel. A failed rebuild keeps serving the
last good site and shows the error on the page. ``/api/*`` runs through the
local adapter into the production Lambda handler; the embedded backend is
moto's server in this process.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import os
import secrets
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from functions.catalog import load as load_catalog
from generator.build import BuildOptions, build
from generator.diagnostics import BuildError
from generator.local_api import MAX_REQUEST_BODY, ApiRequestHandler, dispatch
from generator.local_env import remove_record, write_record
from generator.sandbox import SANDBOX_CSS, Sandbox

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self' https:; object-src 'none'")
RELOAD_TAG = b'<script src="/_reload.js" defer></script>'
RELOAD_JS = b"""// chuchuang serve: live reload and the build-error overlay (local only).
(() => {
  const source = new EventSource("/_reload");
  let shown = null;
  source.addEventListener("reload", () => location.reload());
  source.addEventListener("error-report", (event) => {
    if (!shown) {
      shown = document.createElement("pre");
      shown.className = "overlay-error";
      shown.setAttribute("role", "alert");
      shown.dataset.buildError = "";
      document.body.append(shown);
    }
    shown.textContent = "Build failed: the last good site is still served.\\n\\n" + JSON.parse(event.data).text;
  });
  source.addEventListener("ok", () => { if (shown) { shown.remove(); shown = null; } });
})();
"""
OVERLAY_CSS = b""".overlay-error{position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;margin:0;padding:1rem;
background:#2b0b0b;color:#ffdede;font:13px/1.5 ui-monospace,monospace;white-space:pre-wrap;z-index:9999;
border-top:4px solid #e5484d}"""


@dataclass
class _State:
    generation: int = 0
    error: str = ""


class DevServer:
    """Build, backend, HTTP server and watcher of one ``chuchuang serve`` run."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000, backend: str = "embedded",
                 watch: bool = True) -> None:
        self.root = root
        self.host = host
        self.port = port
        self.backend_kind = backend
        self.watch = watch
        self.state_dir = root / ".chuchuang"
        self.site_dir = self.state_dir / "site"
        self.catalog_path = self.state_dir / "catalog.json"
        self.state = _State()
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.watching = threading.Event()
        self.backend = None
        self.sandbox: Sandbox | None = None
        self.httpd: ThreadingHTTPServer | None = None
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Bind, build (errors are fatal only for the first build), start backend and watcher."""
        self.httpd = _Server((self.host, self.port), _handler_for(self))
        self.origin = self.url.rstrip("/")
        self._build_or_raise()
        if self.backend_kind == "embedded":
            from generator.backend import start_backend

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines drown the build output
            self.sandbox = Sandbox(self.origin, {})
            catalog = load_catalog(self.catalog_path)
            for partner in catalog.partners.values():
                secret = os.environ.get(partner.secret_env) or f"sandbox-{secrets.token_hex(16)}"
                os.environ[partner.secret_env] = secret
                self.sandbox.secrets[partner.id] = secret
            self.backend = start_backend(self.sandbox.localise(catalog))
            self._create_bucket()
            write_record(self.root, {"url": self.url, "endpoint": self.backend.endpoint, "table": self.backend.table,
                                     "queue_url": self.backend.queue_url,
                                     "region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")})
        self._spawn(self.httpd.serve_forever, "chuchuang-http")
        if self.watch:
            self._spawn(self._watch, "chuchuang-watch")
            # An edit made before the watcher is up would be missed; wait for it.
            self.watching.wait(timeout=10)

    def _create_bucket(self) -> None:
        """An empty site bucket in the embedded backend, so ``deploy --dry-run`` can plan against it."""
        from functions import dynamo
        from generator.config import load_config

        config, _ = load_config(self.root / "site.yaml")
        if config is not None and config.deploy.bucket:
            s3 = dynamo.client("s3")
            try:
                s3.head_bucket(Bucket=config.deploy.bucket)
            except Exception:
                region = s3.meta.region_name
                extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
                s3.create_bucket(Bucket=config.deploy.bucket, **extra)

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _options(self) -> BuildOptions:
        return BuildOptions(root=self.root, out=self.site_dir, catalog=self.catalog_path, base_url=self.url)

    def _build_or_raise(self) -> None:
        result = build(self._options())
        print(result.summary(), file=sys.stderr)

    def rebuild(self) -> bool:
        """Rebuild after a change; on failure keep the last good site and publish the error."""
        try:
            result = build(self._options())
        except BuildError as exc:
            text = exc.report.format()
            print(f"{text}\nbuild failed; still serving the last good site", file=sys.stderr)
            self._publish(error=text)
            return False
        except Exception as exc:  # a rebuild must never take the server down
            self._publish(error=f"{type(exc).__name__}: {exc}")
            print(f"rebuild failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return False
        print(result.summary(), file=sys.stderr)
        if self.backend is not None and self.sandbox is not None:
            self.backend.sync(self.sandbox.localise(load_catalog(self.catalog_path)))
        self._publish(error="")
        return True

    def _publish(self, error: str) -> None:
        with self.changed:
            self.state = _State(self.state.generation + 1, error)
            self.changed.notify_all()

    def _watch(self) -> None:
        import watchfiles

        paths = [p for p in (self.root / "content", self.root / "templates", self.root / "site.yaml") if p.exists()]
        # yield_on_timeout: the first (empty) yield says the watcher is running.
        for changes in watchfiles.watch(*paths, stop_event=self.stopping, debounce=150, step=50,
                                        rust_timeout=200, yield_on_timeout=True, raise_interrupt=False):
            self.watching.set()
            if changes:
                self.rebuild()

    def stop(self) -> None:
        """Stop every thread and server this run started."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        if self.httpd is not None:
            if self.threads:  # shutdown() waits for serve_forever, so only call it once that runs
                self.httpd.shutdown()
            self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.backend is not None:
            self.backend.stop()
            self.backend = None
        remove_record(self.root)

    # -- static files -------------------------------------------------------

    def static(self, raw_path: str) -> tuple[int, dict[str, str], bytes]:
        path = unquote(raw_path)
        if "\x00" in path or "\\" in path:
            return self._not_found()
        relative = path.lstrip("/")
        target = (self.site_dir / relative).resolve()
        site = self.site_dir.resolve()
        if not target.is_relative_to(site):
            return self._not_found()
        if target.is_dir():
            if not path.endswith("/"):
                return 301, {"Location": raw_path + "/"}, b""
            target = target / "index.html"
        if not target.is_file():
            return self._not_found()
        return 200, self._headers(target), self._inject(target)

    def _not_found(self) -> tuple[int, dict[str, str], bytes]:
        page = self.site_dir / "404.html"
        if page.is_file():
            return 404, self._headers(page), self._inject(page)
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"

    def _headers(self, target: Path) -> dict[str, str]:
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json", "application/xml", "application/javascript",
                                                 "image/svg+xml", "application/atom+xml"):
            kind += "; charset=utf-8"
        if target.suffix == ".xml" and target.name != "sitemap.xml":
            kind = "application/atom+xml; charset=utf-8"
        return {"Content-Type": kind, "Cache-Control": "no-cache", "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}

    def _inject(self, target: Path) -> bytes:
        data = target.read_bytes()
        if target.suffix == ".html" and self.watch:
            index = data.rfind(b"</body>")
            if index != -1:
                data = data[:index] + RELOAD_TAG + data[index:]
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def _handler_for(server: DevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(ApiRequestHandler):
        """Site files, /api (through the local adapter), the sandbox and the reload channel."""

        server_version = "chuchuang-serve"

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_REQUEST_BODY:
                self._send(413, {"Content-Type": "application/json"},
                           b'{"error":{"code":"body_too_large","message":"request body too large","details":null}}',
                           close=True)
                return
            body = self.rfile.read(length) if length else b""
            if path.startswith("/api/"):
                self._send(*dispatch(self.command, path, query, list(self.headers.items()), body))
            elif path == "/_reload":
                self._events()
            elif path == "/_reload.js":
                self._send(200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"},
                           RELOAD_JS)
            elif path == "/_sandbox.css":
                self._send(200, {"Content-Type": "text/css; charset=utf-8"}, SANDBOX_CSS + OVERLAY_CSS)
            elif path == "/_sandbox" or path.startswith("/_sandbox/"):
                if server.sandbox is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"the sandbox runs with the embedded backend only")
                else:
                    self._send(*server.sandbox.handle(self.command, path, query, dict(self.headers.items()), body))
            elif self.command in ("GET", "HEAD"):
                self._send(*server.static(path))
            else:
                self._send(405, {"Content-Type": "text/plain", "Allow": "GET, HEAD"}, b"method not allowed")

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            seen = server.state.generation
            try:
                self._emit(server.state)
                while not server.stopping.is_set():
                    with server.changed:
                        server.changed.wait_for(lambda: server.state.generation != seen or server.stopping.is_set(),
                                                timeout=15)
                        state = server.state
                    if server.stopping.is_set():
                        return
                    if state.generation == seen:
                        self.wfile.write(b": keep-alive\n\n")
                        self.wfile.flush()
                        continue
                    seen = state.generation
                    if state.error:
                        self._emit(state)
                    else:
                        self.wfile.write(b"event: reload\ndata: {}\n\n")
                        self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

        def _emit(self, state: _State) -> None:
            kind = b"error-report" if state.error else b"ok"
            data = json.dumps({"text": state.error}).encode()
            self.wfile.write(b"event: " + kind + b"\ndata: " + data + b"\n\n")
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = _handle

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler
