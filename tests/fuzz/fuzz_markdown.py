"""Fuzz the Markdown pipeline: ``render`` never raises and never lets active content through.

    python tests/fuzz/fuzz_markdown.py tests/fuzz/corpus/markdown -atheris_runs=20000
"""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generator.markup import Rendered, render, summary

_ALLOWED = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "s", "code", "pre",
            "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span", "sup",
            "sub"}
_NOISE = re.compile(r"[\x00-\x20\x7f]")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "id", "srcset", "formaction"):
                self.problems.append(f"attribute {name}")
            if name in ("href", "src") and _NOISE.sub("", value or "").lower().startswith(
                    ("javascript:", "vbscript:", "data:", "file:")):
                self.problems.append(f"{name}={value!r}")

    handle_startendtag = handle_starttag


def check(data: bytes) -> None:
    """One input: any exception, or any active content in the output, is a bug."""
    text = data[:65536].decode("utf-8", "surrogateescape")
    rendered = render(text)
    assert isinstance(rendered, Rendered) and rendered.words >= 0
    audit = _Audit()
    audit.feed(rendered.html)
    audit.close()
    assert not audit.problems, (audit.problems, rendered.html[:500])
    for limit in (1, 7, 120):
        short = summary(rendered.text, limit)
        assert len(short) <= limit, (limit, short)


if __name__ == "__main__":
    from harness import fuzz

    fuzz(check)
