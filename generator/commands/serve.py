"""``chuchuang serve [--port 8000] [--host 127.0.0.1] [--backend embedded|aws]``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from generator.diagnostics import BuildError


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("serve", help="build, watch and serve the showcase with /api and a sandbox merchant")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--backend", choices=("embedded", "aws"), default=os.environ.get("CHUCHUANG_BACKEND", "embedded"),
                   help="embedded: moto's server in this process (default); aws: the AWS account and "
                        "CHUCHUANG_TABLE/CHUCHUANG_HANDOFF_QUEUE from the environment")
    p.add_argument("--no-watch", action="store_true", help="do not rebuild on changes")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.serve import DevServer

    server = DevServer(Path(args.root), args.host, args.port, args.backend, watch=not args.no_watch)
    done = threading.Event()
    # SIGTERM stops as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        try:
            server.start()
        except BuildError as exc:
            print(exc.report.format(), file=sys.stderr)
            print("build failed: fix the errors above and run chuchuang serve again", file=sys.stderr)
            server.stop()
            return 1
        except OSError as exc:
            print(f"chuchuang serve: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
            server.stop()
            return 1
        print(f"serving {server.url}  (API {server.url}api/, sandbox merchant {server.url}_sandbox/)"
              f"  — Ctrl-C to stop", file=sys.stderr, flush=True)
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", file=sys.stderr)
    return 0
