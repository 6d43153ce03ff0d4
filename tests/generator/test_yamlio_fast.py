"""The libyaml fast path of ``yamlio.load`` gives exactly what the pure-Python reader gives.

``load`` reads front-matter with libyaml's C parser under our own composer and
constructor, and falls back to the pure reader on anything else. These tests
hold the two paths side by side: same values, same types all the way down, same
line and column marks, and the pure reader's errors word for word.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import yamlio
from generator.yamlio import LineDict, LineList, YamlError

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "fuzz" / "corpus"
MARKDOWN = sorted([*(REPO / "content").rglob("*.md"), *(REPO / "tests" / "sites").rglob("*.md")])
SITE_YAML = sorted([*REPO.glob("*.yaml"), *(REPO / "tests" / "sites").rglob("site.yaml")])


def _shape(value: object) -> object:
    """All that ``load`` promises about a value: types all the way down, values, float texts, marks."""
    if isinstance(value, LineDict):
        items = [(_shape(key), _shape(item)) for key, item in value.items()]
        return type(value), value.line, value.column, items, list(value.lines.items())
    if isinstance(value, LineList):
        return type(value), value.line, value.column, [_shape(item) for item in value], value.lines
    if isinstance(value, float):
        return type(value), repr(value), float.__repr__(value)
    if isinstance(value, dt.datetime):  # aware datetimes in different zones compare equal
        return type(value), repr(value), value.utcoffset()
    return type(value), repr(value)


def _outcome(read, text: str) -> tuple:
    try:
        return ("value", _shape(read(text, 1)))
    except YamlError as exc:
        return ("YamlError", exc.message, exc.line, exc.column, exc.hint)
    except Exception as exc:  # noqa: BLE001 (whatever the pure reader raises, load must raise the same)
        return (type(exc).__name__, str(exc))


def assert_paths_agree(text: str) -> None:
    """``load`` is the pure reader's outcome; when libyaml (or its events, built directly) reads the text,
    it reads it identically, and the direct build never reads what the composer path does not."""
    pure = _outcome(yamlio._load_pure, text)
    assert _outcome(yamlio.load, text) == pure
    try:
        events = yamlio._load_events(text, 1)
    except Exception:  # noqa: BLE001 (declined or refused: load went on to the composer and the pure reader)
        events = None
    else:
        assert pure[0] == "value", f"the event builder read what the pure reader refuses: {pure}"
        assert _shape(events) == pure[1]
    try:
        fast = yamlio._load_fast(text, 1)
    except Exception:  # noqa: BLE001 (libyaml declined or refused it: load gave the pure reader's answer)
        assert events is None, "the event builder read what the composer path declines"
        return
    assert pure[0] == "value", f"libyaml read what the pure reader refuses: {pure}"
    assert _shape(fast) == pure[1]
    if events is not None:
        assert _shape(events) == _shape(fast)


def _front_matter(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", "replace")
    try:
        return yamlio.split_front_matter(text)[0]
    except YamlError:  # the hazard fixtures without front-matter: read all of it
        return text


def test_libyaml_is_there_to_be_used():
    assert yamlio._FastStrictLoader is not None


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(REPO).as_posix())
def test_front_matter_of_every_content_file_reads_the_same(path):
    assert_paths_agree(_front_matter(path))


def test_ordinary_front_matter_is_read_by_libyaml():
    """The speed-up is real only if ordinary files do not fall back to the pure reader."""
    for path in (REPO / "content").rglob("*.md"):
        text = _front_matter(path)
        assert _shape(yamlio._load_fast(text, 1)) == _shape(yamlio._load_pure(text, 1)), path


def test_ordinary_front_matter_is_built_straight_from_events():
    """The second speed-up is real only if ordinary files are not handed on to the composer."""
    for path in [*(REPO / "content").rglob("*.md"), *(REPO / "tests" / "sites" / "minimal").rglob("*.md")]:
        text = _front_matter(path)
        assert _shape(yamlio._load_events(text, 1)) == _shape(yamlio._load_pure(text, 1)), path


@pytest.mark.parametrize("path", SITE_YAML, ids=lambda p: p.relative_to(REPO).as_posix())
def test_site_yaml_reads_the_same(path):
    assert_paths_agree(path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.rglob("*") if p.is_file()),
                         ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_fuzz_seed_reads_the_same(path):
    data = path.read_bytes().decode("utf-8", "replace")
    assert_paths_agree(data)
    assert_paths_agree(data.removeprefix("---\n").split("\n---", 1)[0])


TRICKY = [
    # documents: empty, null, markers, directives, several
    "", " ", "\n\n", "# only a comment", "---", "--- \n", "...", "---\n...\n", "~", "null", "''", "x", "- a\n- b",
    "a: 1\n---\nb: 2", "--- x", "--- |\n  x", "--- >\nx\n", "a: b\n... # x", "%YAML 1.1\n---\na: 1",
    "%YAML 1.2\n---\na: 1", "%YAML 1.3\n---\na: 1", "%TAG ! tag:x.com,2000:\n---\na: !b c",
    # what the strict loader refuses: anchors, aliases, tags, duplicate or non-string keys, deep nesting
    "a: &x 1\nb: *x", "a: *x", "a: [&x 1]", "a: !!int 0755", "a: !!str 1", "a: !local x", "a: ! 12", "a: !",
    "- !\n- ! ''", "a: !<tag:yaml.org,2002:str> x", "a: 1\na: 2", "a: 1\nb:\n  c: 1\n  c: 2", "? a\n: 1",
    "? [a]\n: 1", "? |\n  k\n: v", "[a]: 1", "1: a", "true: a", "~: a",
    "a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 40)),
    "a: " + "[" * 40 + "]" * 40, "a: " + "[" * 31 + "]" * 31, "a: " + "[" * 32 + "]" * 32,
    # block, folded, multi-line and quoted scalars
    "a: |\n  line one\n  line two\n", "a: |-\n  x\n\n", "a: |+\n  x\n\n", "a: |2\n    x\n", "a: |\n\n  x\n",
    "a: >\n  folded\n  text\n\n  p\n", "a: >-\n  a\n    b\n  c\n", "a: |#c\n  x\n", "a: |  # c\n  x\n",
    "a: >-#\n  x\n", "a: plain\n  continued\n\n  para", "\n\n\na:\n\n\n  b", "a: 'single\n  line'",
    'a: "double\\\n  escaped"', 'a: "\\t\\u00e9\\x41\\N\\_\\L\\P\\/"', 'a: "\\ud800"', 'a: "x"#c',
    # flow collections, '?' and ':' inside them, comments, quoted keys
    "a: {b: 1, c: [x, y]}", "a: {b: 1,\n  c: 2}", "a: [b,\n  c]", "a: [x\n y]", "a: {b}", "a: [b: c]",
    "a: [? b: c]", "a: [x?y]", "a: {u: https://x.com/?q=1}", "a: [https://x.com/?q=1]",
    "link: https://x.com/?q=1\ntags: [a, b]", "a: {a:1}", "a: [a:b]", 'a: {"b":c}', "a: {b:c}", "a: [b:c]",
    "a: b # comment\n# c\nc: d #", "'quoted key': 1", '"quoted key": 1',
    # unicode, line breaks, BOMs, tabs, control characters
    "中文: 价格", "emoji: 🍵", "a: [🍵, b, 中文, c]\nb: {🍵: 1, x: 2}", "a: é\u2028b", "a: b\u2029c: d", "a: b\x85c: d",
    "a: 1\r\nb: 2\r\n", "a: 1\r\nb: [x,\r\n  y]\r\n", "a: 1\rb: 2", "a: 'x\r\n  y'", "\ufeffa: 1", "a: 1\n\ufeffb: 2",
    "a: '\ufeff'", "a:\tb", "a: b\tc", "\ta: 1", "a: [b,\tc]", "a: 'x\ty'", "a: \x07", "a: '\x1b'", "a: \x00",
    "a: \ud800",
    # dates, numbers, booleans, nulls
    "a: 2026-01-02", "a: 2026-01-02 10:00:00", "a: 2026-01-02T10:00:00+08:00", "a: 2026-01-02t10:00:00Z",
    "a: 2026-01-02 10:00:00...", "a: 2026-13-45", "a: 2026-02-30", "a: 12:30:00", "a: 1_000", "a: 0x1F", "a: 0o17",
    "a: 017", "a: +1", "a: -0", "a: 1:30", "a: " + "9" * 5000, "a: " + "9" * 4300, "a: 89.90", "a: 1e999",
    "a: 1.0e999", "a: -1.0e999", "a: .5", "a: 1.", "a: .inf", "a: .nan", "a: yes", "a: on", "a: True", "a: FALSE",
    "a: Null", "a: ~", "a:", "a: -", "a: - b",
    # indentation and plain syntax errors
    "- - a\n  - b\n- c", "-\n  a: 1\n  b: 2", "a:\n- b\n- c", "a:\n  - b\n   - c", "  a: 1\n b: 2", "a: b: c",
    "- a\n -b", "a:\n - b\n c: d", "a: 'unterminated", 'a: "unterminated', "a: [unterminated", "a: {b: 1", "a: }",
    "]", "a: @x", "a: `x", "a: %x", "k" * 1100 + ": 1", "a: " + "x" * 70000,
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_yaml_reads_the_same(text):
    assert_paths_agree(text)


@pytest.mark.parametrize("text", ["\ufeffa: 1", "a: 1\n\ufeffb: 2", "a: b\tc", "a: |#c\n  x\n", "a: !", "a: [x?y]",
                                  "a: {u: https://x.com/?q=1}", "a: \x07"])
def test_what_libyaml_reads_otherwise_goes_to_the_pure_reader(text):
    with pytest.raises(yamlio._NotFast):
        yamlio._load_fast(text, 1)
    assert_paths_agree(text)


def test_an_error_keeps_the_pure_readers_words_and_place():
    with pytest.raises(YamlError) as caught:
        yamlio.load("a: 1\nb: [x,\n", line_offset=1)
    assert _outcome(yamlio._load_pure, "a: 1\nb: [x,\n")[1:] == (caught.value.message, caught.value.line,
                                                                caught.value.column, caught.value.hint)


@pytest.mark.parametrize("text", ["a: *x", "a: 1\na: 2", "a: [x,"])
def test_an_error_does_not_chain_to_the_libyaml_attempt(text):
    with pytest.raises(YamlError) as fast:
        yamlio.load(text)
    with pytest.raises(YamlError) as pure:
        yamlio._load_pure(text, 0)
    assert (fast.value.__context__ is None) == (pure.value.__context__ is None)
    assert fast.value.__suppress_context__ == pure.value.__suppress_context__
    assert type(fast.value.__context__) is type(pure.value.__context__)


YAMLISH = " \t\n\r\n:-?,[]{}#&*!|>'\"%@`~.\\0123456789aeEfnNtTxy中é\x85\u2028\u2029\ufeff\x07"
ATOMS = ["a", "b c", "1", "-2", "0", "07", "1.5", "89.90", "1e5", "1.0e999", ".5", "true", "no", "~", "null", "",
         "2026-01-02", "2026-01-02 10:00:00", "2026-01-02T10:00:00+08:00", "1_000", "0x1F", "1:30", "http://x.com/?y=1",
         "a?b", "a:b", "a#b", "-x", "中文", "é", "'it''s'", "'multi\n line'", "\"q\\tx\\u00e9\\x41\\N\\_\\/\"",
         "\"a\\\n b\"", "\"two\n\n lines\"", "plain\n cont", "plain\n\n  para", "x\r\n y", "x\x85 y", "x\u2028y",
         "[a, b]", "{a: 1}", "[]", "{}", "[a, b, ]", "{? a}", "[a: b]", "{a: [1, {b: c}]}", "[\n a,\n b\n]",
         "{a: 1,\n b: 2}", "{'k': \"v\", 1: [x, 2.50]}"]
ODD_ATOMS = ["2026-13-45", ":x", "!x", "!", "! a", "!!str 1", "&a 1", "*a", "%x", "@x", "`x", "[a?b]", "\"\\ud800\"",
             "\"\\L\\P\"", "'\ufeff'", "a\tb", "'a\tb'", "2026-01-02 10:00:00..."]
KEYS = ["title", "price", "tags", "date", "stock", '"q k"', "'s k'", "中文", "a b", "k.1"]
ODD_KEYS = ["1", "true", "~", "? x", "[k]", "&a k", "!!str k", '"tab\tk"']
BLOCK_LINES = ["x", "two words", "", " indented", "# not a comment"]


def _weighted(draw, usual: list[str], odd: list[str]) -> str:
    """Mostly one of ``usual``; one time in ten one of ``odd``."""
    return draw(st.sampled_from(odd if draw(st.integers(min_value=0, max_value=9)) == 0 else usual))


@st.composite
def front_matter(draw) -> str:
    """Structured front-matter from a small grammar, mostly well-formed; sometimes an odd piece or a stray character."""
    def keys(count: int) -> list[str]:
        unique = draw(st.lists(st.sampled_from(KEYS), min_size=count, max_size=count, unique=True))
        return [_weighted(draw, [key], ODD_KEYS) for key in unique]

    def node(depth: int, indent: int) -> str:
        nested = ["seq", "map"] * 2 if depth < 3 else []
        kind = draw(st.sampled_from(["atom"] * 6 + ["text", "block", "block"] + nested))
        pad = " " * (indent + draw(st.sampled_from([2, 2, 1, 4])))
        if kind == "atom":
            return " " + _weighted(draw, ATOMS, ODD_ATOMS).replace("\n", "\n" + pad)
        if kind == "text":
            return " " + draw(st.text(alphabet=st.sampled_from(YAMLISH), max_size=8))
        if kind == "block":
            header = _weighted(draw, ["|", ">", "|-", ">+", "|2", "| # c"], ["|#", ">-#"])
            lines = draw(st.lists(st.sampled_from(BLOCK_LINES), max_size=4))
            return " " + header + "".join("\n" + pad + line for line in lines)
        count = draw(st.integers(min_value=0, max_value=3))
        if not count:
            return " []" if kind == "seq" else " {}"
        if kind == "seq":
            return "".join("\n" + pad + "-" + node(depth + 1, len(pad) + 2) for _ in range(count))
        return "".join("\n" + pad + key + ":" + node(depth + 1, len(pad)) for key in keys(count))

    lines = [key + ":" + node(0, 0) + draw(st.sampled_from(["", "", " # c", " #c"]))
             for key in keys(draw(st.integers(min_value=1, max_value=6)))]
    text = _weighted(draw, ["", "", "# c\n", "---\n"], ["%YAML 1.1\n---\n", "--- "]) + "\n".join(lines)
    text += _weighted(draw, ["", "\n", "\n...\n"], ["\n---\n", "\n--- x"])
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + draw(st.sampled_from(YAMLISH)) + text[at:]
    return text.replace("\n", _weighted(draw, ["\n"], ["\r\n", "\r", "\x85", "\u2028", "\u2029"]))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter())
def test_generated_front_matter_reads_the_same(text):
    assert_paths_agree(text)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from(YAMLISH)), st.text()))
def test_random_text_reads_the_same(text):
    assert_paths_agree(text)


# Every spelling the strict resolvers (and YAML 1.1's, which they must not follow) know, and near misses.
SPELLINGS = [
    "true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On",
    "ON", "off", "Off", "OFF", "y", "n", "null", "Null", "NULL", "nULL", "~", "", "0", "-0", "+0", "00", "0755",
    "0o17", "0x1F", "0b101", "+12", "-12", "12", "1_000", "1,000", "1:30", "-1:30:00", "190:20:30.15", "１２",
    "1.5", "-1.5", "+1.5", "1.", ".5", "-.5", "1.5e3", "1.5E-3", "1e5", "1.0e999", "-1.0e999", "89.90", "0.0",
    "-0.0", "1.2.3", ".inf", "-.inf", ".Inf", ".nan", ".NaN", "2026-01-02", "2026-1-2", "2026-01-02T10:00:00Z",
    "2026-01-02t10:00:00z", "2026-01-02 10:00:00", "2026-01-02T10:00:00.123456+08:00", "2026-01-02 10:00:00 +08:00",
    "2026-01-02T10:00:00-05", "2026-13-45", "2026-02-30", "2024-02-29", "2026-02-29", "0000-01-01", "9999-12-31",
    "2026-00-10", "2026-01-02 ", "2026-01-02T10:00", "10:00:00", "2026-01-02x", "9" * 4301, "9" * 30,
    "x", "two words", "中文 价格", "🍵", "é", "a:b", "a#b", "-x", "?x", "x?", "<<", "=", "!x", "&x", "*x",
    "'it''s'", "\"q\\\"x\\t\\u00e9\\x41\\N\\_\\L\\/\"", "\"\\ud800\"", "'---'", "'...'", "--- x",
    "... x", "x ---", "x" * 3000,
]


def _quoted(spelling: str, style: str) -> str:
    if style == "'":
        return "'" + spelling.replace("'", "''") + "'"
    if style == '"':
        return '"' + spelling.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return spelling


@pytest.mark.parametrize("spelling", SPELLINGS, ids=lambda s: repr(s[:20]))
def test_every_spelling_reads_the_same_in_every_place(spelling):
    """Plain, quoted, as a key, in flow and block lists and nested mappings: the same value, type and place."""
    for style in ("", "'", '"'):
        value = _quoted(spelling, style)
        assert_paths_agree(f"a: {value}\nb: x")
        assert_paths_agree(f"{value}: 1\nb: x")
        assert_paths_agree(f"a: [{value}, {value}]\nb: [x,\n  {value}]")
        assert_paths_agree(f"a:\n  - {value}\n  -   {value}  # c\nb:\n- {value}")
        assert_paths_agree(f"a:\n  b: {value}\n  c: {{d: {value}}}\nz: 2")
        assert_paths_agree(f"- {{a: {value}}}\n- [{value}]")


@pytest.mark.parametrize("text", [
    "a: &x 1", "a: *x", "a: !!str 1", "a: ! x", "a: !", "a: [!x 1]", "a: 1\na: 2", "a:\n  b: 1\n  b: 2", "1: a",
    "~: a", "? [a]\n: 1", "[a]: 1", "%YAML 1.1\n---\na: 1", "%TAG ! tag:x.com,2000:\n---\na: 1", "a: 1\n---\nb: 2",
    "a: [x?y]", "a: {b?: c}", "\ufeffa: 1", "a: b\tc", "a: |#\n  x", "a: \x07", "x", "- a", "", "# c",
    "a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 40)), "a: " + "[" * 40 + "]" * 40,
])
def test_what_the_event_builder_declines_goes_on_to_the_old_paths(text):
    """Tags, anchors, aliases, duplicate and odd keys, directives, several documents, libyaml's differences,
    non-mapping roots and deep nesting are not built from events: ``load`` gives the old paths' answer."""
    with pytest.raises(Exception):  # noqa: B017 (_NotFast, or libyaml's own error: either way load reads it again)
        yamlio._load_events(text, 1)
    assert_paths_agree(text)


