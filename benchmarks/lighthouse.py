#!/usr/bin/env python3
"""Lighthouse 12 (mobile) on the demo served by ``chuchuang serve``: home, a creator, a product, the cart.

Installs npm ``lighthouse@12`` into a temporary prefix (or uses ``--lighthouse``),
copies the demo site to a temporary folder, serves it on a free port with
``chuchuang serve --no-watch``, audits each page with Debian's Chromium and
prints the four category scores. Exit 1 if any score is below ``--min``.

    python benchmarks/lighthouse.py [--min 0.95] [--keep-json DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run --disable-quic")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {"home": "", "creator": "lin-xiaoyu/", "product": "lin-xiaoyu/lancome-serum/", "cart": "cart/"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install_lighthouse(prefix: Path) -> Path:
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix),
                    "lighthouse@12"], check=True)
    return prefix / "node_modules" / ".bin" / "lighthouse"


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def audit(lighthouse: Path, url: str, report: Path) -> dict[str, float]:
    subprocess.run([str(lighthouse), url, "--quiet", "--form-factor=mobile", "--output=json",
                    f"--output-path={report}", f"--chrome-flags={CHROME_FLAGS}",
                    f"--only-categories={','.join(CATEGORIES)}"],
                   check=True, env={**os.environ, "CHROME_PATH": CHROME})
    data = json.loads(report.read_text(encoding="utf-8"))
    return {c: data["categories"][c]["score"] for c in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.95)
    parser.add_argument("--lighthouse", type=Path, help="an installed lighthouse binary")
    parser.add_argument("--keep-json", type=Path, help="keep the JSON reports here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chuchuang-lighthouse-"))
    server = None
    try:
        lighthouse = args.lighthouse or install_lighthouse(work / "npm")
        site = work / "demo"
        site.mkdir()
        shutil.copy(REPO / "site.yaml", site / "site.yaml")
        for folder in ("content", "templates"):
            shutil.copytree(REPO / folder, site / folder)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "generator.cli", "-C", str(site), "serve", "--port",
                                   str(port), "--no-watch"], env={**os.environ, "PYTHONPATH": str(REPO), "CI": "1"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/"
        wait_for(base)
        reports = args.keep_json or work / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        worst = 1.0
        print(f"| page | {' | '.join(CATEGORIES)} |\n|---|{'---:|' * len(CATEGORIES)}")
        for name, path in PAGES.items():
            scores = audit(lighthouse, base + path, reports / f"{name}.json")
            worst = min(worst, *scores.values())
            print(f"| {name} (/{path}) | {' | '.join(f'{scores[c]:.2f}' for c in CATEGORIES)} |", flush=True)
        return 0 if worst >= args.min else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
