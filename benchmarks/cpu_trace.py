#!/usr/bin/env python3
"""Where a command spends the machine: CPU busy, user and system time every half second.

    python benchmarks/cpu_trace.py -- python -m generator.cli -C SITE build --clean
    python benchmarks/cpu_trace.py --disk /tmp        # how dear creating files is right now

The first form runs the command and prints one line per interval (percent of
one core; 200% is both cores of this machine). A build shows its phases: reading
and Markdown near 200% user, the gap where only the build process works, and
rendering, whose system share is the cost of creating the pages' files.

The second form times 10,000 directories with one 14 KB file each, in one process
and then in two at once, under a fresh folder of DIR. On this VM's disk the
figure moves from about 0.5 s to over 10 s depending on what was written
before; read build times in the light of it.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INTERVAL = 0.5
FILES = 10_000
PAGE = b"x" * 14_000


def _cpu() -> tuple[int, int, int, int]:
    """(total, idle, user, system) jiffies since boot, over all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return sum(values), values[3] + values[4], values[0] + values[1], values[2]


def trace(command: list[str]) -> int:
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    process = subprocess.Popen(command)
    last = _cpu()
    while process.poll() is None:
        time.sleep(INTERVAL)
        now = _cpu()
        total, idle, user, system = (a - b for a, b in zip(now, last))
        last = now
        if total:
            scale = 100 * cores / total
            print(f"{time.perf_counter() - started:6.1f}s  busy {(total - idle) * scale:4.0f}%  "
                  f"user {user * scale:4.0f}%  sys {system * scale:4.0f}%", file=sys.stderr)
    return process.returncode


def _make(root: str, first: int, last: int) -> None:
    for i in range(first, last):
        folder = f"{root}/c{i // 50:04d}/p{i:05d}"
        os.makedirs(folder, exist_ok=True)
        with open(f"{folder}/index.html", "wb") as page:
            page.write(PAGE)


def disk(parent: Path) -> None:
    for workers in (1, 2):
        root = tempfile.mkdtemp(prefix="cpu-trace-", dir=parent)
        try:
            os.sync()
            started = time.perf_counter()
            share = FILES // workers
            processes = [multiprocessing.Process(target=_make, args=(root, k * share, (k + 1) * share))
                         for k in range(workers)]
            for p in processes:
                p.start()
            for p in processes:
                p.join()
            print(f"{FILES:,} folders with a 14 KB file, {workers} process(es): "
                  f"{time.perf_counter() - started:.2f} s", file=sys.stderr)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disk", type=Path, help="time creating files under this folder instead")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to trace (after --)")
    args = parser.parse_args()
    if args.disk:
        disk(args.disk)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to trace, or --disk DIR")
    return trace(command)


if __name__ == "__main__":
    sys.exit(main())
