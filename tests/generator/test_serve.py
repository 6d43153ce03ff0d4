"""chuchuang serve: site + /api on one port, live reload, last good site kept, clean stop."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from generator.serve import DevServer


@pytest.fixture
def server(minimal_site: Path):
    dev = DevServer(minimal_site, port=0)
    dev.start()
    yield dev
    dev.stop()


def get(url: str) -> tuple[int, str]:
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except Exception as exc:  # HTTPError carries the status and body
        return exc.code, exc.read().decode()  # type: ignore[attr-defined]


class Events:
    """A reader of the /_reload server-sent-events stream."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.conn.request("GET", "/_reload")
        self.sock = self.conn.sock  # the stream is Connection: close, so http.client lets go of it
        self.response = self.conn.getresponse()

    def next(self, timeout: float = 5.0) -> tuple[str, dict]:
        self.sock.settimeout(timeout)
        kind, data = "", {}
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and kind:
                return kind, data

    def close(self) -> None:
        self.response.close()
        self.sock.close()


def test_serves_pages_api_and_sandbox_on_one_port(server: DevServer) -> None:
    status, html = get(server.url)
    assert status == 200 and '<script src="/_reload.js" defer></script>' in html
    status, body = get(server.url + "api/stock?ids=mei--oolong,mei--teapot")
    assert status == 200 and json.loads(body) == {"mei--oolong": {"available": 10}, "mei--teapot": {"available": 0}}
    assert get(server.url + "_sandbox/")[0] == 200
    status, body = get(server.url + "no/such/page/")
    assert status == 404 and "404" in body
    assert get(server.url + "../site.yaml")[0] == 404


def test_edit_reloads_open_pages(server: DevServer, minimal_site: Path) -> None:
    # How fast is measured by benchmarks/reload_latency.py, not asserted here (no timed assertions in tests).
    events = Events(server.url)
    try:
        assert events.next()[0] == "ok"
        page = minimal_site / "content" / "mei" / "oolong.md"
        page.write_text(page.read_text().replace("five infusions", "seven infusions"))
        kind, _ = events.next(timeout=30)
        assert kind == "reload"
        assert "seven infusions" in get(server.url + "mei/oolong/")[1]
    finally:
        events.close()


def test_broken_edit_shows_error_and_keeps_last_good_site(server: DevServer, minimal_site: Path) -> None:
    events = Events(server.url)
    try:
        events.next()
        page = minimal_site / "content" / "mei" / "oolong.md"
        good = page.read_text()
        page.write_text(good.replace('price: "128.00"', "price: 128.001"))
        kind, data = events.next()
        assert kind == "error-report"
        assert f"{page}:4:1" in data["text"]
        status, html = get(server.url + "mei/oolong/")
        assert status == 200 and "128.00" in html
        page.write_text(good.replace("five infusions", "six infusions"))
        assert events.next()[0] == "reload"
        assert "six infusions" in get(server.url + "mei/oolong/")[1]
    finally:
        events.close()


def test_rebuilt_catalog_reaches_the_backend(server: DevServer, minimal_site: Path) -> None:
    page = minimal_site / "content" / "mei" / "teapot.md"
    page.write_text(page.read_text().replace("stock: 0", "stock: 7"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = json.loads(get(server.url + "api/stock?ids=mei--teapot")[1])
        if body["mei--teapot"]["available"] == 7:
            break
        time.sleep(0.1)
    assert body == {"mei--teapot": {"available": 7}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ctrl_c_stops_everything_without_traceback(minimal_site: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    proc = subprocess.Popen([sys.executable, "-m", "generator.cli", "-C", str(minimal_site), "serve", "--port", str(port)],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if line.startswith("serving"):
                break
        assert any(line.startswith("serving") for line in lines), "".join(lines)
        record = json.loads((minimal_site / ".chuchuang" / "serve.json").read_text())
        assert record["pid"] == proc.pid
        # Other commands in the same folder use serve's embedded backend.
        plan = subprocess.run([sys.executable, "-m", "generator.cli", "-C", str(minimal_site), "deploy", "--dry-run",
                               "--out", str(minimal_site / "public")], capture_output=True, text=True, env=env,
                              timeout=120)
        assert plan.returncode == 0, plan.stderr
        assert "using the embedded backend" in plan.stderr and "dry run" in plan.stdout + plan.stderr
        statement = subprocess.run([sys.executable, "-m", "generator.cli", "-C", str(minimal_site), "commissions"],
                                   capture_output=True, text=True, env=env, timeout=60)
        assert statement.returncode == 0, statement.stderr
        events = Events(f"http://127.0.0.1:{port}/")  # an open page must not keep serve alive
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=15)[1]
        events.close()
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in rest and "stopped" in rest
    assert not (minimal_site / ".chuchuang" / "serve.json").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    endpoint_port = urlsplit(record["endpoint"]).port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", endpoint_port), timeout=1).close()