KEY_NAMES = ["title", "link", "price", "tags", "date", "stock", "中文键", "a b", "k-1", "draft", "x" * 200]
COMMENTS = ["", "", "", " # c", "  #c", " #"]


@st.composite
def flat_front_matter(draw) -> str:
    """Front-matter shaped like real files: a flat mapping of spellings in every style, lists, small mappings,
    empty values, comments, duplicate keys; now and then a tab, a BOM, a tag, an anchor or an alias."""
    def scalar() -> str:
        return _quoted(draw(st.sampled_from(SPELLINGS[:-1])), draw(st.sampled_from(["", "", "'", '"'])))

    def value() -> str:
        kind = draw(st.sampled_from(["scalar"] * 5 + ["flow", "block", "map", "empty", "multi"]))
        if kind == "scalar":
            return " " + scalar()
        if kind == "flow":
            return " [" + ", ".join(scalar() for _ in range(draw(st.integers(0, 4)))) + "]"
        if kind == "block":
            indent = draw(st.sampled_from(["", "  ", "    "]))
            return "".join(f"\n{indent}- {scalar()}" for _ in range(draw(st.integers(1, 3))))
        if kind == "map":
            keys = draw(st.lists(st.sampled_from(KEY_NAMES), min_size=1, max_size=3))
            return "".join(f"\n  {key}: {scalar()}" for key in keys)
        if kind == "multi":
            return " " + draw(st.sampled_from(["plain\n  more", "'one\n\n  two'", '"a\\\n  b"', "|\n  x\n  y",
                                               ">-\n  x\n\n  y", "x\n  ---\n  y", "'x\n  ...'"]))
        return ""

    keys = draw(st.lists(st.sampled_from(KEY_NAMES), min_size=1, max_size=8))
    text = "\n".join(key + ":" + value() + draw(st.sampled_from(COMMENTS)) for key in keys)
    for odd in draw(st.lists(st.sampled_from(["\t", "\ufeff", "!!str ", "&a ", "*a", "! ", "\r\n", "\n\n"]),
                             max_size=1)):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + odd + text[at:]
    return draw(st.sampled_from(["", "", "# c\n", "---\n"])) + text + draw(st.sampled_from(["", "\n", "\n...\n"]))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_front_matter())
