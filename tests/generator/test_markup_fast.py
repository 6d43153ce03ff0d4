"""The fast paths of generator.markup give exactly what the implementations they replaced gave.

The references below are the code `markup` used before: an HTMLParser pass for
the plain text, a regex whitespace collapse, a three-pass word count and a
Markdown instance left as Python-Markdown built it (registries, regexes and inline
processor untouched). Both pipelines share `markup._sanitise`, whose one change is
to pick a single order for the image attributes that nh3 emits in either order.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import random
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown import inlinepatterns, util
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import (
    InlineProcessor,
    PrettifyTreeprocessor,
    UnescapeTreeprocessor,
)
from test_markup import DANGEROUS_PIECES, XSS_VECTORS

from generator import markup, markup_fast
from generator.markup import Rendered, render
from generator.yamlio import read_text, split_front_matter

REPO = Path(__file__).resolve().parents[2]
CONTENT_FILES = sorted((REPO / "content").rglob("*.md"))
FUZZ_SEEDS = sorted(p for p in (REPO / "tests" / "fuzz" / "corpus" / "markdown").iterdir() if p.is_file())


# --- the reference implementations -------------------------------------------------------------


class _ReferenceTextExtractor(HTMLParser):
    """Collect the text of sanitised HTML, with a space at every block boundary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in markup._BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in markup._BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_REFERENCE_WHITESPACE = re.compile(r"\s+")
_REFERENCE_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def reference_collapse(text: str) -> str:
    return _REFERENCE_WHITESPACE.sub(" ", text).strip()


def reference_plain_text(safe_html: str) -> str:
    extractor = _ReferenceTextExtractor()
    extractor.feed(safe_html)
    extractor.close()
    return reference_collapse("".join(extractor.parts))


def reference_count_words(text: str) -> int:
    cjk = len(markup._CJK.findall(text))
    return cjk + len(_REFERENCE_WORD.findall(markup._CJK.sub(" ", text)))


def _pristine_markdown() -> markdown.Markdown:
    """A Markdown instance configured like markup's, its registries untouched."""
    return markdown.Markdown(
        extensions=[*markup._EXTENSIONS, markup._DemoteH1Extension()],
        extension_configs=markup._EXTENSION_CONFIGS,
        output_format="html",
    )


_reference_md: markdown.Markdown | None = None


def reference_to_html(source: str) -> str:
    global _reference_md
    if _reference_md is None:
        _reference_md = _pristine_markdown()
    try:
        _reference_md.reset()
        return _reference_md.convert(source)
    except Exception:  # noqa: BLE001 (as the old code did: any failure falls back)
        _reference_md = None
    paragraphs = (part.strip() for part in re.split(r"\n\s*\n", source))
    return "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs if part)


def reference_render(markdown_text: str) -> tuple[str, Rendered, int]:
    """The unsanitised Markdown output, the Rendered and the word count that the old pipeline gave."""
    unsafe_html = reference_to_html(markup._UNSAFE_CHARS.sub("\ufffd", markdown_text))
    safe_html = markup._sanitise(unsafe_html)
    text = reference_plain_text(safe_html)
    return unsafe_html, Rendered(html=safe_html, text=text), reference_count_words(text)


def assert_renders_as_before(source: str) -> None:
    """Markdown's own output, and html, text and words after sanitising, are unchanged."""
    unsafe_html, expected, words = reference_render(source)
    assert markup._to_html(markup._UNSAFE_CHARS.sub("\ufffd", source)) == unsafe_html
    rendered = render(source)
    assert rendered == expected and rendered.words == words


# --- inputs the project already has ------------------------------------------------------------


def _body(path: Path) -> str:
    return split_front_matter(read_text(path))[1]


def _literal_strings(path: Path) -> list[str]:
    """Every string a module spells with literals alone (`"- " * 5000 + "x"` included), outermost only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    literal = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.Constant, ast.BinOp))
        and all(isinstance(part, (ast.Constant, ast.BinOp, ast.operator)) for part in ast.walk(node))
    ]
    inner = {id(child) for node in literal if isinstance(node, ast.BinOp) for child in (node.left, node.right)}
    found: dict[str, None] = {}
    for node in literal:
        if id(node) not in inner:
            # Only constants and operators: nothing to look up, nothing to call.
            value = eval(compile(ast.Expression(node), str(path), "eval"), {"__builtins__": {}})
            if isinstance(value, str):
                found[value] = None
    return list(found)


TEST_MARKUP_STRINGS = _literal_strings(Path(__file__).with_name("test_markup.py"))


def _benchmark_bodies(count: int) -> list[str]:
    """Bodies written by benchmarks/corpus.py, the generator of the build benchmarks' site, from a fixed seed."""
    spec = importlib.util.spec_from_file_location("corpus", REPO / "benchmarks" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    rng = random.Random(6)
    return [corpus.body(rng) for _ in range(count)]


BENCHMARK_BODIES = _benchmark_bodies(200)


def test_the_borrowed_inputs_are_all_there() -> None:
    assert len(CONTENT_FILES) >= 50
    assert len(FUZZ_SEEDS) >= 20
    assert len(XSS_VECTORS) >= 30
    assert any(s.startswith("| 名称 | 价格 |") for s in TEST_MARKUP_STRINGS)
    assert any(s.startswith("- - - ") for s in TEST_MARKUP_STRINGS)  # the deep-nesting fallback


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: str(p.relative_to(REPO / "content")))
def test_demo_content_body_renders_as_before(path: Path) -> None:
    assert_renders_as_before(_body(path))


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_renders_as_before(vector: str) -> None:
    assert_renders_as_before(vector)


