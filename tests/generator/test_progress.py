"""The progress bar: drawn only on a terminal after a second, erased at the end."""
from __future__ import annotations

import io

import pytest

from generator import progress as progress_module
from generator.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """No waiting for the first second, no rate limit."""
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr(progress_module, "INTERVAL", 0.0)
    monkeypatch.delenv("CI", raising=False)


def test_a_stage_counts_work_handed_out_in_several_batches(shown: None) -> None:
    terminal = _Terminal()
    bar = Progress(terminal)
    bar.begin("rendering", 40)
    bar.advance(30)
    bar.more(60)
    bar.advance(20)
    assert terminal.getvalue().rsplit("\r", 1)[-1].split()[2] == "50/100"
    bar.close()
    assert terminal.getvalue().endswith("\r\x1b[2K")


def test_nothing_is_drawn_in_ci_or_off_a_terminal(monkeypatch: pytest.MonkeyPatch, shown: None) -> None:
    plain = io.StringIO()
    Progress(plain).begin("reading", 10)
    monkeypatch.setenv("CI", "true")
    terminal = _Terminal()
    Progress(terminal).begin("reading", 10)
    assert plain.getvalue() == terminal.getvalue() == ""
