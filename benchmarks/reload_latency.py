"""How long from saving a product file to the reload event an open page receives.

    python benchmarks/reload_latency.py [--runs 10]

Starts ``chuchuang serve``'s DevServer on a copy of the demo site (port 0), opens
the ``/_reload`` event stream as a page does, edits one product file per run
and reports the median and worst time until the ``reload`` event arrives.
"""
from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.serve import DevServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        shutil.copy(REPO / "site.yaml", root / "site.yaml")
        shutil.copytree(REPO / "content", root / "content")
        shutil.copytree(REPO / "templates", root / "templates")
        server = DevServer(root, port=0)
        server.start()
        try:
            parts = urlsplit(server.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request("GET", "/_reload")
            response = conn.getresponse()    # keep it: dropping it closes the stream
            stream = response.fp             # the connection's 30 s timeout applies to reads
            stream.readline()  # the first event: the current state
            page = root / "content" / "lin-xiaoyu" / "lancome-serum.md"
            times = []
            for run in range(args.runs):
                started = time.monotonic()
                page.write_text(page.read_text(encoding="utf-8") + f"\n<!-- edit {run} -->\n", encoding="utf-8")
                while not stream.readline().startswith(b"event: reload"):
                    pass
                times.append(time.monotonic() - started)
                time.sleep(0.3)
            response.close()
        finally:
            server.stop()
    print(f"save → reload event over {args.runs} edits: median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
