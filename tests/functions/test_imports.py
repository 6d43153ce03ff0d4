"""The Lambda handlers import nothing but the standard library, boto3 and our own modules."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# boto3 and what botocore itself imports (certifi only when it is installed: botocore's optional CA bundle).
ALLOWED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi", "functions"}
CODE = "import functions.app, functions.worker, functions.sweep, sys; print('\\n'.join(sys.modules))"


def _importtime(code: str) -> tuple[set[str], set[str]]:
    """Top-level names ``-X importtime`` reports, and those actually loaded (failed optional imports drop out)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    reported = {line.split("|")[-1].strip().split(".")[0]
                for line in result.stderr.splitlines()[1:] if line.startswith("import time:")}
    loaded = {name.split(".")[0] for name in result.stdout.split()}
    return reported, loaded


def test_handlers_import_only_stdlib_boto3_and_functions():
    startup, _ = _importtime("pass")
    reported, loaded = _importtime(CODE)
    foreign = sorted(name for name in (reported & loaded) - startup
                     if name not in ALLOWED and name not in sys.stdlib_module_names and not name.startswith("__"))
    assert foreign == [], f"handlers import non-stdlib modules: {foreign}"
    assert {"functions", "boto3"} <= reported
    assert not {"moto", "yaml", "jinja2", "markdown", "generator"} & loaded
