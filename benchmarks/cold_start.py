#!/usr/bin/env python3
"""Cold start of each Lambda handler: import time and first request, each in a fresh process.

For every handler in ``functions/template.yaml`` (app, worker, sweep) a new
interpreter imports the handler module (boto3 included, nothing of ours cached
but .pyc files), then — under moto's in-process ``mock_aws``, whose import and
setup are not counted — serves one typical first request: ``GET /api/stock``
for the API, an empty SQS batch for the worker, a scheduled sweep for the sweep.
Medians of ``--runs`` fresh processes.

    python benchmarks/cold_start.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HANDLERS = {
    "functions.app.handler (GET /api/stock)": "app",
    "functions.worker.handler (SQS batch)": "worker",
    "functions.sweep.handler (schedule)": "sweep",
}

CHILD = r"""
import json, os, sys, time
kind = sys.argv[1]
started = time.perf_counter()
module = __import__(f"functions.{kind}", fromlist=["handler"])
imported = time.perf_counter()
from moto import mock_aws
from functions import store
with mock_aws():
    store.reset()
    store.create_table(os.environ["CHUCHUANG_TABLE"])
    if kind == "app":
        event = json.load(open(sys.argv[2]))
    elif kind == "worker":
        event = {"Records": []}
    else:
        os.environ["CHUCHUANG_HANDOFF_QUEUE"] = store.client("sqs").create_queue(QueueName="q")["QueueUrl"]
        event = {"source": "aws.events"}
    store.reset()      # the first request creates its clients, as in a fresh Lambda
    before = time.perf_counter()
    module.handler(event, None)
    served = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (served - before) * 1000}))
"""


def measure(kind: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "CHUCHUANG_TABLE": "chuchuang-bench", "CHUCHUANG_LOG_LEVEL": "WARNING"}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(REPO / "tests/events/get-stock-200.json")],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"| handler | import (median of {args.runs}) | first request | total |\n|---|---:|---:|---:|")
    for label, kind in HANDLERS.items():
        runs = [measure(kind) for _ in range(args.runs)]
        imp = statistics.median(r["import_ms"] for r in runs)
        first = statistics.median(r["first_ms"] for r in runs)
        print(f"| {label} | {imp:.0f} ms | {first:.0f} ms | {imp + first:.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