@pytest.mark.parametrize("source", TEST_MARKUP_STRINGS, ids=lambda s: repr(s[:30]))
def test_markdown_case_from_test_markup_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


@pytest.mark.parametrize("path", FUZZ_SEEDS, ids=lambda p: p.name)
def test_fuzz_seed_renders_as_before(path: Path) -> None:
    assert_renders_as_before(path.read_bytes()[:65536].decode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("source", BENCHMARK_BODIES, ids=range(len(BENCHMARK_BODIES)))
def test_benchmark_body_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


# --- the premises of the fast paths ------------------------------------------------------------


def test_str_split_and_regex_whitespace_agree_on_every_code_point() -> None:
    every = "x".join(map(chr, range(0x110000)))
    assert markup._collapse(every) == reference_collapse(every)


def test_plain_text_skips_angle_brackets_inside_attribute_values() -> None:
    # Older html5ever leaves "<" and ">" raw inside quoted attribute values.
    safe_html = '<p><img alt="1 > 0 <p>x</p>" title="&quot;q&quot; &amp; <br>">after</p>'
    assert markup._plain_text(safe_html) == reference_plain_text(safe_html) == "after"


def test_plain_text_decodes_entities_once() -> None:
    safe_html = "<p>a&nbsp;b &amp;lt; &lt;i&gt; ©</p><td>c</td>"
    assert markup._plain_text(safe_html) == reference_plain_text(safe_html) == "a b &lt; <i> © c"


def test_frozen_registries_hold_what_markdown_registered() -> None:
    md, pristine = markup._markdown(), _pristine_markdown()
    assert set(md.block_level_elements) == set(pristine.block_level_elements)
    assert [type(p) for p in md.parser.blockprocessors] == [type(p) for p in pristine.parser.blockprocessors]
    assert list(md.treeprocessors["inline"].inlinePatterns) == list(md.inlinePatterns)
    expected = [_INLINE_STAND_INS.get(type(p), type(p)) for p in pristine.inlinePatterns]
    assert [type(p) for p in md.inlinePatterns] == expected
    assert md.delimiters is md.inlinePatterns["em_strong"]


_INLINE_STAND_INS = {inlinepatterns.DelimiterProcessor: markup_fast._QuickDelimiterProcessor}


_STAND_INS = {
    InlineProcessor: markup._PrefilteredInlineProcessor,
    PrettifyTreeprocessor: markup_fast._FastPrettify,
    AttrListTreeprocessor: markup_fast._SkippingAttrList,
    UnescapeTreeprocessor: markup_fast._FastUnescape,
    HtmlBlockPreprocessor: markup_fast._SkippingHtmlBlock,
    NormalizeWhitespace: markup_fast._FastNormalizeWhitespace,
}


def test_the_stand_ins_run_where_markdown_runs_its_own() -> None:
    md, pristine = markup._markdown(), _pristine_markdown()
    for registry in ("treeprocessors", "preprocessors", "postprocessors"):
        expected = [_STAND_INS.get(type(p), type(p)) for p in getattr(pristine, registry)]
        assert [type(p) for p in getattr(md, registry)] == expected, registry
    assert md.serializer is markup_fast.to_html_string
    assert pristine.serializer is markdown.serializers.to_html_string


def _prefiltered_regexes() -> list[markup._PrefilteredRegex]:
    md = markup._markdown()
    return [value for processor in (*md.preprocessors, *md.parser.blockprocessors)
            for value in vars(processor).values() if isinstance(value, markup._PrefilteredRegex)]


def test_the_prefilters_are_in_force() -> None:
    # Not a matter of correctness: a Markdown upgrade that hid what the regexes need would undo the speed-up.
    blocks = {type(p).__name__: p for p in markup._markdown().parser.blockprocessors}
    assert blocks["BlockQuoteProcessor"].RE._needed == {">"}
    assert blocks["HashHeaderProcessor"].RE._needed == {"#"}
    assert blocks["HRProcessor"].SEARCH_RE._needed == {"-", "_", "*"}
    inline = markup._markdown().treeprocessors["inline"]._patterns
    assert all(markup._ANYTHING.isdisjoint(needed) for _, _, needed, _ in inline)


@pytest.mark.parametrize(("pattern", "flags", "needed"), [
    ("abc", 0, {"abc"}),
    ("(?i)abc", 0, {""}),
    ("abc", re.IGNORECASE, {""}),
    ("(?i:a)bc", 0, {"bc"}),
    ("x?y", 0, {"y"}),
    ("[ab]c|d", 0, {"a", "b", "d"}),
    ("[^a]b", 0, {"b"}),
    ("(?<!!)\\[", 0, {"["}),
    ("(?=ab)a", 0, {"ab"}),
    ("(?!a)b", 0, {"b"}),
    ("a{3,}b", 0, {"aaa"}),
    ("(?:ab|cd)+", 0, {"ab", "cd"}),
    ("(?>ab)", 0, {"ab"}),
    ("(a|)", 0, {""}),
    (" +x", 0, {"x"}),
    ("^\\n$", re.MULTILINE, {"\n"}),
    ("\\d+", 0, {""}),
    ("", 0, {""}),
])
def test_needed_strings_of_a_regex(pattern: str, flags: int, needed: set[str]) -> None:
    assert markup._needed(re.compile(pattern, flags)) == needed


regex_source = st.recursive(
    st.sampled_from(["a", "b", "ab", "A", " ", "\\n", "#", ".", "[ab]", "[^a]", "\\w", "\\s", "^", "$", "\\b",
                     "(?<=a)", "(?<!b)", "(?<=a )"]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda parts: f"(?:{parts[0]}|{parts[1]})"),
        st.tuples(inner, st.sampled_from(["?", "*", "+", "{2}", "{0,2}", "{1,3}", "*?", "+?", "++", "?+"])).map(
            lambda parts: f"(?:{parts[0]}){parts[1]}"),
        inner.map(lambda r: f"({r})"),
        inner.map(lambda r: f"(?={r})"),
        inner.map(lambda r: f"(?!{r})"),
        inner.map(lambda r: f"(?i:{r})"),
        inner.map(lambda r: f"(?>{r})"),
    ),
    max_leaves=8,
)


