"""Where a running ``chuchuang serve`` listens, so other commands can use its backend."""
from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

RECORD = Path(".chuchuang") / "serve.json"


def write_record(root: Path, data: dict) -> Path:
    path = root / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**data, "pid": os.getpid()}, indent=1), encoding="utf-8")
    return path


def remove_record(root: Path) -> None:
    path = root / RECORD
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def read_record(root: Path) -> dict | None:
    """The record of a live ``serve`` in ``root``, or ``None`` (a stale record is ignored)."""
    try:
        data = json.loads((root / RECORD).read_text(encoding="utf-8"))
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data


def use_serve_backend(root: Path) -> bool:
    """Point this process at the embedded backend of a running ``serve``, if there is one.

    An explicit ``AWS_ENDPOINT_URL`` or ``CHUCHUANG_BACKEND=aws`` wins: then the
    environment decides, as it would in CI.
    """
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("CHUCHUANG_BACKEND") == "aws":
        return False
    record = read_record(root)
    if record is None or not record.get("endpoint"):
        return False
    os.environ.update(AWS_ENDPOINT_URL=record["endpoint"], AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=record.get("region", "us-east-1"),
                      AWS_REGION=record.get("region", "us-east-1"), CHUCHUANG_TABLE=record["table"],
                      CHUCHUANG_HANDOFF_QUEUE=record.get("queue_url", ""))
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    print(f"using the embedded backend of 'chuchuang serve' at {record['url']}", file=sys.stderr)
    return True


def reachable(endpoint: str, timeout: float = 3) -> bool:
    """A TCP probe, so a stopped local endpoint fails at once rather than after the SDK's retries."""
    parts = urlsplit(endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False
