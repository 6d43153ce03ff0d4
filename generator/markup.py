"""Render a product's Markdown body to sanitised HTML, plain text and a word count.

Creators' Markdown is untrusted: Python-Markdown passes raw HTML through, so
everything it emits goes through an nh3 allow-list before it reaches a page.
"""

from __future__ import annotations

import functools
import html
import re
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass
from itertools import takewhile
from re import _parser as regex_parser
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown import blockprocessors as bp
from markdown import inlinepatterns, util
from markdown.blockparser import BlockParser
from markdown.extensions import Extension
from markdown.extensions.sane_lists import SaneOListProcessor, SaneUListProcessor
from markdown.extensions.tables import TableProcessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from generator import markup_fast

__all__ = ["LEAD", "Rendered", "render", "summary"]

LEAD = 240      # characters of plain text kept per body: twice the longest summary taken from it


@dataclass(frozen=True)
class Rendered:
    """A rendered body: sanitised HTML and its plain text."""

    html: str  # sanitised HTML, safe to insert with |safe in a Jinja2 template
    text: str  # plain text (not HTML-escaped), whitespace collapsed

    @property
    def words(self) -> int:
        """A rough word count: CJK characters count one each, other words one each."""
        return _count_words(self.text)


_EXTENSIONS = ["tables", "fenced_code", "attr_list", "sane_lists"]
# Alignment as an attribute, because the sanitiser drops every style attribute.
_EXTENSION_CONFIGS = {"tables": {"use_align_attribute": True}}

_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6",
    "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
    "span", "sup", "sub",
}
# Dropped together with their content: none of it is readable text.
_CLEAN_CONTENT_TAGS = {
    "script", "style", "template", "iframe", "object", "noembed", "noframes",
    "noscript", "xmp", "textarea", "select", "svg", "math", "title",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
}
_ALIGN = {"left", "center", "right"}
_TAG_ATTRIBUTE_VALUES = {"th": {"align": _ALIGN}, "td": {"align": _ALIGN}}
_SET_TAG_ATTRIBUTE_VALUES = {"img": {"loading": "lazy", "decoding": "async"}}
# nh3 adds those two to every img in hash-map order, which changes from call to call
# (and an attribute the filter drops is replaced by the img's last one). A page must
# come out byte-identical from every build, so the two trade places whenever decoding
# comes first. html5ever writes every attribute as name="value" with '"' escaped, so
# the pattern cannot reach beyond one img tag.
_IMG_DEFAULTS_SWAPPED = re.compile(r' decoding="async"((?: [^\s="]+="[^"]*")*) loading="lazy"')
_URL_SCHEMES = {"https", "http", "mailto"}
# The body is user-generated content: search engines and opened pages get no trust.
_LINK_REL = "nofollow noopener ugc"

_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_DIMENSION = re.compile(r"[0-9]{1,5}")
# nh3 treats "java  script:" as a relative URL, which browsers do too; older
# parsers skipped such whitespace, so a scheme spelt with gaps is refused outright.
_URL_GAPS = re.compile(r"[\x00-\x20\x7f]+")
_SPLIT_SCHEME = re.compile(r"(?:javascript|vbscript|data|file):", re.IGNORECASE)

# C0 controls confuse Python-Markdown (it uses STX/ETX as placeholders) and
# lone surrogates cannot be encoded for nh3; both become U+FFFD as in CommonMark.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Han, kana and bopomofo are written without spaces, so each character is a word;
# Hangul is space-separated and counted like Latin words.
_CJK_CHARS = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff"
    "\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK = re.compile(f"[{_CJK_CHARS}]")
# A run of CJK characters (captured: each counts) or a run of other letters and
# digits joined by apostrophes, dots or hyphens (one word, captured as "").
_LETTERS = f"[^\\W_{_CJK_CHARS}]+"
_WORDS = re.compile(f"([{_CJK_CHARS}]+)|{_LETTERS}(?:['’.-]{_LETTERS})*")
# Trailing separators that would dangle before the ellipsis.
_DANGLING = " \t\n,;:/-–—、，；：·"

