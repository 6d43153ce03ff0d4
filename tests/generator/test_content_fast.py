"""``load_file`` with the fast paths reads every document exactly as it did before them.

The fast paths (front-matter built straight from libyaml's events, the sliced front-matter split,
the link gate's shortcuts, the field getters) must not change one record or one diagnostic. The
"before" side is the old code itself: the functions they replaced are kept here verbatim and put
back in place of the new ones, while everything the changes did not touch is shared. Both sides read
the benchmark corpus, all the demo content and test sites, and a few hundred seeded mutations of
real product files (fields deleted, mistyped, duplicated; bad links, prices, dates, slugs, images;
broken YAML and front-matter).
"""
from __future__ import annotations

import importlib.util
import random
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import content, links, yamlio
from generator.config import SiteConfig, load_config
from generator.content import FileTask, load_file
from generator.fields import Fields
from generator.links import (
    _BAD_CATEGORIES,
    _C0_AND_SPACE,
    _HOSTLESS,
    _INVISIBLE,
    _SCHEME,
    _SPECIAL,
    MAX_LENGTH,
    LinkVerdict,
    _HostError,
    _normalise_host,
    _reject,
)
from generator.yamlio import MAX_FRONT_MATTER, YamlError, _load_fast, _load_pure

REPO = Path(__file__).resolve().parents[2]


# --- the replaced functions, verbatim as they were before the fast paths -------------------------------------------

def _old_load(text: str, line_offset: int = 0) -> object:
    """Parse one YAML document strictly; raise :class:`YamlError` with a 1-based place."""
    try:
        return _load_fast(text, line_offset)
    except Exception:  # noqa: BLE001, S110 (any refusal or error is the pure reader's to report, in its words)
        pass
    return _load_pure(text, line_offset)  # outside the handler, so its errors chain to nothing of libyaml's


