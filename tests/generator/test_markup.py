"""Markdown rendering: sanitised HTML, plain text, word counts and summaries."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import markup
from generator.markup import Rendered, render, summary

FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "input", "button", "textarea", "select", "option", "style", "svg", "math",
    "base", "meta", "link", "noscript", "template", "div", "h1", "mglyph", "mtext",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcset", "poster", "background"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
# Browsers drop these anywhere inside a URL before looking at the scheme.
URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


class _Elements(HTMLParser):
    """Every start tag of a document with its (entity-decoded) attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    assert not parser.comments, f"comment survived: {parser.comments}"
    return parser.elements


def assert_safe(html: str) -> None:
    """The HTML has no script, handler, dangerous URL, style or forbidden element."""
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> survived in {html!r}"
        assert tag in markup._TAGS, f"<{tag}> is not on the allow-list: {html!r}"
        for name, value in attrs.items():
            assert not re.fullmatch(r"on\w+", name), f"handler {name}= on <{tag}>"
            assert name not in {"style", "id", "srcdoc", "formaction", "action"}, f"{name}= on <{tag}>"
            if name == "class":
                assert tag == "code" and re.fullmatch(r"language-[\w+#.-]+", value), value
            if name in URL_ATTRIBUTES:
                url = URL_NOISE.sub("", value).lower()
                assert not url.startswith(BAD_SCHEMES), f"{name}={value!r} on <{tag}>"


