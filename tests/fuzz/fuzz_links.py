"""Fuzz the partner-link gate: ``check_link`` never raises, and what it accepts is a plain partner link.

    python tests/fuzz/fuzz_links.py tests/fuzz/corpus/links -atheris_runs=100000

(atheris; without a corpus folder it starts from nothing). ``tests/fuzz/test_corpus.py``
replays the corpus through :func:`check` in the normal test run.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generator.links import LinkVerdict, check_link

PARTNERS = {"tmall": ["tmall.com", "tmall.hk"], "taobao": ["taobao.com", "tb.cn"], "weimai": ["weimai.com"]}
NAMES = {"tmall": "天猫", "taobao": "淘宝", "weimai": "微卖"}
_FORBIDDEN = set("\\ \t\r\n\x00@")


def check(data: bytes) -> None:
    """One input: any exception, or an accepted link that is not plainly a partner link, is a bug."""
    url = data[:8192].decode("utf-8", "surrogateescape")
    verdict = check_link(url, PARTNERS, NAMES)
    assert isinstance(verdict, LinkVerdict)
    if not verdict.ok:
        assert verdict.code.startswith("link.") and verdict.message, verdict
        return
    assert len(url) <= 2048 and url[:8].lower() == "https://", url
    authority = url[8:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    assert not _FORBIDDEN & set(authority) and ":" not in authority, url
    assert verdict.partner in PARTNERS, verdict
    assert any(verdict.host == d or verdict.host.endswith("." + d) for d in PARTNERS[verdict.partner]), verdict


if __name__ == "__main__":
    from harness import fuzz

    fuzz(check)
