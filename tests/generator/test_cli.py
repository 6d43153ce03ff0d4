"""The chuchuang command: exit codes, diagnostics formats, new/check/build."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from generator.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], capture_output=True, text=True)


def test_check_passes_on_minimal_site(minimal_site: Path, capsys) -> None:
    assert main(["-C", str(minimal_site), "check"]) == 0
    assert "0 errors" not in capsys.readouterr().err


def test_check_reports_lookalike_link_with_file_and_line(minimal_site: Path) -> None:
    bad = minimal_site / "content" / "mei" / "teapot.md"
    bad.write_text(bad.read_text().replace("https://detail.tmall.com/item.htm?id=42",
                                           "https://tmall.com.evil.cn/item?id=1"))
    result = run("-C", str(minimal_site), "check")
    assert result.returncode == 1
    assert f"{minimal_site}/content/mei/teapot.md:3:1: error: link: tmall.com.evil.cn" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_json_format_is_the_documented_list(minimal_site: Path) -> None:
    bad = minimal_site / "content" / "mei" / "teapot.md"
    bad.write_text(bad.read_text().replace('"89.90"', "89.90"))
    result = run("-C", str(minimal_site), "check", "--format", "json")
    assert result.returncode == 1
    [diag] = json.loads(result.stdout)
    assert set(diag) == {"file", "line", "column", "severity", "code", "message", "hint"}
    assert diag["line"] == 4 and diag["code"] == "content.price-float" and diag["severity"] == "error"


def test_check_paths_limit_the_report(minimal_site: Path) -> None:
    bad = minimal_site / "content" / "mei" / "teapot.md"
    bad.write_text(bad.read_text().replace("stock: 0", "stock: -2"))
    other = minimal_site / "content" / "mei" / "oolong.md"
    assert run("-C", str(minimal_site), "check", str(other)).returncode == 0
    assert run("-C", str(minimal_site), "check", str(bad)).returncode == 1


def test_usage_error_exits_2() -> None:
    assert run("build", "--no-such-flag").returncode == 2
    assert run("frobnicate").returncode == 2


def test_new_creator_and_product_pass_check(minimal_site: Path) -> None:
    root = str(minimal_site)
    assert run("-C", root, "new", "creator", "ada-lee").returncode == 0
    assert run("-C", root, "new", "creator", "ada-lee").returncode == 1
    assert run("-C", root, "new", "creator", "Bad_Id").returncode == 1
    result = run("-C", root, "new", "product", "ada-lee", "kettle", "--link", "https://detail.tmall.com/item.htm?id=7")
    assert result.returncode == 0, result.stderr
    assert run("-C", root, "check").returncode == 0


def test_new_product_refuses_a_hostile_link(minimal_site: Path) -> None:
    result = run("-C", str(minimal_site), "new", "product", "mei", "x", "--link", "https://tmall.com@evil.cn/")
    assert result.returncode == 1 and "user" in result.stderr.lower()
    assert not (minimal_site / "content" / "mei" / "x.md").exists()


def test_build_with_content_error_exits_1_and_writes_nothing(minimal_site: Path) -> None:
    bad = minimal_site / "content" / "mei" / "teapot.md"
    bad.write_text(bad.read_text().replace("merchant: glassworks", "merchant: Glass Works"))
    result = run("-C", str(minimal_site), "build")
    assert result.returncode == 1
    assert "teapot.md:6:1" in result.stderr
    assert not (minimal_site / "public").exists() and not (minimal_site / "catalog.json").exists()


def test_catalog_inside_output_is_a_usage_error(minimal_site: Path) -> None:
    result = run("-C", str(minimal_site), "build", "--catalog", str(minimal_site / "public" / "catalog.json"))
    assert result.returncode == 2