XSS_VECTORS = [
    pytest.param("<script>alert(1)</script>", id="raw-script"),
    pytest.param("<SCRIPT SRC=//evil.cn/x.js></SCRIPT>", id="raw-script-uppercase-src"),
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param("[x](javascript:alert(1))", id="md-link-javascript"),
    pytest.param("[x](jav&#x61;script:alert(1))", id="md-link-entity-javascript"),
    pytest.param("[x](JaVaScRiPt:alert(1))", id="md-link-mixed-case"),
    pytest.param("[x](  javascript:alert(1))", id="md-link-leading-spaces"),
    pytest.param("<a href=\"java\tscript:alert(1)\">x</a>", id="tab-split-scheme"),
    pytest.param("<a href=\"java\nscript:alert(1)\">x</a>", id="newline-split-scheme"),
    pytest.param("<a href=\"java&#x09;script:alert(1)\">x</a>", id="entity-tab-split-scheme"),
    pytest.param("[x](java&#x0A;script:alert(1))", id="md-link-entity-newline-scheme"),
    pytest.param("<a href=\"java   script:alert(1)\">x</a>", id="space-split-scheme"),
    pytest.param("<a href=\"\x01javascript:alert(1)\">x</a>", id="control-prefixed-scheme"),
    pytest.param("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="md-image-data-svg"),
    pytest.param("<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>", id="svg-xlink"),
    pytest.param("<iframe src=\"https://evil.cn\"></iframe>", id="iframe"),
    pytest.param("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", id="iframe-srcdoc"),
    pytest.param("<form action=\"https://evil.cn\"><input name=q><button>go</button></form>", id="form-button"),
    pytest.param("<button formaction=\"javascript:alert(1)\">x</button>", id="button-formaction"),
    pytest.param("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", id="a-data-url"),
    pytest.param("<a href=\"vbscript:msgbox(1)\">x</a>", id="a-vbscript"),
    pytest.param("<a href=\"file:///etc/passwd\">x</a>", id="a-file-url"),
    pytest.param("<div style=\"background:url(javascript:alert(1))\">x</div>", id="div-style-url"),
    pytest.param("<p style=\"color:red\">x</p>", id="inline-style"),
    pytest.param("<style>@import 'https://evil.cn/x.css';</style>", id="style-import"),
    pytest.param(
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        id="mxss-math-mglyph-style",
    ),
    pytest.param("<math><mtext></mtext><mglyph><style></math><img src=x onerror=alert(1)>", id="mxss-math-close"),
    pytest.param("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>", id="mxss-noscript"),
    pytest.param("<object data=\"javascript:alert(1)\"></object>", id="object"),
    pytest.param("<embed src=\"https://evil.cn/x.swf\">", id="embed"),
    pytest.param("<base href=\"https://evil.cn/\">", id="base-href"),
    pytest.param("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.cn\">", id="meta-refresh"),
    pytest.param("<link rel=\"import\" href=\"https://evil.cn/x.html\">", id="link-import"),
    pytest.param("Paragraph\n{: onclick=\"alert(1)\" }", id="attr-list-onclick"),
    pytest.param("Paragraph\n{: style=\"position:fixed;top:0\" }", id="attr-list-style"),
    pytest.param("[x](https://ok.example){: href=\"javascript:alert(1)\" }", id="attr-list-href"),
    pytest.param("# Title {: #main .evil onmouseover=alert(1) }", id="attr-list-id-class-handler"),
    pytest.param("[x][1]\n\n[1]: javascript:alert(1)", id="reference-link-javascript"),
    pytest.param("![x][img]\n\n[img]: javascript:alert(1)", id="reference-image-javascript"),
    pytest.param("<javascript:alert(1)>", id="autolink-javascript"),
    pytest.param("![x](https://img.example/a.png \"a\\\" onerror=\\\"alert(1)\")", id="md-image-title-onerror"),
    pytest.param("![x\" onerror=\"alert(1)](a.png)", id="md-image-alt-onerror"),
    pytest.param("<a href=\"&#106;avascript:alert(1)\">x</a>", id="a-decimal-entity"),
    pytest.param("<a href=\"&#x6A;&#x61;&#x76;&#x61;script&colon;alert(1)\">x</a>", id="a-hex-entity-colon"),
    pytest.param("<!--><script>alert(1)</script>-->", id="comment-breakout"),
    pytest.param("<!-- <img src=x onerror=alert(1)> -->", id="comment-hidden-img"),
    pytest.param("<textarea><img src=x onerror=alert(1)></textarea>", id="textarea"),
    pytest.param("<select><option><img src=x onerror=alert(1)></option></select>", id="select"),
    pytest.param("<img src=\"x\" onerror=\"alert(1)\" loading=\"eager\">", id="img-eager-onerror"),
    pytest.param("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    pytest.param("<a href=\"https://ok.example\" onclick=\"alert(1)\" target=\"_blank\">x</a>", id="a-onclick"),
    pytest.param("```\n</code></pre><script>alert(1)</script>\n```", id="fenced-code-breakout"),
    pytest.param("```js\" onmouseover=\"alert(1)\nx\n```", id="fenced-code-class-injection"),
    pytest.param("`<script>alert(1)</script>`", id="inline-code-script"),
    pytest.param("<template><script>alert(1)</script></template>", id="template"),
    pytest.param("<scr<script>ipt>alert(1)</scr</script>ipt>", id="nested-script-split"),
    pytest.param("\x00<script>alert(1)</script>", id="nul-before-script"),
    pytest.param("<sc\x00ript>alert(1)</sc\x00ript>", id="nul-inside-tag"),
    pytest.param("\x02wzxhzdk:0\x03<script>alert(1)</script>", id="markdown-placeholder-forgery"),
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_neutralised(vector: str) -> None:
    assert_safe(render(vector).html)


def test_there_are_at_least_thirty_xss_vectors() -> None:
    assert len(XSS_VECTORS) >= 30


def test_template_syntax_is_kept_as_literal_text() -> None:
    rendered = render("价格 {{ 7*7 }} 元，{% raw %}\n\n${7*7}")
    assert "{{ 7*7 }}" in rendered.html
    assert "{{ 7*7 }}" in rendered.text
    assert "{% raw %}" in rendered.text
    assert "49" not in rendered.html


def test_script_content_is_dropped_not_shown_as_text() -> None:
    rendered = render("前<script>alert('x')</script>后")
    assert "alert" not in rendered.html
    assert "alert" not in rendered.text


def test_table_renders_with_alignment_attributes_not_styles() -> None:
    html = render("| 名称 | 价格 |\n|:--|--:|\n| 精华 | 1080 |\n").html
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th align="left">名称</th>' in html
    assert '<td align="right">1080</td>' in html
    assert "style" not in html


def test_fenced_code_keeps_language_class() -> None:
    html = render("```python\nprint('<hi>')\n```\n").html
    assert '<pre><code class="language-python">' in html
    assert "print('&lt;hi&gt;')" in html


def test_classes_other_than_language_are_dropped() -> None:
    html = render("Para\n{: .highlight }\n\n<span class=\"x\">y</span>").html
    assert "class" not in html


def test_lists_render() -> None:
    html = render("- 一\n- 二\n\n1. first\n2. second\n").html
    assert "<ul>" in html and "<li>一</li>" in html
    assert "<ol>" in html and "<li>second</li>" in html


def test_sane_lists_do_not_merge_ordered_and_unordered() -> None:
    html = render("1. a\n2. b\n\n* c\n").html
    assert "<ol>" in html and "<ul>" in html


def test_emphasis_strong_and_strikethrough_render() -> None:
    html = render("*轻* **重** <del>旧价</del>").html
    assert "<em>轻</em>" in html
    assert "<strong>重</strong>" in html
    assert "<del>旧价</del>" in html


def test_markdown_h1_becomes_h2_and_raw_h1_keeps_only_text() -> None:
    html = render("# 推荐理由\n\n<h1>大标题</h1>\n").html
    assert "<h2>推荐理由</h2>" in html
    assert "<h1" not in html
    assert "大标题" in html


def test_ids_are_dropped() -> None:
    assert "id=" not in render("## 标题 {: #anchor }").html


def test_chinese_punctuation_survives_intact() -> None:
    source = "她说：「这瓶精华真的好用」——『回购』第三次了……不是吗？"
    rendered = render(source)
    assert source in rendered.html
    assert rendered.text == source


def test_quotes_and_dashes_are_not_smartened() -> None:
    rendered = render("\"quoted\" -- it's...")
    assert rendered.text == "\"quoted\" -- it's..."


def test_https_link_gets_ugc_rel() -> None:
    html = render("[天猫](https://detail.tmall.com/item.htm?id=1)").html
    (tag, attrs), = [e for e in elements(html) if e[0] == "a"]
    assert attrs["href"] == "https://detail.tmall.com/item.htm?id=1"
    assert attrs["rel"] == "nofollow noopener ugc"


def test_relative_and_mailto_links_are_kept() -> None:
    html = render("[图](images/a.jpg) [信](mailto:hi@example.com)").html
    hrefs = [attrs.get("href") for tag, attrs in elements(html) if tag == "a"]
    assert hrefs == ["images/a.jpg", "mailto:hi@example.com"]


def test_javascript_link_keeps_its_text_but_loses_href() -> None:
    html = render("[点我](javascript:alert(1))").html
    (tag, attrs), = [e for e in elements(html) if e[0] == "a"]
    assert "href" not in attrs
    assert "点我" in html


def test_images_are_lazy_and_async() -> None:
    html = render("![小黑瓶](images/lancome-serum.jpg \"正面\")").html
    (tag, attrs), = [e for e in elements(html) if e[0] == "img"]
    assert attrs == {
        "src": "images/lancome-serum.jpg",
        "alt": "小黑瓶",
        "title": "正面",
        "loading": "lazy",
        "decoding": "async",
    }


def test_raw_img_loading_eager_is_overridden_and_sizes_kept() -> None:
    html = render('<img src="a.jpg" width="300" height="20px" loading="eager">').html
    (tag, attrs), = [e for e in elements(html) if e[0] == "img"]
    assert attrs["loading"] == "lazy"
    assert attrs["width"] == "300"
    assert "height" not in attrs


def test_text_is_plain_with_entities_decoded_and_whitespace_collapsed() -> None:
    rendered = render("## 标题\n\n第一段 **加粗**\n\nA &amp; B <i>x</i>\n\n- 项\n")
    assert rendered.text == "标题 第一段 加粗 A & B x 项"


def test_text_keeps_separate_table_cells_apart() -> None:
    assert render("|a|b|\n|-|-|\n|c|d|\n").text == "a b c d"


def test_words_count_each_cjk_character() -> None:
    assert render("兰蔻小黑瓶").words == 5


def test_words_count_latin_words_and_mixed_text() -> None:
    assert render("Lancome serum, 50ml!").words == 3
    assert render("这款 serum 很好用 it's great").words == 2 + 1 + 3 + 2


def test_words_ignore_punctuation() -> None:
    assert render("「」，。…… — !!").words == 0


def test_words_count_kana_but_hangul_by_word() -> None:
    assert render("ありがとう").words == 5
    assert render("정말 좋아요").words == 2


def test_render_returns_rendered() -> None:
    rendered = render("hi")
    assert isinstance(rendered, Rendered)
    assert rendered == Rendered(html="<p>hi</p>", text="hi") and rendered.words == 1


def test_empty_input_renders_empty() -> None:
    assert render("") == Rendered(html="", text="") and render("").words == 0


def test_markdown_instance_is_shared_and_state_does_not_leak() -> None:
    render("[a][ref]\n\n[ref]: https://one.example\n")
    first = markup._md
    html = render("[a][ref]").html
    assert markup._md is first
    assert "one.example" not in html


def test_nul_bytes_become_replacement_characters() -> None:
    rendered = render("a\x00b")
    assert "\x00" not in rendered.html
    assert rendered.text == "a\ufffdb"


def test_lone_surrogates_do_not_raise() -> None:
    rendered = render("好\ud800物\udfff")
    assert rendered.text == "好\ufffd物\ufffd"


def test_deeply_nested_input_falls_back_to_escaped_text() -> None:
    rendered = render("- " * 5000 + "<script>x</script>")
    assert_safe(rendered.html)
    assert rendered.text.endswith("<script>x</script>")
    assert render("**正常**").html == "<p><strong>正常</strong></p>"


def test_huge_input_renders() -> None:
    source = ("推荐理由 **很好** [链接](https://tmall.com) <b>x</b>\n\n" * 20000) + "<" * 100000
    rendered = render(source)
    assert_safe(rendered.html)
    assert rendered.words > 100000


def test_summary_returns_short_text_unchanged_but_collapsed() -> None:
    assert summary("  短   文本\n") == "短 文本"


def test_summary_cuts_chinese_between_characters() -> None:
    text = "兰蔻小黑瓶精华液，修护肌肤屏障，" * 20
    result = summary(text, 10)
    assert result == "兰蔻小黑瓶精华液…"
    assert len(result) <= 10


def test_summary_cuts_english_on_a_word_boundary() -> None:
    text = "This serum repairs the skin barrier overnight and smells great"
    result = summary(text, 30)
    assert result == "This serum repairs the skin…"
    assert len(result) <= 30
    assert text.startswith(result[:-1])


def test_summary_drops_dangling_separators_before_the_ellipsis() -> None:
    assert summary("好用，真的很好用很好用", 4) == "好用…"
    assert summary("one, two three four", 6) == "one…"


def test_summary_hard_cuts_a_word_longer_than_the_limit() -> None:
    assert summary("supercalifragilistic", 6) == "super…"


def test_summary_mixed_text_may_cut_after_a_cjk_character() -> None:
    assert summary("好用serum真的", 6) == "好用…"


def test_summary_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError):
        summary("x", 0)


def test_summary_with_limit_one_is_just_the_ellipsis() -> None:
    assert summary("abc", 1) == "…"


@pytest.mark.parametrize("limit", [1, 2, 5, 17, 120])
def test_summary_never_exceeds_its_limit(limit: int) -> None:
    text = render("这款 **serum** 真的 very good，推荐给 everyone who 喜欢护肤 " * 10).text
    assert len(summary(text, limit)) <= limit


DANGEROUS_PIECES = [
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:", "jav&#x61;script:",
    "<svg", "onload=", "[x](", ")", "![", "]", "{: ", "}", "<!--", "-->", "<", ">", "\"", "'",
    "&#", ";", "\n", "\n\n", "```", "`", "<a href=", "<style>", "<math>", "<noscript>",
    "data:", " ", "\t", "*", "#", "|", "-", "1.", ">", "\x00", "「", "」",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.sampled_from(DANGEROUS_PIECES), max_size=60).map("".join)))
def test_render_never_raises_and_never_emits_script(source: str) -> None:
    rendered = render(source)
    assert "<script" not in rendered.html.lower()
    assert_safe(rendered.html)
    assert rendered.words >= 0


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=200))
def test_summary_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    result = summary(text, limit)
    assert len(result) <= limit
    collapsed = " ".join(text.split())
    assert collapsed.startswith(result.removesuffix("…"))