_BLOCK_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
}
# nh3 serialises well-formed HTML: text escapes "<", so every "<" opens a tag, and
# attribute values are double-quoted with '"' escaped (older html5ever leaves "<"
# and ">" raw in them, so a quoted value is skipped whole).
_TAG_REST = r'[^>"]*(?:"[^"]*"[^>"]*)*>'
_ANY_TAG = re.compile(f"<{_TAG_REST}")
_BLOCK_TAG = re.compile(f"</?(?:{'|'.join(sorted(_BLOCK_TAGS))})(?=[\\s/>]){_TAG_REST}")

_md: markdown.Markdown | None = None
# A Markdown instance keeps per-document state, so threads take turns with it.
_md_lock = threading.Lock()


class _DemoteH1(Treeprocessor):
    """Turn `# heading` into h2: the page title is the only h1 on a product page."""

    def run(self, root: Element) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"


class _DemoteH1Extension(Extension):
    """Register `_DemoteH1`."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_DemoteH1(md), "chuchuang_demote_h1", 5)


def _markdown() -> markdown.Markdown:
    """The shared Markdown instance, built on first use."""
    global _md
    if _md is None:
        _md = markdown.Markdown(
            extensions=[*_EXTENSIONS, _DemoteH1Extension()],
            extension_configs=_EXTENSION_CONFIGS,
            output_format="html",
        )
        _freeze_registries(_md)
        markup_fast.install(_md, _attr_list_needs(_md))
        _gate_block_processors(_md)
        _prefilter(_md)
    return _md


def _freeze_registries(md: markdown.Markdown) -> None:
    """Swap lookups that Markdown repeats per block and per element for immutable copies, once built.

    The block parser lists its processor Registry afresh for every block, and every
    element asks whether its tag is block-level; a tuple and a frozenset answer the
    same questions faster. Nothing registers processors or block tags after
    construction, so the copies never go stale; tests/generator/test_markup_fast.py
    holds the output to an untouched instance's.
    """
    md.parser.blockprocessors = tuple(md.parser.blockprocessors)
    md.block_level_elements = frozenset(md.block_level_elements)


def _prefilter(md: markdown.Markdown) -> None:
    """Spare Markdown the regex searches and pattern calls that cannot find anything.

    Most block processors search every block for what few blocks hold (a `#`, a `>`),
    and the inline processor calls every pattern on every text node; a regex finds
    nothing in text lacking every string its matches need. The strings are read off
    the regexes themselves, so nothing that could match is skipped;
    tests/generator/test_markup_fast.py holds the output to an untouched instance's.
    """
    for processor in (*md.preprocessors, *md.parser.blockprocessors):
        _prefilter_regexes(processor)
    # Markdown registers its own inline processor at priority 20.
    md.treeprocessors.register(_PrefilteredInlineProcessor(md), "inline", 20)


# Block processors whose test() returns False and changes nothing unless the regex
# named here matches the block (ReferenceProcessor's test is True, but its run then
# puts the block back and returns False, which the parser treats alike).
_TESTED_BY_REGEX = {
    bp.HashHeaderProcessor: "RE", bp.SetextHeaderProcessor: "RE", bp.HRProcessor: "SEARCH_RE",
    bp.OListProcessor: "RE", bp.UListProcessor: "RE", SaneOListProcessor: "RE", SaneUListProcessor: "RE",
    bp.BlockQuoteProcessor: "RE", bp.ReferenceProcessor: "RE",
}
# Block processors whose test() is False unless the block starts with a tab's worth of spaces.
_TESTED_BY_INDENT = frozenset({bp.ListIndentProcessor, bp.CodeBlockProcessor})


def _gate(md: markdown.Markdown, processor: bp.BlockProcessor) -> tuple[str, ...] | None:
    """Strings one of which a block must hold for `processor` to take it; None if anything might do.

    Only classes read line by line are gated, by exact type: a subclass may test otherwise.
    A table's header row needs a `|`: without one it splits into a single cell and
    has no border (`TableProcessor.test`); the border it records then is read only by
    a run that follows a test of its own.
    """
    kind = type(processor)
    if kind in _TESTED_BY_REGEX:
        needed = _needed(getattr(processor, _TESTED_BY_REGEX[kind]))
        return None if needed == _ANYTHING else tuple(needed)
    if kind in _TESTED_BY_INDENT:
        return (" " * md.tab_length,)
    if kind is TableProcessor:
        return ("|",)
    return None


def _gate_block_processors(md: markdown.Markdown) -> None:
    """Make the block parser try a processor on a block only where the processor's gate lets it through.

    `BlockParser.parseBlocks` calls every processor's test() on every block, and most
    blocks are paragraphs that every test turns down, through a Python call or two
    each. The gates (see `_gate`) turn down the same blocks with a substring search.
    """
    md.parser.__class__ = _GatedBlockParser
    md.parser.gated = tuple((processor, _gate(md, processor)) for processor in md.parser.blockprocessors)


class _GatedBlockParser(BlockParser):
    """Markdown's block parser, skipping the processors whose gate a block does not pass.

    A method like the one it overrides, so the parser recurses through as many frames
    as before: BlockQuoteProcessor.test looks at the stack's depth, and Markdown gives
    up on a document at the same depth.
    """

    gated: tuple[tuple[bp.BlockProcessor, tuple[str, ...] | None], ...]

    def parseBlocks(self, parent: Element, blocks: list[str]) -> None:
        """`BlockParser.parseBlocks`, with each test() behind its gate."""
        while blocks:
            for processor, gate in self.gated:
                if gate is not None:
                    block = blocks[0]
                    for needed in gate:
                        if needed in block:
                            break
                    else:
                        continue
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break


def _attr_list_needs(md: markdown.Markdown) -> frozenset[str] | None:
    """Strings one of which every match of the attr_list regexes needs; None if some regex shows none."""
    if "attr_list" not in md.treeprocessors:
        return None
    processor = md.treeprocessors["attr_list"]
    regexes = (processor.BLOCK_RE, processor.HEADER_RE, processor.INLINE_RE)
    needs = [_needed(regex) for regex in regexes]
    return None if _ANYTHING in needs else frozenset().union(*needs)


_ZERO_WIDTH = frozenset({regex_parser.AT, regex_parser.ASSERT_NOT})
_REPEATS = frozenset({regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT, regex_parser.POSSESSIVE_REPEAT})
_ANYTHING = frozenset({""})  # what every text holds: nothing can be skipped
# Matches everywhere: the stand-in for an old-style pattern, which is tried on a slice of the text.
_ANYWHERE = re.compile("")


def _needed(regex: re.Pattern[str]) -> frozenset[str]:
    """Strings one of which every text that `regex` matches in holds; `_ANYTHING` when its syntax shows none.

    A match runs through the top-level items of the regex in turn, so the text holds,
    for each item, one of the strings that a match starting there begins with. The
    items are those of the tree that re.compile itself works from (re._parser).
    """
    if regex.flags & re.IGNORECASE:
        return _ANYTHING
    items = list(regex_parser.parse(regex.pattern, regex.flags))
    informative = [starts for k in range(len(items)) if "" not in (starts := _starts(items[k:]))]
    # Nearly every text holds a space or a line break: strings of them filter little.
    return min(informative, key=lambda strings: any(s.isspace() for s in strings), default=_ANYTHING)


def _starts(items: list[tuple]) -> frozenset[str]:
    """Strings one of which the text holds where a match of the parsed regex `items` begins; "" if unknown."""
    op, argument = items[0] if items else (None, None)
    if op in _ZERO_WIDTH or (op is regex_parser.ASSERT and argument[0] < 0):
        return _starts(items[1:])
    if op is regex_parser.ASSERT:
        return _starts(list(argument[1]))
    if op is regex_parser.LITERAL:
        literals = takewhile(lambda item: item[0] is regex_parser.LITERAL, items)
        return frozenset({"".join(chr(code) for _, code in literals)})
    if op is regex_parser.IN and all(kind is regex_parser.LITERAL for kind, _ in argument):
        return frozenset(chr(code) for _, code in argument)
    if op is regex_parser.BRANCH:
        return frozenset().union(*(_starts(list(branch)) for branch in argument[1]))
    if op is regex_parser.SUBPATTERN and not argument[1] & re.IGNORECASE:
        return _starts(list(argument[3]))
    if op in _REPEATS and argument[0] >= 1:
        repeated = list(argument[2])
        if len(repeated) == 1 and repeated[0][0] is regex_parser.LITERAL:
            return frozenset({chr(repeated[0][1]) * argument[0]})
        return _starts(repeated)
    if op is regex_parser.ATOMIC_GROUP:
        return _starts(list(argument))
    return _ANYTHING


class _PrefilteredRegex:
    """A compiled regex that searches only text holding one of the strings every match needs.

    Any other attribute is the regex's own, bound here on first use so that later
    uses cost what they cost on the regex.
    """

    def __init__(self, regex: re.Pattern[str], needed: frozenset[str]) -> None:
        self._regex = regex
        self._needed = needed

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._regex, name)
        setattr(self, name, attribute)
        return attribute

    def search(self, string: str, *args: int, **kwargs: int) -> re.Match[str] | None:
        for needed in self._needed:
            if needed in string:
                return self._regex.search(string, *args, **kwargs)
        return None

    def match(self, string: str, *args: int, **kwargs: int) -> re.Match[str] | None:
        for needed in self._needed:
            if needed in string:
                return self._regex.match(string, *args, **kwargs)
        return None


def _prefilter_regexes(processor: object) -> None:
    """Give `processor` a `_PrefilteredRegex` for each of its compiled regexes that needs something."""
    for name in dir(processor):
        regex = getattr(processor, name)
        if isinstance(regex, re.Pattern) and (needed := _needed(regex)) != _ANYTHING:
            setattr(processor, name, _PrefilteredRegex(regex, needed))


class _PrefilteredInlineProcessor(InlineProcessor):
    """Markdown's inline processor, calling a pattern only where its regex finds something.

    Markdown tries every inline pattern on every text node through a Python call, and
    most find nothing: a pattern without a match leaves the text as it was and the next
    one searches from the start, so skipping it gives the same result. A pattern is
    skipped when the text holds none of the strings its matches need (see `_needed`),
    or when its regex finds nothing from where the search stands. An old-style
    pattern, which matches a slice of the text, is never skipped.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.inlinePatterns = tuple(md.inlinePatterns)
        regexes = [
            p.getCompiledRegExp() if isinstance(p, inlinepatterns.InlineProcessor) else _ANYWHERE
            for p in self.inlinePatterns
        ]
        self._patterns = tuple(
            (index, pattern, _needed(regex), regex.search)
            for index, (pattern, regex) in enumerate(zip(self.inlinePatterns, regexes))
        )
        # Per index `first`: each string that some pattern from `first` on needs, with a bit set for
        # each such pattern that needs it (bit i for pattern i). A search resumed at `first`
        # looks for nothing else.
        self._needed_from = tuple(
            tuple(
                (string, bits)
                for string in sorted(frozenset().union(*(needed for _, _, needed, _ in self._patterns[first:])))
                if (bits := sum(1 << i for i, _, needed, _ in self._patterns[first:] if string in needed))
            )
            for first in range(len(self._patterns) + 1)
        )

    def run(self, tree: Element, ancestors: list[str] | None = None) -> Element:
        """`InlineProcessor.run`, step for step, minus bookkeeping whose result is never read.

        Markdown maps every element to its parent, but reads the map only to list the
        ancestors of `tree` itself, which is no element's child in its own tree: they
        are `ancestors` and `tree`'s tag. The map is left empty. A child's index is
        looked up only when its tail yields elements to insert after it, and the queue
        of elements to visit is a deque, taken from the front as before.
        """
        self.stashed_nodes = {}
        self.parent_map = {}
        tree_parents = [] if ancestors is None else ancestors[:]
        tree_parents.append(tree.tag.lower())
        handle_inline = self._InlineProcessor__handleInline
        process_placeholders = self._InlineProcessor__processPlaceholders
        stack = deque([(tree, tree_parents)])
        while stack:
            current, parents = stack.popleft()
            self.ancestors = parents
            if current is not tree:
                self.ancestors.append(current.tag.lower())
            insert_queue = []
            for child in current:
                if child.text and not isinstance(child.text, util.AtomicString):
                    self.ancestors.append(child.tag.lower())
                    text = child.text
                    child.text = None
                    found = process_placeholders(handle_inline(text), child)
                    stack += found
                    insert_queue.append((child, found))
                    self.ancestors.pop()
                if child.tail:
                    tail = handle_inline(child.tail)
                    dummy = Element("d")
                    child.tail = None
                    tail_result = process_placeholders(tail, dummy, False)
                    if dummy.tail:
                        child.tail = dummy.tail
                    if tail_result:
                        position = list(current).index(child) + 1
                        tail_result.reverse()
                        for new_child in tail_result:
                            current.insert(position, new_child[0])
                if len(child):
                    stack.append((child, self.ancestors[:]))
            for element, found in insert_queue:
                for index, (new_child, _) in enumerate(found):
                    element.insert(index, new_child)
        return tree

    def _wanted(self, data: str, first: int = 0) -> int:
        """The patterns from index `first` on that need a string `data` holds, as bits (bit i for pattern i)."""
        wanted = 0
        for string, bits in self._needed_from[first]:
            if string in data:
                wanted |= bits
        return wanted

    def _InlineProcessor__handleInline(self, data: str, first: int = 0) -> str:  # noqa: N802 (Markdown's name)
        """Markdown's private `__handleInline`, which its other methods call, minus the calls that find nothing.

        Only the patterns whose bit `_wanted` sets are tried, in order; a match puts a
        placeholder in `data`, so what it holds is looked at again, and a search goes on
        with the next pattern wanted then. Only patterns from `first` on are tried, so
        only what they need is looked for (the children of a match start one pattern
        on, and the last pattern's find none).
        """
        if isinstance(data, util.AtomicString) or first >= len(self._patterns):
            return data
        wanted = self._wanted(data, first)
        index = first
        patterns = self._patterns
        while wanted >> index:
            pending = wanted >> index
            index += (pending & -pending).bit_length() - 1
            _, pattern, _, search = patterns[index]
            position = 0
            while search(data, position):
                data, matched, position = self._InlineProcessor__applyPattern(pattern, data, index, position)
                if not matched:
                    break
                wanted = self._wanted(data, first)
                if not wanted >> index & 1:
                    break
            index += 1
        return data

    def _InlineProcessor__processPlaceholders(
        self, data: str | None, parent: Element, isText: bool = True,
    ) -> list[tuple[Element, list[str]]]:
        """Markdown's private `__processPlaceholders`, in one step for a text without placeholders.

        Such a text is linked whole to `parent` (its text, or its tail when `isText` is
        false), an AtomicString kept atomic, and no elements come back; anything else
        goes to Markdown's own method.
        """
        if not data or util.INLINE_PLACEHOLDER_PREFIX in data:
            return self._placeholders(data, parent, isText)
        text = util.AtomicString(data[0:]) if isinstance(data, util.AtomicString) else data[0:]
        if isText:
            parent.text = parent.text + text if parent.text else text
        else:
            parent.tail = parent.tail + text if parent.tail else text
        return []

    _placeholders = InlineProcessor._InlineProcessor__processPlaceholders
    _apply = InlineProcessor._InlineProcessor__applyPattern

    def _InlineProcessor__applyPattern(  # noqa: N802 (Markdown's name)
        self, pattern: inlinepatterns.Pattern, data: str, patternIndex: int, startIndex: int = 0,  # noqa: N803
    ) -> tuple[str, bool, int]:
        """Markdown's private `__applyPattern` for a new-style pattern, in fewer calls.

        The same steps: a rejected match goes on to the next one as in Markdown's loop,
        and the node is stashed under the id and placeholder that `__stashNode` would
        give it (the count of stashed nodes, four digits) without its two calls.
        Old-style patterns go to Markdown's method.
        """
        if not isinstance(pattern, inlinepatterns.InlineProcessor):
            return self._apply(pattern, data, patternIndex, startIndex)
        for exclude in pattern.ANCESTOR_EXCLUDES:
            if exclude.lower() in self.ancestors:
                return data, False, 0
        for match in pattern.getCompiledRegExp().finditer(data, startIndex):
            node, start, end = pattern.handleMatch(match, data)
            if start is not None and end is not None:
                break
        else:
            return data, False, 0
        if node is None:
            return data, True, end
        if not isinstance(node, str) and not isinstance(node.text, util.AtomicString):
            for child in [node, *node]:
                if child.text:
                    self.ancestors.append(child.tag.lower())
                    child.text = self._InlineProcessor__handleInline(child.text, patternIndex + 1)
                    self.ancestors.pop()
                if child.tail:
                    child.tail = self._InlineProcessor__handleInline(child.tail, patternIndex)
        stashed = self.stashed_nodes
        key = "%04d" % len(stashed)
        placeholder = util.INLINE_PLACEHOLDER % key
        stashed[key] = node
        return f"{data[:start]}{placeholder}{data[end:]}", True, start + len(placeholder)


