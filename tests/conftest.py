"""Shared fixtures: fixture sites are copied to a temporary folder before use."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"

# Nothing in the test suite may reach real AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SECURITY_TOKEN", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def minimal_site(tmp_path: Path) -> Path:
    """A writable copy of tests/sites/minimal (it uses the repo's templates)."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


@pytest.fixture
def demo_site(tmp_path: Path) -> Path:
    """A writable copy of the demo site (site.yaml, content, templates)."""
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "templates", root / "templates")
    return root