def test_generated_flat_front_matter_reads_the_same(text):
    assert_paths_agree(text)


# The check yamlio used before it was split in two: the reader's non-printable characters, BOM, tab,
# and a comment straight after a block scalar's header.
LIBYAML_DIFFERS = re.compile(yaml.reader.Reader.NON_PRINTABLE.pattern + r"|[\ufeff\t]|[|>][-+0-9]*#")


def test_the_quick_libyaml_difference_check_is_the_reference_pattern():
    """``_libyaml_differs`` splits the reference pattern in two: the same verdict for every character and text."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert [m.start() for m in yamlio._LIBYAML_DIFFERS_CHAR.finditer(every)] == \
        [m.start() for m in LIBYAML_DIFFERS.finditer(every) if m.group() not in "|>"]
    for text in [*TRICKY, "a: |-#", "a: >+2 #", "a: |", "a: > x", "a: '|#'", "a: x>#", ">", "|#", "a: \t"]:
        assert yamlio._libyaml_differs(text) == bool(LIBYAML_DIFFERS.search(text)), repr(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from(YAMLISH + "|>+-2#")), st.text()))
def test_the_quick_libyaml_difference_check_agrees_on_random_text(text):
    assert yamlio._libyaml_differs(text) == bool(LIBYAML_DIFFERS.search(text))
