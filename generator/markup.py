"""Render a product's Markdown body to sanitised HTML, plain text and a word count.

Creators' Markdown is untrusted: Python-Markdown passes raw HTML through, so
everything it emits goes through an nh3 allow-list before it reaches a page.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

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
    return _md


def _freeze_registries(md: markdown.Markdown) -> None:
    """Swap lookups that Markdown repeats per text node for immutable copies, once built.

    The inline processor indexes its pattern Registry once per pattern per text
    node, and every element asks whether its tag is block-level; a tuple and a
    frozenset answer the same questions several times faster. Nothing registers
    patterns or block tags after construction, so the copies never go stale;
    tests/generator/test_markup_fast.py holds the output to an untouched instance's.
    """
    md.treeprocessors["inline"].inlinePatterns = tuple(md.inlinePatterns)
    md.block_level_elements = frozenset(md.block_level_elements)


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


def _sanitise(unsafe_html: str) -> str:
    """Apply the allow-list: tags, attributes, URL schemes, rel and lazy images."""
    safe_html = nh3.clean(
        unsafe_html,
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
