"""Typed reading of one YAML mapping, collecting every problem with its line."""
from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any

from generator.diagnostics import Report
from generator.yamlio import LineDict, LineList

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_INT = 10**9


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """A "did you mean" hint for ``word`` among ``choices``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


class Fields:
    """Reads keys from one mapping; wrong or missing values become diagnostics.

    Each getter returns ``None`` (or the default) when the value is missing or
    wrong, so callers can keep going and report every problem at once.
    """

    def __init__(self, data: object, file: Path, report: Report, prefix: str = "",
                 line: int = 1) -> None:
        self.file = file
        self.report = report
        self.prefix = prefix
        self.seen: set[str] = set()
        if isinstance(data, LineDict):
            self.data: LineDict = data
        else:
            self.data = LineDict()
            self.data.line = getattr(data, "line", line)
            if data is not None:
                self.report.add(file, self.data.line, 1, "schema.type",
                                f"{prefix or 'document'} must be a mapping of keys to values",
                                hint="write 'key: value' lines")

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def where(self, key: str) -> tuple[int, int]:
        return self.data.where(key)

    def error(self, key: str, code: str, message: str, hint: str = "") -> None:
        line, column = self.where(key)
        self.report.add(self.file, line, column, code, message, hint)

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        value = self.data.get(key)  # missing and null read alike
        if value is None and required:
            self.report.add(self.file, self.data.line, self.data.column, "schema.missing",
                            f"{self.name(key)} is required", hint=f"add a '{key}:' line")
        return value

    def _wrong(self, key: str, value: object, expected: str, hint: str = "") -> None:
        if isinstance(value, (LineDict, LineList)):
            shown = type(value).__name__
        elif isinstance(value, dt.date):
            shown = f"{value.isoformat()} (read as a date)"
        else:
            shown = repr(value)
        self.error(key, "schema.type", f"{self.name(key)}: {shown} is not {expected}", hint)

    def str(self, key: str, *, required: bool = False, default: str | None = None,
            max_len: int = 500, pattern: re.Pattern[str] | None = None, pattern_hint: str = "") -> str | None:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self._wrong(key, value, "a string", hint=f"quote it: {key}: \"{value}\""
                        if isinstance(value, (int, float, bool, dt.date)) else "")
            return default
        value = value.strip()
        if required and not value:
            self.error(key, "schema.empty", f"{self.name(key)} must not be empty")
            return default
        if len(value) > max_len:
            self.error(key, "schema.too-long", f"{self.name(key)} is longer than {max_len} characters")
            return default
        if pattern and not pattern.match(value):
            self.error(key, "schema.format", f"{self.name(key)}: {value!r} is not valid", pattern_hint)
            return default
        return value

    def int(self, key: str, *, required: bool = False, default: int | None = None,
            minimum: int = 0, maximum: int = MAX_INT) -> int | None:
        value = self._get(key, required)
        if value is None:
            return default
        if type(value) is not int:
            self._wrong(key, value, "a whole number",
                        hint="write digits only, without quotes or leading zeros")
            return default
        if not minimum <= value <= maximum:
            self.error(key, "schema.range", f"{self.name(key)}: {value} is not between {minimum} and {maximum}")
            return default
        return value

    def bool(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if type(value) is not bool:
            self._wrong(key, value, "true or false", hint="write true or false")
            return default
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if not isinstance(value, dt.date):
            self._wrong(key, value, "a date", hint="write YYYY-MM-DD, e.g. 2026-11-20")
            return None
        return value

    def str_list(self, key: str, *, max_items: int = 50, max_len: int = 100) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self._wrong(key, value, "a list", hint=f"write {key}: [a, b]")
            return ()
        if len(value) > max_items:
            self.error(key, "schema.too-many", f"{self.name(key)} has more than {max_items} items")
            return ()
        out: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip() or len(item) > max_len:
                line, column = value.where(index) if isinstance(value, LineList) else self.where(key)
                self.report.add(self.file, line, column, "schema.type",
                                f"{self.name(key)}[{index}]: {item!r} is not a short text",
                                hint="quote each item")
                continue
            if item.strip() not in out:
                out.append(item.strip())
        return tuple(out)

    def mapping(self, key: str, *, required: bool = False) -> Fields | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, LineDict):
            self._wrong(key, value, "a mapping", hint="indent 'key: value' lines below it")
            return None
        return Fields(value, self.file, self.report, self.name(key))

    def items(self, key: str) -> list[Fields]:
        """A list of mappings, each as its own :class:`Fields`."""
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, value, "a list")
            return []
        out = []
        for index, item in enumerate(value):
            line = value.where(index)[0] if isinstance(value, LineList) else self.where(key)[0]
            out.append(Fields(item, self.file, self.report, f"{self.name(key)}[{index}]", line))
        return out

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def finish(self) -> None:
        """Report every key that no getter asked for, with a "did you mean"."""
        for key in self.data:
            if key not in self.seen:
                self.error(key, "schema.unknown-key", f"unknown key '{self.name(key)}'",
                           did_you_mean(key, sorted(self.seen)) or
                           f"allowed: {', '.join(sorted(self.seen))}")