@settings(max_examples=1000, deadline=None)
@given(regex_source, st.sampled_from([0, re.MULTILINE, re.DOTALL, re.IGNORECASE]),
       st.text(alphabet="abAB #\n", max_size=12))
def test_every_text_a_regex_matches_in_holds_a_needed_string(pattern: str, flags: int, text: str) -> None:
    regex = re.compile(pattern, flags)
    if regex.search(text):
        assert any(needed in text for needed in markup._needed(regex))


def test_images_come_out_with_one_attribute_order() -> None:
    source = '![x](a.png) <img src="b.png" loading="eager" decoding="sync"> <img alt="y" width="9px" height="3">'
    pages = {render(source).html for _ in range(40)}
    assert pages == {(
        '<p><img alt="x" src="a.png" loading="lazy" decoding="async"> '
        '<img src="b.png" loading="lazy" decoding="async"> '
        '<img alt="y" loading="lazy" height="3" decoding="async"></p>'
    )}


# --- generated hostile input -------------------------------------------------------------------

TEXT_PIECES = [
    "护肤", "精华液", "兰蔻小黑瓶", "ありがとう", "カタカナ", "ㄅㄆㄇ", "々", "〇", "⺀", "豈", "𠀀", "𱍏",
    "\U00031350", "정말 좋아요", "한국어", "😀", "👍🏽", "🇨🇳", "👨‍👩‍👧", "e\u0301", "a\u0308b", "\u0915\u093f",
    "\u05d0\u05b7", "it's", "don’t", "'quoted'", "e-mail", "well-known", "3.14", "U.S.A.", "snake_case",
    "a--b", "x'", "'y", "-z", "Ⅻ", "²", "٣", "ﬁ", "&amp;", "&lt;", "&gt;", "&nbsp;", "&#x4e2d;", "&#20013;",
    "&quot;", "&copy", "&notit;", "&#0;", "&#x110000;", "&", "<", ">", '"', "'", " ", "  ", "\t", "\n", "\r",
    "\u3000", "\xa0", "\u2028", "\x85", "\x1c", "\x0b", "\x00", "\ud800", "，", "。", "、", "—", "…", "_", "-",
    ".", "’", "·", "/",
]
URLS = [
    "https://detail.tmall.com/item.htm?id=1&b=2", "images/a.jpg", "mailto:hi@example.com",
    "javascript:alert(1)", "java\tscript:x", "data:text/html,<b>", "#frag", "//evil.cn/x", "a b",
]

text_run = st.lists(st.one_of(st.sampled_from(TEXT_PIECES), st.text(max_size=6)), max_size=10).map("".join)