def _old_split_front_matter(text: str) -> tuple[str, str, int]:
    """Split ``---`` front-matter from the body: (yaml_text, body, body_start_line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != "---":
        raise YamlError("file must start with '---' front-matter", 1, 1,
                        hint="put '---' on the first line, the YAML keys, then '---'")
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") in ("---", "..."):
            yaml_text = "\n".join(lines[1:index])
            if len(yaml_text) > MAX_FRONT_MATTER:
                raise YamlError("front-matter is larger than 64 KiB", 2, 1)
            return yaml_text, "\n".join(lines[index + 1:]), index + 2
    raise YamlError("front-matter has no closing '---'", 1, 1,
                    hint="end the YAML block with a line holding only '---'")


def _old_get(self, key: str, required: bool) -> Any:
    self.seen.add(key)
    if key not in self.data or self.data[key] is None:
        if required:
            self.report.add(self.file, self.data.line, self.data.column, "schema.missing",
                            f"{self.name(key)} is required", hint=f"add a '{key}:' line")
        return None
    return self.data[key]


def _bad_character(url: str) -> str | None:
    for index, char in enumerate(url):
        if char in _INVISIBLE or unicodedata.category(char) in _BAD_CATEGORIES:
            name = unicodedata.name(char, "")
            label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
            return f"link contains an invisible or control character ({label}) at position {index + 1}"
    return None


def _old_check(self, url: str) -> LinkVerdict:
    if len(url) > MAX_LENGTH:
        return _reject("link.too-long", f"link is {len(url)} characters; the limit is {MAX_LENGTH}")
    problem = _bad_character(url)
    if problem:
        return _reject("link.bad-character", problem)
    if "\\" in url:
        # Browsers read "\" as "/" in http(s) URLs, so https:/\evil.cn goes to evil.cn.
        return _reject("link.backslash", "link contains a backslash, which browsers read as '/'")
    match = _SCHEME.fullmatch(url)
    if not match:
        kind = "protocol-relative" if url.startswith("//") else "not an absolute URL"
        return _reject("link.not-absolute", f"link is {kind}", hint="start the link with https://")
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme != "https":
        return _reject("link.not-https", f"{scheme}: links are not allowed; use https://")
    if not rest.startswith("//"):
        return _reject("link.malformed", "https: must be followed by // and the host",
                       hint="write https://host/path")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    return self._check_authority(authority, rest[2 + len(authority):])


def _old_redirect_target(self, tail: str, depth: int) -> str | None:
    """Return the off-partner target of any URL-valued query parameter in `tail`."""
    query = tail.partition("#")[0].partition("?")[2]
    for part in re.split(r"[&;]", query):
        value = part.partition("=")[2] if "=" in part else part
        # Decode until stable (bounded) so double-encoded targets are seen too.
        for _ in range(4):
            decoded = unquote(value.replace("+", " "))
            target = self._nested_target(decoded, depth)
            if target is not None:
                return target
            if decoded == value:
                break
            value = decoded
    return None


def _old_nested_target(self, value: str, depth: int) -> str | None:
    # Browsers strip surrounding blanks and drop tabs/newlines before parsing a redirect.
    value = re.sub(r"[\t\n\r]", "", value).strip(_C0_AND_SPACE)
    match = _SCHEME.fullmatch(value)
    scheme = match.group(1).lower() if match else ""
    if scheme in _HOSTLESS:
        return f"a {scheme}: URL"
    if scheme in _SPECIAL or (match and match.group(2).startswith("//")):
        rest = match.group(2) if match else ""
    elif value[:2] in ("//", "/\\", "\\/", "\\\\"):
        rest = value
    else:
        return None
    rest = rest.lstrip("/\\")
    authority = re.split(r"[/\\?#]", rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return host
    host = unquote(host.partition(":")[0])
    try:
        ascii_host = _normalise_host(host)[0]
    except _HostError:
        return host or "an empty host"  # a target we cannot resolve is not a partner
    if self._partner(ascii_host) is None:
        return ascii_host
    # A partner page can itself forward on; follow a few levels.
    return self._redirect_target(rest[len(authority):], depth - 1) if depth > 0 else None


@contextmanager
def old_code(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The old functions back in place of the new ones, for as long as the block runs."""
    with monkeypatch.context() as patch:
        patch.setattr(content, "load", _old_load)
        patch.setattr(content, "split_front_matter", _old_split_front_matter)
        patch.setattr(Fields, "_get", _old_get)
        patch.setattr(links, "_bad_character", _bad_character)
        patch.setattr(links._Gate, "check", _old_check)
        patch.setattr(links._Gate, "_redirect_target", _old_redirect_target)
        patch.setattr(links._Gate, "_nested_target", _old_nested_target)
        yield


# --- what a read gives -------------------------------------------------------------------------------------------

def _value(value: object) -> object:
    """A value with its type, all the way down (a date is not a datetime, True is not 1)."""
    if isinstance(value, (tuple, list)):
        return type(value), [_value(item) for item in value]
    return type(value), repr(value)


def _outcome(task: FileTask, config: SiteConfig, root: Path) -> tuple:
    record, diagnostics = load_file(task, config, root)
    fields = None if record is None else [(name, _value(item)) for name, item in vars(record).items()]
    return type(record), fields, [(d.file, d.line, d.column, d.code, d.message, d.hint, d.severity)
                                  for d in diagnostics]


