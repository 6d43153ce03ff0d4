"""Each stand-in in generator.markup_fast does to any tree or text what the Markdown piece it replaces does.

test_markup_fast.py compares whole renders; these compare the pieces one by one on
trees Markdown itself would never build (comments, processing instructions, QNames,
valueless and boolean attributes, void elements with children, mixed-case tags), so
a shortcut that holds only for Markdown's usual trees shows up here.
"""

from __future__ import annotations

import copy
import random
from xml.etree.ElementTree import (
    Comment,
    Element,
    ProcessingInstruction,
    QName,
    SubElement,
)

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown import serializers, util
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import PrettifyTreeprocessor, UnescapeTreeprocessor

from generator import markup, markup_fast

TREES = 3000  # per test

TAGS = ["p", "div", "em", "strong", "a", "img", "br", "hr", "BR", "Img", "script", "Style", "code", "pre",
        "li", "ul", "ol", "h2", "td", "th", "table", "span", "x-y", "p/"]
ODD_TAGS = [Comment, ProcessingInstruction, None, QName("{urn:x}q"), QName("p")]
TEXT_PIECES = ["a", " ", "\n", "&", "&amp;", "&#123;", "&#x4e2d;", "&nbsp;", "&bogus", "<", ">", '"', "'", "{",
               "}", "{: .c }", "{ #i }", "\n{: #x }", util.STX, util.ETX, f"{util.STX}123{util.ETX}",
               f"{util.STX}wzxhzdk:0{util.ETX}", util.AMP_SUBSTITUTE, "中文", "😀", "\x0b", "  "]
ATTRIBUTE_NAMES = ["href", "title", "class", "id", "checked", "hidden", "async", "download", "Checked", "b", "a"]



def random_tree(rng: random.Random, odd: bool = True) -> Element:
    """An element tree of any shape, its strings full of what the escapers and regexes look for.

    Built from a seeded `random.Random`: a Hypothesis draw per node made the trees
    thirty times slower to come by.
    """

    def string() -> str:
        return "".join(rng.choices(TEXT_PIECES, k=rng.randint(0, 6)))

    def maybe_string() -> str | None:
        return rng.choice([None, string(), util.AtomicString(string())])

    def node(depth: int) -> Element:
        element = Element(rng.choice(TAGS + ODD_TAGS if odd else TAGS))
        for name in rng.sample(ATTRIBUTE_NAMES, rng.randint(0, 3)):
            value = rng.choice([None, string(), rng.choice(ATTRIBUTE_NAMES)]) if odd else string()
            element.set(QName(name) if odd and rng.random() < 0.1 else name, value)
        element.text, element.tail = maybe_string(), maybe_string()
        if depth < 4:
            element.extend(node(depth + 1) for _ in range(rng.randint(0, 3)))
        return element

    root = Element("div")
    root.extend(node(0) for _ in range(rng.randint(0, 4)))
    return root


def random_trees(odd: bool = True) -> list[Element]:
    rng = random.Random(11)
    return [random_tree(rng, odd) for _ in range(TREES)]


def _written(serializer: object, tree: Element) -> str:
    """What `serializer` writes for `tree`, or the name of the error it raises."""
    try:
        return serializer(tree)
    except (TypeError, ValueError) as error:  # str and QName names do not sort; a QName needs a namespace
        return f"{type(error).__name__}: {error}"


def test_the_serializer_writes_what_markdowns_writes() -> None:
    for tree in random_trees():
        assert _written(markup_fast.to_html_string, tree) == _written(serializers.to_html_string, tree)


def test_the_serializer_writes_comments_instructions_and_valueless_attributes_as_markdown_does() -> None:
    root = Element("div")
    SubElement(root, "p", {"checked": "checked", "hidden": None, "title": 'a "b" <c> & d'}).text = "x < y & z"
    root.append(Comment(" c & <d> ")), root.append(ProcessingInstruction("php x"))
    script = SubElement(root, "SCRIPT")
    script.text, script.tail = "if (a < b && c) {}", " after & <"
    SubElement(SubElement(root, "br"), "i").text = "inside a void element"
    root[-1].tail = "tail"
    expected = serializers.to_html_string(root)
    assert markup_fast.to_html_string(root) == expected
    assert '<p checked hidden title="a &quot;b&quot; &lt;c&gt; &amp; d">' in expected


def test_a_tree_deeper_than_the_recursion_limit_is_written_as_markdown_writes_it() -> None:
    root = leaf = Element("div")
    for n in range(5000):
        leaf = SubElement(leaf, "span" if n % 2 else "em", {"title": f"{n}&"})
        leaf.tail = "<t>"
    assert markup_fast.to_html_string(root) == serializers.to_html_string(root)


def _md() -> markdown.Markdown:
    return markdown.Markdown(extensions=markup._EXTENSIONS, extension_configs=markup._EXTENSION_CONFIGS)


MD = _md()  # the processors below keep no state of their own between runs


def _after(processor: object, tree: Element) -> str:
    """What `processor` leaves of a copy of `tree`, every string and attribute written out."""
    tree = copy.deepcopy(tree)
    processor.run(tree)
    return repr([(e.tag, e.text, e.tail, list(e.attrib.items())) for e in tree.iter()])


def test_the_prettifier_does_what_markdowns_does() -> None:
    for tree in random_trees():
        assert _after(markup_fast._FastPrettify(MD), tree) == _after(PrettifyTreeprocessor(MD), tree)


def test_the_unescaper_does_what_markdowns_does() -> None:
    for tree in random_trees():
        assert _after(markup_fast._FastUnescape(MD), tree) == _after(UnescapeTreeprocessor(MD), tree)


def test_the_attr_list_processor_does_what_markdowns_does() -> None:
    needed = markup._attr_list_needs(MD)
    assert needed == {"{"}
    for tree in random_trees(odd=False):
        assert _after(markup_fast._SkippingAttrList(MD, needed), tree) == _after(AttrListTreeprocessor(MD), tree)


html_free_text = st.lists(
    st.one_of(st.text(alphabet=st.characters(exclude_characters="<&")),
              st.sampled_from(["\n", "\n\n", "    ", "# h", "> q", "* i", "`c`", "]", "!", "--", "?>", "-->"])),
    max_size=20,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(html_free_text)
def test_the_html_block_preprocessor_leaves_text_without_markup_starts_as_it_was(source: str) -> None:
    md, pristine = _md(), _md()
    lines = source.split("\n")
    assert markup_fast._SkippingHtmlBlock(md).run(lines) == HtmlBlockPreprocessor(pristine).run(lines) == lines
    assert pristine.htmlStash.html_counter == 0


whitespace_soup = st.lists(
    st.one_of(st.text(max_size=3), st.sampled_from([" ", "  ", "\n", "\r", "\r\n", "\t", " \n", "\n \n", "\n  \n  \n",
                                                     " \t\n", util.STX, util.ETX, "a", "中"])),
    max_size=30,
).map("".join)


@settings(max_examples=800, deadline=None)
@given(whitespace_soup)
def test_the_whitespace_normaliser_does_what_markdowns_does(source: str) -> None:
    lines = source.split("\n")
    assert markup_fast._FastNormalizeWhitespace(MD).run(lines) == NormalizeWhitespace(MD).run(lines)
