"""Content hazards: each is a file:line diagnostic from ``chuchuang check --format json``.

Never a crash and never a silently coerced value. The fixtures live in
``tests/sites/invalid/<case>/``: a ``content/`` overlay copied onto the minimal
site and an ``expected.json`` listing exactly the diagnostics ``check`` must
report. Hazards that are too big or too odd for git (10 MB, symlinks) are made
in a temporary folder.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from generator import cli
from generator.config import load_config
from generator.content import read_content

SITES = Path(__file__).resolve().parents[1] / "sites"
CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if (p / "expected.json").is_file())
GOOD = (SITES / "invalid" / "bom" / "content" / "mei" / "hazard.md").read_bytes()[3:]


def check(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict]]:
    """Run ``chuchuang -C site check --format json``; return the exit code and the diagnostics."""
    code = cli.main(["-C", str(site), "check", "--format", "json"])
    out = capsys.readouterr().out
    diagnostics = json.loads(out)
    for d in diagnostics:
        d["file"] = Path(d["file"]).relative_to(site).as_posix()
        assert set(d) == {"file", "line", "column", "severity", "code", "message", "hint"}
        assert d["line"] >= 1 and d["column"] >= 1
    return code, diagnostics


def site_with(tmp_path: Path, case: str | None = None) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    if case:
        shutil.copytree(SITES / "invalid" / case / "content", root / "content", dirs_exist_ok=True)
    return root


def product(site: Path, name: str = "hazard.md"):
    config, report = load_config(site / "site.yaml")
    content, report = read_content(site / "content", config)
    return {p.file.name: p for p in content.products}.get(name), report


def test_every_fixture_names_its_expectations():
    assert len(CASES) >= 20
    assert all(list((SITES / "invalid" / c / "content").rglob("*.md")) for c in CASES)


@pytest.mark.parametrize("case", CASES)
def test_content_hazard_is_reported_as_file_and_line(tmp_path, capsys, case):
    site = site_with(tmp_path, case)
    expected = json.loads((SITES / "invalid" / case / "expected.json").read_text(encoding="utf-8"))
    code, diagnostics = check(site, capsys)
    got = sorted((d["file"], d["line"], d["code"]) for d in diagnostics)
    assert got == sorted((e["file"], e["line"], e["code"]) for e in expected), diagnostics
    for want in expected:
        [d] = [d for d in diagnostics if (d["line"], d["code"]) == (want["line"], want["code"])]
        assert want["message_contains"] in d["message"], d
        assert d["severity"] == "error"
    assert code == (1 if expected else 0)


def test_values_yaml_11_would_coerce_stay_text_where_text_is_expected(tmp_path):
    read, report = product(site_with(tmp_path, "strings-stay-as-written"))
    assert report.ok, report.format()
    assert (read.title, read.merchant, read.description) == ("no", "0755", "12:30:00")
    assert read.tags == ("yes", "on", "1:30", "010", "0x1F", "1e3", "NO")


def test_a_leading_bom_is_tolerated_and_leaves_no_trace(tmp_path):
    with_bom, report = product(site_with(tmp_path, "bom"))
    assert report.ok
    plain = site_with(tmp_path / "plain")
    (plain / "content" / "mei" / "hazard.md").write_bytes(GOOD)
    without, _ = product(plain)
    assert with_bom.title == without.title == "Glass teapot"
    assert {k: v for k, v in vars(with_bom).items() if k != "file"} == \
        {k: v for k, v in vars(without).items() if k != "file"}


def test_a_float_price_hint_quotes_every_digit_as_written(tmp_path, capsys):
    site = site_with(tmp_path)
    (site / "content" / "mei" / "hazard.md").write_bytes(GOOD.replace(b'"89.90"', b"19.999999999999999999"))
    _, [d] = check(site, capsys)
    assert d["code"] == "content.price-float" and d["line"] == 4
    assert '"19.999999999999999999"' in d["hint"]  # not "20.0", which float() would have made of it


def test_a_10_mb_body_is_refused_without_reading_it(tmp_path, capsys):
    site = site_with(tmp_path)
    (site / "content" / "mei" / "hazard.md").write_bytes(GOOD + b"x" * (10 * 1024 * 1024))
    code, diagnostics = check(site, capsys)
    assert code == 1 and [(d["file"], d["line"], d["code"]) for d in diagnostics] == [
        ("content/mei/hazard.md", 1, "content.too-large")]


def test_a_huge_front_matter_is_refused(tmp_path, capsys):
    site = site_with(tmp_path)
    padding = b"".join(b"# %06d\n" % i for i in range(10_000))
    (site / "content" / "mei" / "hazard.md").write_bytes(b"---\n" + padding + GOOD[4:])
    code, [d] = check(site, capsys)
    assert (code, d["code"], d["line"]) == (1, "content.yaml", 2) and "64 KiB" in d["message"]


@pytest.mark.parametrize("target", ["file", "folder", "image", "dangling"])
def test_a_symlink_out_of_content_is_refused(tmp_path, capsys, target):
    site = site_with(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_bytes(GOOD)
    (outside / "secret.png").write_bytes((site / "content" / "mei" / "images" / "oolong.png").read_bytes())
    mei = site / "content" / "mei"
    if target == "file":
        (mei / "hazard.md").symlink_to(outside / "secret.md")
        where = "content/mei/hazard.md"
    elif target == "folder":
        (site / "content" / "ghost").symlink_to(outside, target_is_directory=True)
        where = "content/ghost"
    elif target == "image":
        (mei / "images" / "leak.png").symlink_to(outside / "secret.png")
        (mei / "hazard.md").write_bytes(GOOD.replace(b"tags: [tea]", b"tags: [tea]\nimages: [leak.png]"))
        where = "content/mei/hazard.md"
    else:
        (mei / "hazard.md").symlink_to(tmp_path / "nowhere.md")
        where = "content/mei/hazard.md"
    code, diagnostics = check(site, capsys)
    assert code == 1 and [(d["file"], d["code"]) for d in diagnostics] == [(where, "content.outside-root")]
    assert all(d["line"] >= 1 for d in diagnostics)


def test_a_symlink_loop_is_reported_not_a_crash(tmp_path, capsys):
    site = site_with(tmp_path)
    os.symlink("hazard.md", site / "content" / "mei" / "hazard.md")
    code, diagnostics = check(site, capsys)
    assert code == 1 and [d["code"] for d in diagnostics] == ["content.outside-root"]


@pytest.mark.parametrize("key", ["rate", "commission", "partner", "creator", "sold", "id", "price_cents"])
def test_a_creator_cannot_set_terms_or_identity_in_front_matter(tmp_path, capsys, key):
    """Rates come from the operator's agreements and ids from the folder: such keys are unknown-key errors."""
    site = site_with(tmp_path)
    (site / "content" / "mei" / "hazard.md").write_bytes(GOOD.replace(b"tags: [tea]", f'tags: [tea]\n{key}: "0.9"'.encode()))
    code, diagnostics = check(site, capsys)
    assert code == 1 and [(d["line"], d["code"]) for d in diagnostics] == [(8, "schema.unknown-key")]