def _to_html(source: str) -> str:
    """Markdown to unsanitised HTML; escaped paragraphs if Markdown gives up."""
    global _md
    with _md_lock:
        md = _markdown()
        try:
            md.reset()
            return md.convert(source)
        except Exception:
            # Deep nesting exhausts Python-Markdown's recursion; the text still
            # deserves a page, and a half-reset instance must not leak into the next one.
            _md = None
    paragraphs = (part.strip() for part in re.split(r"\n\s*\n", source))
    return "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs if part)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep only `language-…` classes on code, numeric image sizes and unobfuscated URLs."""
    if attribute in ("href", "src"):
        return None if _SPLIT_SCHEME.match(_URL_GAPS.sub("", value)) else value
    if tag == "code" and attribute == "class":
        return next((c for c in value.split() if _LANGUAGE_CLASS.fullmatch(c)), None)
    if tag == "img" and attribute in ("width", "height"):
        return value if _DIMENSION.fullmatch(value.strip()) else None
    return value


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """The allow-list, built once: ``nh3.clean`` builds it again on every call (a quarter of its time)."""
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=_LINK_REL,
        tag_attribute_values=_TAG_ATTRIBUTE_VALUES,
        set_tag_attribute_values=_SET_TAG_ATTRIBUTE_VALUES,
        url_schemes=_URL_SCHEMES,
    )


