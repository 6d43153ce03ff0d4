"""Cached records round-trip exactly: what the cache gives back is what reading the file gives."""
from __future__ import annotations

from pathlib import Path

from generator.config import load_config
from generator.content import read_content
from generator.records import dump_record, load_record

REPO = Path(__file__).resolve().parents[2]


def test_every_demo_record_round_trips() -> None:
    config, report = load_config(REPO / "site.yaml")
    assert config is not None, report
    content, report = read_content(REPO / "content", config)
    assert report.ok
    records = [*content.creators.values(), *content.products]
    assert any(p.images for p in content.products) and any(c.avatar for c in content.creators.values())
    assert any(p.draft for p in content.products) and any(c.links for c in content.creators.values())
    for record in records:
        again = load_record(dump_record(record))
        assert again == record and type(again) is type(record)
        assert all(type(a) is type(b) for a, b in zip(vars(again).values(), vars(record).values()))
