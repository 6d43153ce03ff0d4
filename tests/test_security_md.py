"""SECURITY.md: every test it names exists, and every table row names at least one."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(test_\w+)`")


def _tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_named_in_security_md_exists():
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named = 0
    for line in text.splitlines():
        current = None
        for file, test in REFERENCE.findall(line):
            current = file or current
            assert current, f"{test} is named without its file: {line[:80]}"
            assert test in _tests(ROOT / current), f"SECURITY.md names {current}::{test}, which does not exist"
            named += 1
    assert named >= 60


def test_every_rule_row_names_a_test():
    rows = [line for line in (ROOT / "SECURITY.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and line.count("|") >= 4 and not line.startswith(("| rule", "| actor", "|---"))
            and "**" not in line]
    assert rows and all(REFERENCE.search(row) for row in rows), [r[:60] for r in rows if not REFERENCE.search(r)]
