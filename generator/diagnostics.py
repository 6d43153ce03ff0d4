"""Diagnostics: every problem carries its place and a way out."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    file: Path
    line: int
    column: int
    code: str          # "link.lookalike-host"
    message: str       # "tmall.com.evil.cn is not a partner domain"
    hint: str = ""     # "did you mean detail.tmall.com?"
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_json(self) -> dict:
        return {"file": str(self.file), "line": self.line, "column": self.column,
                "severity": self.severity, "code": self.code, "message": self.message,
                "hint": self.hint}


@dataclass
class Report:
    """Collects diagnostics so a run reports every problem, then stops."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, file: Path, line: int, column: int, code: str, message: str,
            hint: str = "", severity: str = "error") -> None:
        self.items.append(Diagnostic(file, line, column, code, message, hint, severity))

    def extend(self, other: Report) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (str(d.file), d.line, d.column, d.code))

    def format(self, fmt: str = "text") -> str:
        items = self.sorted()
        if fmt == "json":
            return json.dumps([d.to_json() for d in items], ensure_ascii=False, indent=2)
        return "\n".join(str(d) for d in items)


class BuildError(Exception):
    """Raised to stop a run after diagnostics were collected."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.format())
        self.report = report