ATTRIBUTE_NAMES = ["href", "src", "title", "alt", "class", "width", "height", "align", "style", "onclick",
                   "id", "rel", "loading", "lang", "xlink:href"]
ATTRIBUTE_VALUE_PIECES = [">", "<", '"', "'", "&", "&amp;", "&quot;", "&gt;", "&lt;", "<script>", "</p>",
                          "<br>", "javascript:alert(1)", "https://ok.example/?a=1&b=2", "language-python",
                          "left", "300", "20px", " ", "中文", "😀", "=", "/", "/>", "\n"]
attribute_value = st.lists(
    st.one_of(st.sampled_from(ATTRIBUTE_VALUE_PIECES), st.text(max_size=4)), max_size=6
).map("".join)


@st.composite
def raw_attribute(draw: st.DrawFn) -> str:
    """An attribute as a careless author writes it: any quoting, any value."""
    name = draw(st.sampled_from(ATTRIBUTE_NAMES))
    value = draw(attribute_value)
    quote = draw(st.sampled_from(['"', "'", ""]))
    return f" {name}={quote}{value}{quote}" if draw(st.booleans()) else f" {name}"


HOSTILE_TAGS = sorted(markup._TAGS | markup._CLEAN_CONTENT_TAGS | {
    "h1", "div", "section", "font", "mglyph", "mtext", "option", "plaintext", "listing", "image", "form",
})
HTML_LEAVES = ["<br>", "<br/>", "<hr />", "<img src=x alt='a>b'>", "<!-- c -->", "<!--", "-->", "</p>", "<p",
               "<!doctype html>", "<![CDATA[x]]>", "<?php x ?>", "</", "<>", "< p>", "<a/b>", "&", "&#"]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attributes, inner, close: f"<{tag}{''.join(attributes)}>{inner}" + (f"</{tag}>" if close else ""),
        st.sampled_from(HOSTILE_TAGS),
        st.lists(raw_attribute(), max_size=3),
        st.lists(children, max_size=4).map("".join),
        st.booleans(),
    )


hostile_html = st.recursive(st.one_of(text_run, st.sampled_from(HTML_LEAVES)), _element, max_leaves=16)


@st.composite
def nh3_shaped_html(draw: st.DrawFn) -> str:
    """Well-formed HTML serialised as html5ever does, with "<" and ">" left raw in attribute values."""

    def escape_text(text: str) -> str:
        return text.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace("<", "&lt;").replace(">", "&gt;")

    def escape_attribute(value: str) -> str:
        return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")

    def node(depth: int) -> str:
        if depth > 3 or draw(st.integers(0, 2)) == 0:
            return escape_text(draw(text_run))
        tag = draw(st.sampled_from(sorted(markup._TAGS)))
        names = draw(st.lists(st.sampled_from(ATTRIBUTE_NAMES), max_size=3, unique=True))
        attributes = "".join(f' {name}="{escape_attribute(draw(attribute_value))}"' for name in names)
        if tag in ("br", "hr", "img"):
            return f"<{tag}{attributes}>"
        inner = "".join(node(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{tag}{attributes}>{inner}</{tag}>"

    return "".join(node(0) for _ in range(draw(st.integers(0, 4))))


markdown_inline = st.lists(
    st.one_of(
        text_run,
        st.sampled_from(["**", "*", "_", "__", "`", "``", "[", "](", ")", "![", "\\", "  \n", "\n", "{: .x }",
                         "{: #id onclick=x }", "<", ">", "|", "~~", "***"]),
        st.builds(lambda label, url: f"[{label}]({url})", text_run, st.sampled_from(URLS)),
        st.builds(lambda alt, url, title: f'![{alt}]({url} "{title}")', text_run, st.sampled_from(URLS), text_run),
        st.builds(lambda label: f"[{label}][ref]", text_run),
        text_run.map(lambda text: f"**{text}**"),
        text_run.map(lambda text: f"*{text}*"),
        text_run.map(lambda text: f"`{text}`"),
        hostile_html,
    ),
    max_size=8,
).map("".join)


def _table(rows: list[list[str]], alignments: list[str]) -> str:
    width = max(len(row) for row in rows)
    header, *body = [row + [""] * (width - len(row)) for row in rows]
    rule = [alignments[i % len(alignments)] for i in range(width)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, rule, *body])


markdown_block = st.one_of(
    markdown_inline,
    st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 7), markdown_inline),
    st.lists(markdown_inline, min_size=1, max_size=4).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(markdown_inline, min_size=1, max_size=4).map(
        lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))
    ),
    st.lists(markdown_inline, min_size=1, max_size=3).map(lambda items: "\n".join(f"> {i}" for i in items)),
    st.builds(lambda lang, body: f"```{lang}\n{body}\n```", st.sampled_from(["", "python", 'js" onclick="x', "c++"]),
              st.one_of(text_run, hostile_html)),
    st.one_of(text_run, hostile_html).map(lambda body: "    " + body.replace("\n", "\n    ")),
    st.builds(_table,
              st.lists(st.lists(markdown_inline.map(lambda c: c.replace("\n", " ")), min_size=1, max_size=3),
                       min_size=1, max_size=4),
              st.lists(st.sampled_from(["---", ":--", "--:", ":-:"]), min_size=1, max_size=3)),
    hostile_html,
    st.sampled_from(["---", "***", "[ref]: https://one.example", "[ref]: javascript:alert(1)", "Title\n===",
                     "Sub\n---", "{: .x }"]),
)
markdown_document = st.lists(markdown_block, max_size=6).map(lambda blocks: "\n\n".join(blocks))

