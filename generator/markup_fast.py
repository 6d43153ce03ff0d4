"""Faster stand-ins for pieces of Python-Markdown that give the same output.

`generator.markup` renders every product body through one Markdown instance, and
a cold build spends most of its CPU there. The pieces below replace a serializer,
three tree processors and a preprocessor with code that does the same work with
fewer Python calls, or skips it where it provably cannot change anything.
tests/generator/test_markup_fast.py holds the output to an untouched instance's.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import HTML_EMPTY, Element

import markdown
from markdown import inlinepatterns, serializers, util
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import PrettifyTreeprocessor, UnescapeTreeprocessor

__all__ = ["install"]

_VOID = frozenset(HTML_EMPTY)
_RAW_TEXT = frozenset({"script", "style"})
_BOOLEAN = serializers.BOOLEAN_ATTRIBUTES["html"]
_escape_text = serializers._escape_cdata
_escape_value = serializers._escape_attrib_html

# Per tag: whether its text is written raw, whether it is void. Tags are few and fixed.
_tag_kinds: dict[str, tuple[bool, bool]] = {}


def _tag_kind(tag: str) -> tuple[bool, bool]:
    """Whether `tag` is script/style (text unescaped) and whether it is void (no end tag), as Markdown decides."""
    kind = _tag_kinds.get(tag)
    if kind is None:
        lower = tag.lower()
        kind = _tag_kinds[tag] = (lower in _RAW_TEXT, lower in _VOID)
    return kind


def to_html_string(root: Element) -> str:
    """What `markdown.serializers.to_html_string` returns for `root`, in fewer steps.

    Markdown's serializer keeps a deque of pending elements and strings, lowers every
    tag twice and calls its escaper on every string; this one recurses, looks tags up
    once and escapes only strings holding `&`, `<` or `>` (the escaper returns any
    other unchanged). A tree deep enough to exhaust the recursion limit goes to
    Markdown's own, iterative serializer.
    """
    parts: list[str] = []
    try:
        _write(parts, root)
    except RecursionError:
        parts = []
        serializers._serialize_html(parts.append, root, "html")
    return "".join(parts)


def _write(out: list[str], element: Element) -> None:
    """Append `element`, its descendants and its tail to `out` exactly as `serializers._serialize_html` writes them.

    Comments, processing instructions, QName tags or attributes and valueless
    attributes go to Markdown's serializer, which writes a subtree and its tail
    just as it writes them within a whole tree.
    """
    tag = element.tag
    if type(tag) is not str:
        serializers._serialize_html(out.append, element, "html")
        return
    attrib = element.attrib
    if attrib:
        pieces = ["<", tag]
        for k, v in sorted(attrib.items()):
            if type(k) is not str or not isinstance(v, str):
                serializers._serialize_html(out.append, element, "html")
                return
            v = _escape_value(v)
            pieces.append(f" {v}" if k == v and k in _BOOLEAN else f' {k}="{v}"')
        pieces.append(">")
        out.append("".join(pieces))
    else:
        out.append(f"<{tag}>")
    raw_text, void = _tag_kinds.get(tag) or _tag_kind(tag)
    text = element.text
    if text:
        out.append(text if raw_text or not ("&" in text or "<" in text or ">" in text) else _escape_text(text))
    for child in element:
        _write(out, child)
    if not void:
        out.append(f"</{tag}>")
    tail = element.tail
    if tail:
        out.append(_escape_text(tail) if "&" in tail or "<" in tail or ">" in tail else tail)


class _FastPrettify(PrettifyTreeprocessor):
    """Markdown's prettifier, asking whether a tag is block-level of a dictionary instead of `md.is_block_level`.

    `is_block_level` lowers and strips the tag on every call, two or three calls per
    element; its answer depends on the tag and the instance's frozen set of block
    tags only, so it is remembered per tag.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self._block_level: dict[str, bool] = {}

    def _is_block(self, tag: object) -> bool:
        if type(tag) is not str:
            return self.md.is_block_level(tag)
        known = self._block_level.get(tag)
        if known is None:
            known = self._block_level[tag] = self.md.is_block_level(tag)
        return known

    def _prettifyETree(self, elem: Element) -> None:
        """`PrettifyTreeprocessor._prettifyETree`, line for line, with the remembered answers."""
        is_block = self._is_block
        if is_block(elem.tag) and elem.tag not in ("code", "pre"):
            if (not elem.text or not elem.text.strip()) and len(elem) and is_block(elem[0].tag):
                elem.text = "\n"
            for e in elem:
                if is_block(e.tag):
                    self._prettifyETree(e)
        if not elem.tail or not elem.tail.strip():
            elem.tail = "\n"


class _SkippingAttrList(AttrListTreeprocessor):
    """The attr_list tree processor, run only on a tree where some text or tail holds what its regexes need.

    Every change it makes follows a match of one of its regexes on the text or tail of
    an element of the tree, and most bodies have no `{` anywhere; `needed` holds the
    strings one of which every such match needs (read off the regexes by the caller).
    """

    def __init__(self, md: markdown.Markdown, needed: frozenset[str]) -> None:
        super().__init__(md)
        self._needed = needed

    def run(self, doc: Element) -> None:
        needed = self._needed
        for elem in doc.iter():
            text, tail = elem.text, elem.tail
            for s in needed:
                if (text and s in text) or (tail and s in tail):
                    return super().run(doc)
        return None