def assert_same_reads(tasks: list[FileTask], config: SiteConfig, root: Path,
                      monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    new = [_outcome(task, config, root) for task in tasks]
    with old_code(monkeypatch):
        old = [_outcome(task, config, root) for task in tasks]
    for task, before, after in zip(tasks, old, new, strict=True):
        assert after == before, task.path
    return new


def _tasks(root: Path) -> list[FileTask]:
    return [FileTask("creator" if path.name == "_index.md" else "product", path, path.parent.name)
            for path in sorted(root.glob("*/*.md"))]


def _config(path: Path) -> SiteConfig:
    config, report = load_config(path)
    assert config is not None, report.format()
    return config


# --- the inputs --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site written by benchmarks/corpus.py, the generator of the benchmark corpus, from its fixed seed."""
    spec = importlib.util.spec_from_file_location("corpus", REPO / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_corpus(tmp_path_factory.mktemp("corpus") / "site", 400)


def test_the_corpus_reads_the_same(corpus, monkeypatch):
    root = (corpus / "content").resolve()
    outcomes = assert_same_reads(_tasks(root), _config(corpus / "site.yaml"), root, monkeypatch)
    assert len(outcomes) >= 400 and all(record is not type(None) and not diagnostics
                                        for record, _, diagnostics in outcomes)


def test_the_demo_content_reads_the_same(monkeypatch):
    root = (REPO / "content").resolve()
    outcomes = assert_same_reads(_tasks(root), _config(REPO / "site.yaml"), root, monkeypatch)
    assert len(outcomes) >= 50


@pytest.mark.parametrize("site", sorted([REPO / "tests" / "sites" / "minimal",
                                         *(REPO / "tests" / "sites" / "invalid").iterdir()]),
                         ids=lambda site: site.name)
def test_the_test_sites_read_the_same(site, monkeypatch):
    root = (site / "content").resolve()
    config = _config(site / "site.yaml" if (site / "site.yaml").is_file() else REPO / "site.yaml")
    assert_same_reads(_tasks(root), config, root, monkeypatch)


# Each mutation rewrites one product file: (line pattern to find, replacement); "" deletes the line.
VALUES = {
    "title": ["123", '""', "''", "~", "true", "[a]", "{a: 1}", "x" * 121, "'  padded  '", "中文 标题", "2026-01-01",
              "1.5", "yes", "'it''s'", '"tab\\there"'],
    "link": ["http://detail.tmall.com/x", "https://tmall.com.evil.cn/x", "https://detail.tmall.com/x?u=https://evil.cn",
             "https://tаobao.com/x", '"https://detail.tmall.com/\\u200bx"', "https://user@tmall.com/x",
             "https://tmall.com:8080/x", "javascript:alert(1)", '"https://detail.tmall.com/ x"', "//tmall.com/x",
             "https:tmall.com", "https://taobao.com/x?a=1&b=%2F%2Fevil.cn", "https://TMALL.COM/x", "https://tmal.com/x",
             "https://[::1]/x", "https://1.2.3.4/x", "https://tmall.com./x", "https://xn--80ak6aa92e.com/",
             "https://tmall%2Ecom/x", '"https://detail.tmall.com/\\\\x"', "https://item.jd.com/1.html#?u=//x.cn",
             "x" * 5000, "~", "[https://jd.com/]"],
    "price": ['"99.00"', '"0"', '"-1"', '"abc"', "12.5", "12", "0", "true", '"1.234"', '"99999999999"', "~",
              '"1,000"', '" 5 "', "[1]", "1e3", '"1e3"', '"+5.0"', "'7.10'"],
    "stock": ['"95"', "9.5", "-1", "1000001", "abc", "0", "07", "1:30", "0x1F", "~", "yes", "1_000", "true"],
    "merchant": ["Bad_Merchant", "ok-merchant", '""', "123", "a--b", "x" * 61, "-lead"],
    "tags": ["中文", "{a: 1}", "[a, [b]]", "[a, a, ' a ']", "[" + ", ".join(map(str, range(13))) + "]", "[1, true]",
             "[]", "~", "['', x]", "[" + "y" * 31 + "]", "\n  - a\n  - 2026-01-01"],
    "date": ["2026-13-45", '"2026-01-01"', "2026-01-02 10:00:00", "2026-01-02T10:00:00+08:00", "2026-02-29",
             "2024-02-29", "01/02/2026", "~", "20260101", "2026-1-2", "1:30", "[2026-01-01]"],
}
EXTRA = ["draft: yes", "draft: true", "draft: 1", "draft: ~", "weight: 07", "weight: 10001", "weight: -5",
         "slug: Bad Slug", "slug: ok-slug", "slug: ''", "images: [missing.jpg]", "images: [../x.png]",
         "images: [a.bmp]", "images: [pic.jpg]", "images: pic.jpg", "images: [pic.jpg, pic.jpg]",
         "description: " + "d" * 161, "description: 5", "titel: typo", "tittle: x", "Price: 1", "a: &x 1\nb: *x",
         "c: !!str 1", "d: [x, y", "e: {a: 1", "f: 'open", "\tg: 1", "h:\tx", "i: @x", "j: |\n  block\n  text",
         "k: >-\n  folded", "? complex\n: key", "1: numeric key", "l: [a?b]", "\ufeffm: 1", "n: \x07"]
WHOLE = ["no closing", "dots closing", "crlf", "bom", "nul", "bad utf-8", "no front-matter", "empty front-matter",
         "list front-matter", "scalar front-matter", "huge front-matter", "second document", "cr only"]


def _mutate(text: str, rng: random.Random) -> tuple[str, bytes | None]:
    """One seeded change to a valid product file: the new text, or raw bytes for the undecodable cases."""
    head, _, body = text[4:].partition("\n---\n")
    lines = head.split("\n")
    kind = rng.choice(["value"] * 6 + ["delete", "duplicate", "extra", "extra", "whole"])
    if kind == "value":
        key = rng.choice(sorted(VALUES))
        lines = [f"{key}: {rng.choice(VALUES[key])}" if line.startswith(key + ":") else line for line in lines]
    elif kind == "delete":
        lines.pop(rng.randrange(len(lines)))
    elif kind == "duplicate":
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
    elif kind == "extra":
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(EXTRA))
    else:
        return _whole(rng.choice(WHOLE), head, body)
    return "---\n" + "\n".join(lines) + "\n---\n" + body, None


def _whole(kind: str, head: str, body: str) -> tuple[str, bytes | None]:
    """A change to the document as a whole: its delimiters, encoding or shape."""
    text = f"---\n{head}\n---\n{body}"
    changed = {
        "no closing": f"---\n{head}\n{body}", "dots closing": f"---\n{head}\n...\n{body}",
        "crlf": text.replace("\n", "\r\n"), "no front-matter": body, "empty front-matter": f"---\n---\n{body}",
        "list front-matter": f"---\n- a\n- b\n---\n{body}", "scalar front-matter": f"---\njust text\n---\n{body}",
        "huge front-matter": f"---\n{head}\nz: {'x' * 70000}\n---\n{body}",
        "second document": f"---\n{head}\n---\nmore: 1\n---\n{body}", "cr only": text.replace("\n", "\r"),
    }
    if kind in changed:
        return changed[kind], None
    data = text.encode()
    if kind == "bom":
        return "", b"\xef\xbb\xbf" + data
    if kind == "nul":
        return "", data.replace(b"\n---\n", b"\n---\n\x00", 1)
    return "", data.replace(b"title: ", b"title: \xff", 1)


def test_mutated_product_files_read_the_same(corpus, tmp_path, monkeypatch):
    """Three hundred seeded mutations of real product files: the same records and diagnostics, in order."""
    rng = random.Random(20260601)
    sources = sorted((corpus / "content").glob("*/p*.md"))
    root = tmp_path / "content"
    tasks = []
    for index in range(300):
        source = rng.choice(sources)
        folder = root / source.parent.name
        if not folder.is_dir():
            (folder / "images").mkdir(parents=True)
            (folder / "images" / "pic.jpg").write_bytes(b"\xff\xd8\xff")
        text, data = _mutate(source.read_text(encoding="utf-8"), rng)
        name = rng.choice([f"m{index:03d}.md"] * 9 + [f"Bad_Name{index}.md"])
        (folder / name).write_bytes(text.encode() if data is None else data)
        tasks.append(FileTask("product", folder / name, folder.name))
    outcomes = assert_same_reads(tasks, _config(corpus / "site.yaml"), root.resolve(), monkeypatch)
    codes = {diagnostic[3] for _, _, diagnostics in outcomes for diagnostic in diagnostics}
    assert sum(record is not type(None) for record, _, _ in outcomes) >= 30, "too few mutations stay valid"
    assert {"content.yaml", "schema.type", "schema.missing", "schema.unknown-key", "content.price",
            "content.price-float", "content.slug", "content.image-missing"} <= codes
    assert sum(code.startswith("link.") for code in codes) >= 8


def test_every_listed_mutation_reads_the_same(corpus, tmp_path, monkeypatch):
    """Each value, extra line and whole-document change above, once, on one product file per partner."""
    sources = [min(folder.glob("p*.md")) for folder in sorted((corpus / "content").iterdir())[:4]]
    root = tmp_path / "content"
    tasks = []
    for source in sources:
        folder = root / source.parent.name
        (folder / "images").mkdir(parents=True)
        (folder / "images" / "pic.jpg").write_bytes(b"\xff\xd8\xff")
        text = source.read_text(encoding="utf-8")
        head, _, body = text[4:].partition("\n---\n")
        lines = head.split("\n")
        changed = [(f"---\n{line}\n" + "\n".join(lines) + f"\n---\n{body}", None) for line in EXTRA]
        changed += [(f"---\n{key}: {value}\n" + "\n".join(line for line in lines if not line.startswith(key + ":"))
                     + f"\n---\n{body}", None) for key, values in VALUES.items() for value in values]
        changed += [_whole(kind, head, body) for kind in WHOLE]
        for index, (text, data) in enumerate(changed):
            path = folder / f"v{index:03d}.md"
            path.write_bytes(text.encode() if data is None else data)
            tasks.append(FileTask("product", path, folder.name))
    assert_same_reads(tasks, _config(corpus / "site.yaml"), root.resolve(), monkeypatch)


def test_the_old_code_is_really_put_back(monkeypatch):
    """The comparison is worth something only if the "before" side runs the old functions."""
    with old_code(monkeypatch):
        assert content.load is _old_load and Fields._get is _old_get and links._Gate.check is _old_check
    assert content.load is yamlio.load and links._Gate.check is not _old_check


def test_the_bad_character_shortcut_skips_no_character_the_walk_would_name():
    """Every code point the shortcut lets through (printable, not a space, not invisible) is one the
    per-character walk passes too; and both name the same first bad character in mixed links."""
    for code in range(0x110000):
        char = chr(code)
        if char.isprintable() and char != " " and char not in _INVISIBLE:
            assert unicodedata.category(char) not in _BAD_CATEGORIES, hex(code)
    rng = random.Random(7)
    pool = "ab/:.?=%\u200b\u00a0 \t\x7f\u034f\u3164\ud800\ue000\u2028中é"
    for _ in range(3000):
        url = "".join(rng.choice(pool) for _ in range(rng.randint(0, 8)))
        assert links._bad_character(url) == _bad_character(url), repr(url)


def _split(split, text: str) -> tuple:
    try:
        return split(text)
    except YamlError as exc:
        return exc.message, exc.line, exc.column, exc.hint


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(["---", "...", "----", "--- ", "\r", "\n", "\n", "x", "a: 1", "-", ".", "\u2028", "\x85"]),
                max_size=14).map("".join))
def test_the_front_matter_split_is_the_old_one(text):
    assert _split(yamlio.split_front_matter, text) == _split(_old_split_front_matter, text)


@pytest.mark.parametrize("text", ["---", "---\n---", "---\n...", "---\r\r\n---\r\nx", "---\nx\n---", "---\n---\n",
                                  "---\na: 1\n---\r\nbody\n---\n", "--- \n---", "---\nx\n--- \n---\nb",
                                  "---\n" + "a" * MAX_FRONT_MATTER + "\n---\n", "---\n" + "a" * (MAX_FRONT_MATTER + 1) + "\n---"])
def test_the_front_matter_split_agrees_at_the_edges(text):
    assert _split(yamlio.split_front_matter, text) == _split(_old_split_front_matter, text)