def _sanitise(unsafe_html: str) -> str:
    """Apply the allow-list: tags, attributes, URL schemes, rel and lazy images."""
    safe_html = _cleaner().clean(unsafe_html)
    return _IMG_DEFAULTS_SWAPPED.sub(r' loading="lazy"\1 decoding="async"', safe_html)


def _plain_text(safe_html: str) -> str:
    """The visible text of nh3's `safe_html`, a space at every block boundary, whitespace collapsed."""
    # Only nh3's output may come here: the tag patterns rely on its serialisation.
    text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", safe_html))
    return _collapse(html.unescape(text))


def _collapse(text: str) -> str:
    """Collapse runs of whitespace to one space and trim the ends."""
    # str.split() and the regex \s agree on what whitespace is, and splitting is faster.
    return " ".join(text.split())


def _count_words(text: str) -> int:
    """CJK characters one each, plus every other run of letters and digits."""
    runs = _WORDS.findall(text)
    return runs.count("") + sum(map(len, runs))


def render(markdown_text: str) -> Rendered:
    """Render a Markdown body to sanitised HTML, its plain text and word count; never raises."""
    source = _UNSAFE_CHARS.sub("\ufffd", markdown_text)
    safe_html = _sanitise(_to_html(source))
    text = _plain_text(safe_html)
    return Rendered(html=safe_html, text=text)


def _in_word(char: str) -> bool:
    """Whether `char` belongs to a space-separated word (so cutting beside it splits one)."""
    if _CJK.match(char):
        return False
    return char.isalnum() or char in "'’" or unicodedata.combining(char) != 0


def summary(text: str, limit: int = 120) -> str:
    """At most `limit` characters of `text`, cut between words (or CJK characters) and ending in "…"."""
    if limit < 1:
        raise ValueError(f"summary limit must be at least 1, got {limit}")
    text = _collapse(text)
    if len(text) <= limit:
        return text
    cut = limit - 1  # room for the ellipsis
    if cut and _in_word(text[cut - 1]) and _in_word(text[cut]):
        start = cut
        while start > 0 and _in_word(text[start - 1]):
            start -= 1
        # A single word longer than the limit is cut where it must be.
        if start > 0:
            cut = start
    head = text[:cut].rstrip(_DANGLING)
    return f"{head}…"
