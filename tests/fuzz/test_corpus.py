"""Replay the fuzzers' seed corpora (and anything they found, once saved there) in the normal test run.

The harnesses (``fuzz_*.py``) run under atheris by hand or in a long CI job; this
keeps every saved input a regression test without atheris installed.
"""
from __future__ import annotations

from pathlib import Path

import fuzz_front_matter
import fuzz_links
import fuzz_markdown
import pytest

CORPUS = Path(__file__).parent / "corpus"
TARGETS = {"links": fuzz_links.check, "front_matter": fuzz_front_matter.check, "markdown": fuzz_markdown.check}


def _inputs(target: str) -> list[Path]:
    return sorted(p for p in (CORPUS / target).iterdir() if p.is_file())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_seed_corpus_replays_cleanly(target):
    inputs = _inputs(target)
    assert len(inputs) >= 20, f"the {target} corpus is missing"
    for path in inputs:
        try:
            TARGETS[target](path.read_bytes())
        except Exception as exc:  # name the input that broke, then fail with its traceback
            raise AssertionError(f"{target} input {path.name} failed: {exc!r}") from exc


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_harness_survives_mutated_seeds(target):
    """A cheap stand-in for the fuzzer in every run: truncations and byte flips of each seed."""
    check = TARGETS[target]
    for path in _inputs(target)[:40]:
        data = path.read_bytes()
        for variant in (data[: len(data) // 2], data[::-1][:200], bytes(b ^ 0x20 for b in data[:300]),
                        data.replace(b"\n", b"\r"), b"\xff" + data):
            check(variant)
