"""site.yaml: typed config, errors with key and line, rate precedence."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.config import load_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def base(extra_partner: str = "", agreements: str = "") -> str:
    return f"""title: T
base_url: https://x.test/
disclosure: Ad
partners:
  tmall:
    name: 天猫
    domains: [tmall.com]
    handoff: {{type: redirect, url: "{{link}}"}}
    commission: {{default_rate: "0.05", max_rate: "0.20"}}
    secret_env: TMALL_SECRET
{extra_partner}agreements:
{agreements or "  []"}
"""


def test_demo_config_loads_with_partners_agreements_and_lock_window() -> None:
    config, report = load_config(REPO / "site.yaml")
    assert report.ok, report.format()
    assert {"tmall", "taobao", "weimai"} <= set(config.partners)
    assert "tb.cn" in config.partners["taobao"].domains
    assert config.lock_days == 15
    assert config.disclosure


def test_bad_max_rate_names_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, base().replace('max_rate: "0.20"', 'max_rate: "0.5x"'))
    config, report = load_config(path)
    assert config is None
    [d] = report.errors
    assert (d.line, d.code) == (9, "config.rate")
    assert 'partners.tmall.commission.max_rate: \'0.5x\' is not a decimal' in d.message


def test_agreement_above_max_rate_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, base(agreements='  - {creator: a, merchant: m, partner: tmall, rate: "0.30", '
                                           'valid_from: 2026-01-01, valid_to: 2026-12-31}'))
    _, report = load_config(path)
    assert [d.code for d in report.errors] == ["config.rate-above-max"]


def test_overlapping_agreements_are_an_error(tmp_path: Path) -> None:
    rows = ('  - {creator: a, merchant: m, partner: tmall, rate: "0.10", valid_from: 2026-01-01, valid_to: 2026-06-30}\n'
            '  - {creator: a, merchant: m, partner: tmall, rate: "0.12", valid_from: 2026-06-01, valid_to: 2026-12-31}')
    _, report = load_config(write(tmp_path, base(agreements=rows)))
    [d] = report.errors
    assert d.code == "config.overlap" and d.line == 13 and "line 12" in d.message


def test_rate_precedence_agreement_then_default_and_rule_is_named(tmp_path: Path) -> None:
    rows = '  - {creator: a, merchant: m, partner: tmall, rate: "0.10", valid_from: 2026-01-01, valid_to: 2026-06-30}'
    config, report = load_config(write(tmp_path, base(agreements=rows)))
    assert report.ok, report.format()
    assert config.rate_for("a", "m", "tmall", dt.date(2026, 3, 1)) == ("0.10", "agreement:a/m/2026-01-01")
    assert config.rate_for("a", "m", "tmall", dt.date(2026, 7, 1)) == ("0.05", "partner-default:tmall")
    assert config.rate_for("b", "m", "tmall", dt.date(2026, 3, 1)) == ("0.05", "partner-default:tmall")


def test_unknown_key_gets_did_you_mean(tmp_path: Path) -> None:
    _, report = load_config(write(tmp_path, base().replace("disclosure: Ad", "disclosur: Ad")))
    codes = {d.code: d for d in report.errors}
    assert codes["schema.unknown-key"].hint == "did you mean 'disclosure'?"
    assert "disclosure is required" in codes["schema.missing"].message


def test_default_rate_above_max_rate_is_an_error(tmp_path: Path) -> None:
    _, report = load_config(write(tmp_path, base().replace('default_rate: "0.05"', 'default_rate: "0.50"')))
    assert [d.code for d in report.errors] == ["config.rate-above-max"]


def test_unquoted_rate_is_refused_not_coerced(tmp_path: Path) -> None:
    _, report = load_config(write(tmp_path, base().replace('default_rate: "0.05"', "default_rate: 0.05")))
    [d] = report.errors
    assert d.code == "config.rate" and "quoted" in d.message


def test_unknown_partner_in_agreement_suggests_one(tmp_path: Path) -> None:
    rows = '  - {creator: a, merchant: m, partner: tmal, rate: "0.10", valid_from: 2026-01-01, valid_to: 2026-06-30}'
    _, report = load_config(write(tmp_path, base(agreements=rows)))
    [d] = report.errors
    assert d.code == "config.unknown-partner" and d.hint == "did you mean 'tmall'?"


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    _, report = load_config(write(tmp_path, "title: [unclosed\nbase_url: x\n"))
    [d] = report.errors
    assert d.code == "config.yaml" and d.line >= 1


@pytest.mark.parametrize("placeholder", ["{lnk}", "{__class__}"])
def test_unknown_handoff_placeholder_is_an_error(tmp_path: Path, placeholder: str) -> None:
    _, report = load_config(write(tmp_path, base().replace('url: "{link}"', f'url: "{placeholder}"')))
    assert [d.code for d in report.errors] == ["config.placeholder"]