# What the block processors and inline patterns look for, and what prefilters could be fooled by.
MARKDOWN_PIECES = [
    "*", "**", "***", "_", "__", "`", "``", "```", "~~~", "~~", "[", "]", "(", ")", "![", "](", "]:", "!", "<", ">",
    "&", "\\", "\\*", "\\_", "\\`", "\\\\", "\\[", "\\<", "\\#", "  \n", "\n", "\n\n", " ", "   ", "    ",
    "\t", "#", "# ", "## ", "###### ", "####### ", " ##", "-", "- ", "* ", "+ ", "1. ", "2. ", "1) ", "10. ", "|", " | ",
    "|---|---|", "| :-- | --: |", ":-:", "===", "---", "***", "* * *", "___", "> ", ">> ", "> > ", "{: .x }",
    "{#id}", "{", "}", "&amp;", "&copy;", "&#123;", "&#x4e2d;", "&bogus;", "&#;", "<https://example.com/a?b=1&c=2>",
    "<me@example.com>", "<span>", "</span>", "<div>", "</div>", "<b>", "<!-- c -->", "<!--", "<br/>", "<?x ?>",
    "<![CDATA[x]]>", '[ref]: https://r.example "t"', "[ref]: <https://r.example>", "[ref]", "[x][ref]", "[x][]",
    '[a](https://x.example "t")', "[a](<b c>)", "![i](i.png)", '![i](i.png "t")', "![i][ref]", "`code`", "``a`b``",
    "**b**", "*e*", "_e_", "__s__", "***x***", "**a *b* c**", "*a **b** c*", "_a __b__ c_", "~~d~~",
    "```python\nx = 1\n```\n", "~~~\n<b>\n~~~\n", "``` {.js #i}\ncode\n```\n", "Title\n=====\n", "Sub\n---\n",
    "\x02", "\x03", "klzzwxh:", "\x020001\x03", "word", "文字", "３.１４", "snake_case", "a.b",
]
markdown_soup = st.lists(
    st.one_of(st.sampled_from(MARKDOWN_PIECES), st.text(alphabet="*_`[]()!<>&\\#-|.:= \nab1文", max_size=4)),
    max_size=40,
).map("".join)

GENERATED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(markdown_document)
def test_generated_markdown_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


@GENERATED
@given(st.one_of(st.text(), st.lists(st.sampled_from(DANGEROUS_PIECES), max_size=60).map("".join)))
def test_dangerous_pieces_render_as_before(source: str) -> None:
    assert_renders_as_before(source)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_soup)
def test_markdown_soup_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


def _span(match: re.Match[str] | None) -> tuple | None:
    return match and (match.span(), match.groups())


@GENERATED
@given(markdown_soup, st.integers(0, 6))
def test_prefiltered_regexes_find_what_their_regexes_find(text: str, position: int) -> None:
    for prefiltered in _prefiltered_regexes():
        regex = prefiltered._regex
        assert _span(prefiltered.search(text, position)) == _span(regex.search(text, position))
        assert _span(prefiltered.match(text, position)) == _span(regex.match(text, position))


@GENERATED
@given(markdown_soup)
def test_the_inline_patterns_match_only_in_text_holding_what_they_need(text: str) -> None:
    for _, _, needed, search in markup._markdown().treeprocessors["inline"]._patterns:
        if search(text):
            assert any(s in text for s in needed)


def test_the_block_gates_are_in_force() -> None:
    # Not a matter of correctness: a Markdown upgrade that hid what the tests need would undo the speed-up.
    gates = {type(p).__name__: gate for p, gate in markup._markdown().parser.gated}
    assert gates["TableProcessor"] == ("|",)
    assert gates["CodeBlockProcessor"] == gates["ListIndentProcessor"] == ("    ",)
    assert gates["HashHeaderProcessor"] == ("#",)
    assert set(gates["SaneUListProcessor"]) == {"*", "+", "-"}
    assert gates["EmptyBlockProcessor"] is gates["ParagraphProcessor"] is None
    assert sum(gate is not None for gate in gates.values()) == 10


_gate_md = _pristine_markdown()