class _FastUnescape(UnescapeTreeprocessor):
    """Markdown's unescape tree processor, calling its regex only on strings that hold an STX.

    Every match of `UnescapeTreeprocessor.RE` starts with STX, so a string without
    one comes back from it unchanged.
    """

    def run(self, root: Element) -> None:
        stx = util.STX
        unescape = self.unescape
        for elem in root.iter():
            text = elem.text
            if text and stx in text and elem.tag != "code":
                elem.text = unescape(text)
            tail = elem.tail
            if tail and stx in tail:
                elem.tail = unescape(tail)
            for key, value in elem.items():
                if value is not None and stx in value:
                    elem.set(key, unescape(value))


class _SkippingHtmlBlock(HtmlBlockPreprocessor):
    """Markdown's raw-HTML preprocessor, skipped for a text without `<` or `&`.

    The HTML parser under it hands text that holds neither (nothing a tag, comment,
    declaration or reference can start with) to `handle_data` in one piece, which
    appends it to the document unchanged; nothing is stashed. So the lines come back
    as they went in.
    """

    def run(self, lines: list[str]) -> list[str]:
        if not any("<" in line or "&" in line for line in lines):
            return lines
        return super().run(lines)


class _FastNormalizeWhitespace(NormalizeWhitespace):
    """Markdown's whitespace normaliser, running its blank-line regex only on text that holds a match.

    `(?<=\n) +\n` tries its look-behind at every character, half of the
    normaliser's time; every match ends in a space and a line break, so text without
    " \n" comes back from it unchanged.
    """

    BLANK_LINE_SPACES = re.compile(r"(?<=\n) +\n")  # NormalizeWhitespace.run's pattern, compiled once

    def run(self, lines: list[str]) -> list[str]:
        """`NormalizeWhitespace.run`, step for step."""
        source = "\n".join(lines)
        source = source.replace(util.STX, "").replace(util.ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        source = source.expandtabs(self.md.tab_length)
        if " \n" in source:
            source = self.BLANK_LINE_SPACES.sub("\n", source)
        return source.split("\n")


class _QuickDelimiterProcessor(inlinepatterns.DelimiterProcessor):
    """Markdown's `*`/`_` emphasis processor, pairing a lone `*a*` or `**a**` without its general machinery.

    `DelimiterProcessor.handleMatch` pairs every delimiter run of a text in one pass,
    through stacks, regions cached across calls and an element builder. Called with
    nothing cached, on an opening run of one or two delimiters followed by text
    without any delimiter character and a closing run of the same length, that pass
    pairs the two runs into one region, builds one element from it and resets: see
    `_lone_pair`. Any other call goes to Markdown's method.
    """

    def handleMatch(  # noqa: N802 (Markdown's name)
        self, m: re.Match[str], data: str,
    ) -> tuple[Element | None, int | None, int | None]:
        pair = self._lone_pair(m.start(0), data)
        if pair is None:
            return super().handleMatch(m, data)
        return pair

    def _lone_pair(self, start: int, data: str) -> tuple[Element, int, int] | None:
        """The element, start and end `handleMatch` returns for a lone pair at `start`; None if not one.

        Traced through `handleMatch` with nothing cached or stacked: the opening run
        must be the boundary regex's "start" (not ambiguous), so it goes on the stack;
        the search for a closer then stops at the next delimiter character, which must
        be a run of the same token and length matching as "end" or "ambiguous"; equal
        lengths pair at once into one region of that size, the stacks empty, and the
        region becomes strong (two) or em (one) holding the text between. A single-
        character token's boundary regex cannot match at a character of another, so
        the token at `start` picks the delimiter.
        """
        if self.regions or self.stack or self.cache_index or self.cache_pos:
            return None
        delimiters = self.delimiters
        delim = delimiters.get(data[start])
        if delim is None or delim.double or delim.tag_count != 2 or delim.max_size != 2:
            return None
        for other in delimiters.values():
            if other.stack or len(other.token) != 1:
                return None
        opener = delim.boundary.match(data, start)
        if opener is None or opener.lastgroup != "start":
            return None
        size = opener.end(0) - start
        if size > 2:
            return None
        inner = opener.end(0)
        close = _next_delimiter(data, inner, delimiters)
        token = delim.token
        if close < 0 or data[close] != token:
            return None
        closer = delim.boundary.match(data, close)
        if closer is None or closer.lastgroup not in ("end", "ambiguous") or closer.end(0) - close != size:
            return None
        element = Element(delim.tags[0] if size == 2 else delim.tags[1])
        element.text = data[inner:close]
        return element, start, close + size


def _next_delimiter(data: str, start: int, delimiters: dict[str, object]) -> int:
    """The first index from `start` on holding a delimiter character, or -1."""
    found = -1
    for token in delimiters:
        index = data.find(token, start)
        if index >= 0 and (found < 0 or index < found):
            found = index
    return found


def install(md: markdown.Markdown, attr_list_needs: frozenset[str] | None) -> None:
    """Swap the faster pieces into `md`, each under the name and priority of the one it replaces.

    `attr_list_needs` is what every match of the attr_list regexes needs, or None if
    that is not known (the attr_list processor then always runs).
    """
    md.serializer = to_html_string
    if type(md.delimiters) is inlinepatterns.DelimiterProcessor:
        md.delimiters.__class__ = _QuickDelimiterProcessor
    md.treeprocessors.register(_FastPrettify(md), "prettify", 10)
    md.treeprocessors.register(_FastUnescape(md), "unescape", 0)
    if attr_list_needs is not None and "attr_list" in md.treeprocessors:
        md.treeprocessors.register(_SkippingAttrList(md, attr_list_needs), "attr_list", 8)
    md.preprocessors.register(_SkippingHtmlBlock(md), "html_block", 20)
    md.preprocessors.register(_FastNormalizeWhitespace(md), "normalize_whitespace", 30)