@GENERATED
@given(markdown_soup)
def test_a_block_that_its_gate_turns_down_is_one_the_processor_turns_down(source: str) -> None:
    """Markdown's own processors, asked about blocks without the gate's strings, say no and keep things as they were."""
    pristine = {type(p): p for p in _gate_md.parser.blockprocessors}
    blocks = [*source.split("\n\n"), source]
    for gated, gate in markup._markdown().parser.gated:
        processor = pristine[type(gated)]
        for block in blocks:
            if gate is None or any(needed in block for needed in gate):
                continue
            for parent in (Element("div"), Element("li"), _list_with_an_item()):
                state = {k: v for k, v in vars(processor).items() if k != "border"}
                if type(processor).__name__ == "ReferenceProcessor":
                    queue = [block, "next"]
                    assert processor.run(parent, queue) is False and queue == [block, "next"]
                else:
                    assert not processor.test(parent, block)
                # A table's test records the border of any two-line block; its run reads it after a test of its own.
                assert {k: v for k, v in vars(processor).items() if k != "border"} == state
                assert not _gate_md.references


def _list_with_an_item() -> Element:
    parent = Element("div")
    SubElement(SubElement(parent, "ul"), "li").text = "item"
    return parent


def _first_depth_given_up(prefix: str) -> int:
    """The least nesting of `prefix` at which the reference gives up and writes the source as one paragraph."""
    low, high = 1, 2000
    while low < high:
        middle = (low + high) // 2
        if reference_to_html(prefix * middle + "x").startswith("<p>"):
            high = middle
        else:
            low = middle + 1
    return low


@pytest.mark.parametrize("prefix", ["- ", "1. "])
def test_markdown_gives_up_on_nested_lists_at_the_same_depth(prefix: str) -> None:
    # Both are called from here, so Markdown starts at the same stack depth.
    given_up = _first_depth_given_up(prefix)
    assert 100 < given_up < 2000
    for depth in range(given_up - 4, given_up + 4):
        source = prefix * depth + "x"
        assert markup._to_html(source) == reference_to_html(source)


@pytest.mark.parametrize("depth", [1, 2, 50, 1000, 3000])
def test_blockquotes_stop_nesting_at_the_same_depth(depth: int) -> None:
    # BlockQuoteProcessor stops nesting 100 frames short of the recursion limit.
    source = "> " * depth + "x"
    assert markup._to_html(source) == reference_to_html(source)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.none(), markdown_soup, markdown_soup.map(util.AtomicString)),
       st.sampled_from([None, "", "before"]), st.booleans())
def test_placeholders_are_linked_as_markdown_links_them(data: str | None, before: str | None, is_text: bool) -> None:
    """A text without placeholders takes the short way; the result is what Markdown's own method gives."""
    fast = markup._markdown().treeprocessors["inline"]
    fast.stashed_nodes, fast.ancestors = {}, []
    results = []
    for method in (fast._InlineProcessor__processPlaceholders, fast._placeholders):
        parent = Element("p")
        parent.text = parent.tail = before
        returned = method(data, parent, is_text)
        results.append((returned, parent.text, type(parent.text), parent.tail, type(parent.tail)))
    assert results[0] == results[1]


# One case per construct the fast paths touch: each is rendered by both pipelines and compared byte for byte.
FEATURE_CASES = {
    "empty": "",
    "blank": " \n\t\n   \n",
    "raw html block": '<div class="x">\n<p onclick="y">raw & <b>bold</b></p>\n</div>\n\nafter',
    "raw html inline": 'text <span title="a>b">in</span> <br/> <!-- note --> <?php x ?> & more',
    "html block then markdown": "<section>\n\n*em* inside\n\n</section>",
    "entities": "&amp; &#123; &#x4e2d; &nbsp; &copy &bogus; bare & and &&; AT&T",
    "attr_list": "# Title {: .c #i }\n\npara\n{: data-x=\"1\" .y }\n\n*em*{: .z } and [a](b){ data-x=\"1\" }",
    "attr_list in a list": "- item\n{: .li }\n- two {: #two }\n    - nested\n    {: .n }",
    "table": "| a | b | c |\n|:--|:-:|--:|\n| 1 | *2* | `|` |\n| x |",
    "table without borders": "a | b\n--- | ---\n1 | 2",
    "fenced code": "```python\nx = '<&>'\n```\n\n~~~ {.js #i}\nlet a = 1 < 2;\n~~~\n\n```\nplain\n```",
    "indented code": "    <b>&amp;</b>\n    line 2\n\n\tTabbed",
    "nested lists": "- a\n    - b\n        - c\n\n1. one\n2. two\n    1. inner\n* star\n+ plus",
    "blockquotes": "> q1\n> > q2\n>\n> - list in quote\n\n> lazy\ncontinuation",
    "links and images": '[a](https://x.example "t &amp; <t>") ![i](i.png "ti\"t") <https://auto.example/?a=1&b=2> '
                        '<me@example.com> [r][ref]\n\n[ref]: https://r.example "R"',
    "backslash escapes": "\\* \\_ \\` \\# \\[x\\] \\\\ \\< \\& \\{: .x }",
    "quotes and brackets": "a < b > c \" d ' e <x y=\"'\"> [x](u\"v) ![\"](a'b)",
    "headings": "# h1\n## h2 ##\n###### h6\n####### h7\nSetext\n===\nSub\n---",
    "rules and breaks": "a  \nb\n\n---\n***\n* * *\n\nc\\\nd",
    "emphasis": "***a*** **b *c* d** _e_ __f__ *g**h* ~~i~~ 2*3*4 snake_case_name",
    "non-BMP and CJK": "𠀀𱍏 😀👍🏽🇨🇳👨‍👩‍👧 护肤精华液，ありがとう。정말 좋아요 **兰蔻**：[小黑瓶](https://tmall.com)",
    "control-like text": "a\x0bb\x0cc\x1cd\x85e\u2028f\ufffeg\x7fh\x00i\x02j\x03k \x020001\x03 klzzwxh:1 wzxhzdk:0",
    "placeholder look-alikes": "\x02klzzwxh:0000\x03 \x02wzxhzdk:0\x03 \x02amp\x03 \x0242\x03",
    "crlf and tabs": "line\r\nnext\rthird\t\ttab\n   \n  \nend  \n",
}

# XSS_VECTORS holds pytest.param()s (some with marks); their first value is the source.
BLOCK_PIECES = [*FEATURE_CASES.values(), *(getattr(v, "values", (v,))[0] for v in XSS_VECTORS), *DANGEROUS_PIECES]


@pytest.mark.parametrize("source", FEATURE_CASES.values(), ids=FEATURE_CASES.keys())
def test_each_construct_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


def test_random_documents_of_those_constructs_render_as_before() -> None:
    # Seeded and without Hypothesis, so that 1,500 documents cost a few seconds.
    rng = random.Random(2024)
    inline = [*MARKDOWN_PIECES, *TEXT_PIECES]
    for _ in range(1500):
        blocks = rng.choices(BLOCK_PIECES, k=rng.randint(1, 4))
        blocks += ["".join(rng.choices(inline, k=rng.randint(1, 12))) for _ in range(rng.randint(0, 3))]
        rng.shuffle(blocks)
        assert_renders_as_before(rng.choice(["\n\n", "\n", ""]).join(blocks))


def _markdown_with_an_old_style_pattern() -> markdown.Markdown:
    md = _pristine_markdown()
    md.inlinePatterns.register(inlinepatterns.SimpleTagPattern(r"(~~)(.+?)~~", "del"), "old_style_del", 65)
    return md


_old_style = _markdown_with_an_old_style_pattern()
_old_style_fast = _markdown_with_an_old_style_pattern()
markup._freeze_registries(_old_style_fast)
markup._prefilter(_old_style_fast)


@GENERATED
@given(markdown_soup)
def test_an_old_style_pattern_is_tried_on_every_text(source: str) -> None:
    # Old-style patterns match a slice of the text, so nothing is prefiltered for them.
    assert _old_style_fast.reset().convert(source) == _old_style.reset().convert(source)


@GENERATED
@given(hostile_html)
def test_plain_text_of_sanitised_hostile_html_is_unchanged(raw_html: str) -> None:
    safe_html = markup._sanitise(markup._UNSAFE_CHARS.sub("\ufffd", raw_html))
    assert markup._plain_text(safe_html) == reference_plain_text(safe_html)


@GENERATED
@given(hostile_html)
def test_sanitised_html_is_the_same_on_every_call(raw_html: str) -> None:
    source = markup._UNSAFE_CHARS.sub("\ufffd", raw_html)
    assert len({markup._sanitise(source) for _ in range(8)}) == 1


@GENERATED
@given(nh3_shaped_html())
def test_plain_text_of_html5ever_shaped_html_is_unchanged(safe_html: str) -> None:
    assert markup._plain_text(safe_html) == reference_plain_text(safe_html)


@settings(max_examples=500, deadline=None)
@given(st.one_of(text_run, st.text(), st.text(alphabet=st.characters(codec="utf-8"))))
def test_word_count_and_collapse_are_unchanged(text: str) -> None:
    assert markup._count_words(text) == reference_count_words(text)
    assert markup._collapse(text) == reference_collapse(text)


# --- emphasis, and the inline processor around it ----------------------------------------------

EMPHASIS_CASES = [
    "*a*", "**a**", "***a***", "*a **b** c*", "**a *b* c**", "_a_b_", "snake_case_word", "__init__", "_a_", "__a__",
    "* not emphasis *", "** not strong **", "**unclosed", "*unclosed", "unopened*", "unopened**", "a*b*c", "a**b**c",
    "*a**", "**a*", "*a***", "***a*", "***a**", "**a***", "****a****", "*a* *b* **c** __d__ _e_",
    "`*code*` and *em*", "*a `b*` c*", "[*link*](u) and *[a](b)*", "**[a *b* c](u)**", "[**a**][r]\n\n[r]: u",
    "*a\nb*", "**a\nb**", "*a  \nb*", "中*文*字", "中**文**字", "**中文**：说明", "_中文_", "中_文_字", "*。*", "**，**",
    "\\*a\\*", "\\**a**", "**a\\**", "*a\\*", "*a*b*c*", "**a**b**c**", "*a_b*", "_a*b_", "*_a_*", "_*a*_",
    "**a** **b**", "*a*, *b*.", "(*a*)", "\"**a**\"", "*a!*", "**!a!**", "* a*", "*a *", "*\ta*", "![*a*](i.png)",
    "<b>*a*</b>", "*<b>a</b>*", "&amp;*a*", "*a*&amp;", "- **a**：b\n- *c* d\n\n> **e**", "# *h*\n\n| *a* | **b** |\n|---|---|",
]


@pytest.mark.parametrize("source", EMPHASIS_CASES)
def test_emphasis_renders_as_before(source: str) -> None:
    assert_renders_as_before(source)


_SOUP = [
    *("*" * 6), *("_" * 3), "**", "**", "***", "__", "a", "b", "word", "x", " ", " ", " ", "\n", "中", "文",
    "，", "。", ".", "!", ",", "`", "[", "]", "(u)", "\\", "\\*", "<b>", "&amp;", "  \n", "\n\n", "- ", "> ", "'", "$",
]


def _emphasis_soup(rng: random.Random) -> str:
    return "".join(rng.choices(_SOUP, k=rng.randint(1, 24)))


def test_random_emphasis_soup_renders_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    # Markdown's output only (the sanitiser is the same on both sides); seeded, so it costs a few seconds.
    quick = []
    lone_pair = markup_fast._QuickDelimiterProcessor._lone_pair

    def counted(self: markup_fast._QuickDelimiterProcessor, start: int, data: str) -> object:
        quick.append(result := lone_pair(self, start, data))
        return result

    monkeypatch.setattr(markup_fast._QuickDelimiterProcessor, "_lone_pair", counted)
    rng = random.Random(31)
    for _ in range(4000):
        source = _emphasis_soup(rng)
        assert markup._to_html(source) == reference_to_html(source), source
    # The soup reaches both the quick pairing and Markdown's own pass often.
    assert sum(r is not None for r in quick) > 200 and sum(r is None for r in quick) > 500


def test_the_quick_pairing_gives_what_markdowns_pass_gives() -> None:
    # Called directly on a fresh processor each, with every start a delimiter sits at.
    md, pristine = markup._markdown(), _pristine_markdown()
    quick, general = md.delimiters, pristine.delimiters
    assert type(general) is inlinepatterns.DelimiterProcessor
    rng = random.Random(7)
    compared = 0
    for _ in range(3000):
        data = _emphasis_soup(rng)
        for match in general.compiled_re.finditer(data):
            quick.reset()
            general.reset()
            pair = quick._lone_pair(match.start(0), data)
            if pair is None:
                continue
            element, start, end = general.handleMatch(match, data)
            assert (element.tag, element.text, list(element), start, end) == (
                pair[0].tag, pair[0].text, list(pair[0]), pair[1], pair[2]), data
            assert not (general.regions or general.stack or any(d.stack for d in general.delimiters.values()))
            compared += 1
    assert compared > 300


def test_the_quick_pairing_leaves_a_pass_in_progress_to_markdown() -> None:
    # Markdown's pass over "*_***a*" pairs two regions and hands out the second on the next call;
    # "*a*" at 4 pairs alone in a fresh pass, but not while that region is cached.
    delimiters = markup._markdown().delimiters
    delimiters.reset()
    data = "*_***a*"
    assert delimiters._lone_pair(4, data) is not None
    delimiters.handleMatch(delimiters.compiled_re.search(data), data)
    assert delimiters.regions
    assert delimiters._lone_pair(4, data) is None
    delimiters.reset()


@pytest.mark.parametrize("seed", range(3))
def test_the_wanted_patterns_are_those_needing_a_string_the_text_holds(seed: int) -> None:
    inline = markup._markdown().treeprocessors["inline"]
    rng = random.Random(seed)
    for _ in range(300):
        data = _emphasis_soup(rng) + rng.choice(["", "<a>", "&x;", "![i](u)", "\x02", "<http://a>"])
        for first in range(len(inline._patterns) + 1):
            expected = sum(1 << index for index, _, needed, _ in inline._patterns[first:]
                           if any(string in data for string in needed))
            assert inline._wanted(data, first) == expected, (data, first)
