"""The partner-link gate: hostile links are rejected with a reason, partner links pass."""
from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.links import LinkVerdict, check_link

PARTNERS = {"tmall": ["tmall.com", "tmall.hk"], "taobao": ["taobao.com", "tb.cn"], "weimai": ["weimai.com"]}
NAMES = {"tmall": "天猫", "taobao": "淘宝", "weimai": "微卖"}
CYRILLIC_TMALL = "tm\u0430ll.com"  # U+0430 CYRILLIC SMALL LETTER A

HOSTILE = [
    # user info hides the real destination after the "@"
    pytest.param("https://tmall.com@evil.cn/", "link.userinfo", id="userinfo-partner-before-at"),
    pytest.param("https://detail.tmall.com:x@evil.cn/", "link.userinfo", id="userinfo-with-fake-port"),
    pytest.param("https://user:pass@detail.tmall.com/", "link.userinfo", id="userinfo-on-partner"),
    pytest.param("https://evil.cn\\@tmall.com", "link.backslash", id="backslash-before-at"),
    pytest.param("https://tmall.com%40evil.cn/", "link.percent-encoded-host", id="encoded-at-sign"),
    # lookalike hosts
    pytest.param("https://tmall.com.evil.cn/item", "link.lookalike-host", id="partner-as-subdomain"),
    pytest.param("https://eviltmall.com/", "link.lookalike-host", id="partner-name-suffix"),
    pytest.param("https://tmall-com.cn/", "link.lookalike-host", id="dot-as-hyphen"),
    pytest.param("https://tmall.com-shop.cn/", "link.lookalike-host", id="partner-then-hyphen"),
    pytest.param("https://detail.tmall.co/", "link.lookalike-host", id="truncated-tld"),
    pytest.param("https://taoabo.com/", "link.lookalike-host", id="swapped-letters"),
    pytest.param("https://tb.cn.evil.com/h.abc", "link.lookalike-host", id="short-domain-as-subdomain"),
    pytest.param("https://weimai.com.cn/", "link.lookalike-host", id="extra-tld"),
    pytest.param("https://trnall.com/", "link.lookalike-host", id="rn-for-m"),
    pytest.param("https://tma11.com/", "link.lookalike-host", id="digit-one-for-l"),
    # IDN homographs, in Unicode and in punycode
    pytest.param(f"https://{CYRILLIC_TMALL}/", "link.lookalike-host", id="cyrillic-a-homograph"),
    pytest.param("https://t\u0430obao.com/", "link.lookalike-host", id="cyrillic-taobao-homograph"),
    pytest.param("https://detail.tmall.c\u03bfm/", "link.lookalike-host", id="greek-omicron-tld"),
    pytest.param("https://xn--tmll-63d.com/", "link.lookalike-host", id="punycode-homograph"),
    pytest.param("https://XN--TMLL-63D.com/", "link.lookalike-host", id="uppercase-punycode-homograph"),
    # fullwidth dots still make a lookalike once normalised
    pytest.param("https://tmall.com\u3002evil.cn/", "link.lookalike-host", id="ideographic-dot-lookalike"),
    pytest.param("https://tmall\uff0ecom\uff0eevil\uff61cn/", "link.lookalike-host", id="fullwidth-dots-lookalike"),
    pytest.param("https://evil.cn/", "link.unapproved-host", id="plain-other-site"),
    pytest.param("https://example.com/tmall.com", "link.unapproved-host", id="partner-only-in-path"),
    # backslashes, which browsers read as "/"
    pytest.param("https:/\\evil.cn", "link.backslash", id="slash-backslash"),
    pytest.param("HTTPS:/\\evil.cn", "link.backslash", id="uppercase-slash-backslash"),
    pytest.param("https:\\\\evil.cn", "link.backslash", id="double-backslash"),
    pytest.param("https://tmall.com\\.evil.cn/", "link.backslash", id="backslash-in-host"),
    # percent-encoded hosts
    pytest.param("https://%74mall.com.evil.cn/", "link.percent-encoded-host", id="encoded-letter-lookalike"),
    pytest.param("https://detail.tmall%2Ecom/", "link.percent-encoded-host", id="encoded-dot"),
    pytest.param("https://%zz/", "link.percent-encoded-host", id="broken-escape"),
    # IP literals in every form a browser reads as IPv4, and IPv6
    pytest.param("https://127.0.0.1/", "link.ip-literal", id="ipv4-dotted"),
    pytest.param("https://3232235521/", "link.ip-literal", id="ipv4-decimal-integer"),
    pytest.param("https://0x7f.1/", "link.ip-literal", id="ipv4-hex"),
    pytest.param("https://0177.0.0.1/", "link.ip-literal", id="ipv4-octal"),
    pytest.param("https://127.1/", "link.ip-literal", id="ipv4-shortened"),
    pytest.param("https://0x7f000001/", "link.ip-literal", id="ipv4-hex-integer"),
    pytest.param("https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "link.ip-literal",
                 id="ipv4-fullwidth"),
    pytest.param("https://[::1]/", "link.ip-literal", id="ipv6-loopback"),
    pytest.param("https://[::ffff:127.0.0.1]/", "link.ip-literal", id="ipv6-mapped-ipv4"),
    # explicit ports
    pytest.param("https://tmall.com:443/", "link.port", id="default-port"),
    pytest.param("https://detail.tmall.com:8080/x", "link.port", id="other-port"),
    pytest.param("https://tmall.com:/", "link.port", id="empty-port"),
    # schemes and relative forms
    pytest.param("http://detail.tmall.com/", "link.not-https", id="plain-http"),
    pytest.param("javascript:alert(1)", "link.not-https", id="javascript"),
    pytest.param("JaVaScRiPt:alert(document.cookie)", "link.not-https", id="mixed-case-javascript"),
    pytest.param("data:text/html,<script>alert(1)</script>", "link.not-https", id="data-url"),
    pytest.param("ftp://tmall.com/", "link.not-https", id="ftp"),
    pytest.param("//tmall.com/x", "link.not-absolute", id="protocol-relative"),
    pytest.param("tmall.com/item", "link.not-absolute", id="no-scheme"),
    pytest.param("", "link.not-absolute", id="empty"),
    pytest.param("https:tmall.com", "link.malformed", id="https-without-slashes"),
    pytest.param("https:/tmall.com", "link.malformed", id="https-one-slash"),
    pytest.param("https:///tmall.com", "link.malformed", id="https-three-slashes"),
    # whitespace, control, bidi and invisible characters
    pytest.param("https://tmall.com/ x", "link.bad-character", id="space-in-path"),
    pytest.param(" https://tmall.com/", "link.bad-character", id="leading-space"),
    pytest.param("https://tmall.com/\n", "link.bad-character", id="trailing-newline"),
    pytest.param("https://tmall.com/\x00", "link.bad-character", id="nul"),
    pytest.param("https://tmall.com/\u202egnp.exe", "link.bad-character", id="bidi-override-in-path"),
    pytest.param("https://\u2066evil.cn\u2069.tmall.com/", "link.bad-character", id="bidi-isolate-in-host"),
    pytest.param("https://tm\u200ball.com/", "link.bad-character", id="zero-width-space"),
    pytest.param("\ufeffhttps://tmall.com/", "link.bad-character", id="byte-order-mark"),
    pytest.param("https://tm\u00adall.com/", "link.bad-character", id="soft-hyphen"),
    pytest.param("https://tmall.com/\u2060", "link.bad-character", id="word-joiner"),
    pytest.param("https://tmall.com/\u061c", "link.bad-character", id="arabic-letter-mark"),
    pytest.param("https://tmall.com/\ud800", "link.bad-character", id="lone-surrogate"),
    pytest.param("https://tmall.com/\u3000", "link.bad-character", id="ideographic-space"),
    # trailing dots and length
    pytest.param("https://tmall.com./", "link.trailing-dot", id="trailing-dot"),
    pytest.param("https://detail.tmall.com\u3002/", "link.trailing-dot", id="fullwidth-trailing-dot"),
    pytest.param("https://detail.tmall.com/" + "a" * 2048, "link.too-long", id="too-long"),
    # invalid domain names
    pytest.param("https://xn--zz.com/", "link.idna", id="invalid-punycode"),
    pytest.param("https://a..tmall.com/", "link.idna", id="empty-label"),
    pytest.param("https://tmall.com\uff0fevil.cn/", "link.idna", id="fullwidth-solidus"),
    # open redirects through a partner page
    pytest.param("https://detail.tmall.com/r?url=https%3A%2F%2Fevil.cn", "link.open-redirect", id="redirect-encoded"),
    pytest.param("https://detail.tmall.com/r?url=https://evil.cn/x", "link.open-redirect", id="redirect-raw"),
    pytest.param("https://detail.tmall.com/r?next=//evil.cn", "link.open-redirect", id="redirect-protocol-relative"),
    pytest.param("https://detail.tmall.com/r?next=%2F%5Cevil.cn", "link.open-redirect", id="redirect-slash-backslash"),
    pytest.param("https://detail.tmall.com/r?url=https%253A%252F%252Fevil.cn", "link.open-redirect",
                 id="redirect-double-encoded"),
    pytest.param("https://detail.tmall.com/r?u=javascript%3Aalert(1)", "link.open-redirect", id="redirect-javascript"),
    pytest.param("https://detail.tmall.com/r?u=https%3A%2F%2Ftmall.com%40evil.cn", "link.open-redirect",
                 id="redirect-userinfo"),
    pytest.param("https://detail.tmall.com/r?u=https%3A%2F%2Fitem.taobao.com%2Fr%3Fto%3Dhttps%253A%252F%252Fevil.cn",
                 "link.open-redirect", id="redirect-chained-through-partner"),
    pytest.param("https://detail.tmall.com/r?u=https:evil.cn", "link.open-redirect", id="redirect-no-slashes"),
    pytest.param("https://detail.tmall.com/r?https%3A%2F%2Fevil.cn", "link.open-redirect", id="redirect-bare-value"),
    pytest.param("https://s.click.taobao.com/t?e=x&url=http%3A%2F%2F127.0.0.1%2F", "link.open-redirect",
                 id="redirect-to-ip"),
    pytest.param("https://detail.tmall.com/r?u=%09%2F%2Fevil.cn", "link.open-redirect", id="redirect-tab-prefixed"),
]

LEGIT = [
    pytest.param("https://tmall.com/", "tmall", id="bare-partner-domain"),
    pytest.param("https://detail.tmall.com/item.htm?id=123456", "tmall", id="subdomain"),
    pytest.param("https://detail.tmall.hk/hk/item.htm?id=1", "tmall", id="second-partner-domain"),
    pytest.param("https://m.tb.cn/h.abc", "taobao", id="short-link"),
    pytest.param("https://tb.cn/x", "taobao", id="short-link-apex"),
    pytest.param("https://a.b.c.taobao.com/deep", "taobao", id="deep-subdomain"),
    pytest.param("https://item.taobao.com/item.htm?id=1&q=口红", "taobao", id="raw-chinese-query"),
    pytest.param("https://item.taobao.com/item.htm?id=1&q=%E5%8F%A3%E7%BA%A2", "taobao", id="encoded-chinese-query"),
    pytest.param("https://s.taobao.com/search?q=兰蔻+小黑瓶", "taobao", id="chinese-query-with-plus"),
    pytest.param("https://item.taobao.com/item.htm?id=1&title=%E5%85%B0%E8%94%BB%20serum%2B", "taobao",
                 id="encoded-mixed-query"),
    pytest.param("https://detail.tmall.com/item.htm?id=1#reviews", "tmall", id="fragment"),
    pytest.param("https://detail.tmall.com/item.htm?id=1#详情", "tmall", id="chinese-fragment"),
    pytest.param("HTTPS://Detail.TMALL.com/item.htm?id=1", "tmall", id="uppercase-scheme-and-host"),
    pytest.param("https://detail.tmall\u3002com/item.htm", "tmall", id="ideographic-dot-host"),
    pytest.param("https://detail\uff0etmall\uff61com/", "tmall", id="fullwidth-dots-host"),
    pytest.param("https://\uff44\uff45\uff54\uff41\uff49\uff4c.\uff54\uff4d\uff41\uff4c\uff4c.\uff43\uff4f\uff4d/",
                 "tmall", id="fullwidth-letters-host"),
    pytest.param("https://weimai.com/p/42", "weimai", id="third-partner"),
    pytest.param("https://shop.weimai.com/p/42?from=creator", "weimai", id="third-partner-subdomain"),
    pytest.param("https://detail.tmall.com/r?url=https%3A%2F%2Fitem.taobao.com%2Fitem.htm%3Fid%3D1", "tmall",
                 id="redirect-to-other-partner"),
    pytest.param("https://detail.tmall.com/r?url=https://m.tb.cn/h.abc", "tmall", id="raw-redirect-to-partner"),
    pytest.param("https://item.taobao.com/item.htm?id=1&u=%2F%2Fdetail.tmall.com%2Fx", "taobao",
                 id="protocol-relative-redirect-to-partner"),
    pytest.param("https://detail.tmall.com/r?next=%2Fitem.htm%3Fid%3D1", "tmall", id="relative-path-param"),
    pytest.param("https://detail.tmall.com/item.htm?spm=a220m.1000858.1000725.1.6d7c&id=1&skuId=2", "tmall",
                 id="tracking-params"),
    pytest.param("https://detail.tmall.com/item.htm?time=12:30&ratio=1:1", "tmall", id="colons-in-values"),
    pytest.param("https://detail.tmall.com", "tmall", id="no-path"),
    pytest.param("https://detail.tmall.com?id=1", "tmall", id="query-without-path"),
    pytest.param("https://detail.tmall.com/a/b/c.htm;jsessionid=1", "tmall", id="path-parameters"),
    pytest.param("https://detail.tmall.com/item.htm?id=1&empty=&flag", "tmall", id="empty-and-bare-params"),
    pytest.param("https://tmall.com/path/with%20encoded%20space", "tmall", id="encoded-space-in-path"),
    pytest.param("https://detail.tmall.com/" + "a" * (2048 - len("https://detail.tmall.com/")), "tmall",
                 id="exactly-max-length"),
]


@pytest.mark.parametrize(("url", "code"), HOSTILE)
def test_hostile_link_is_rejected_with_reason(url: str, code: str) -> None:
    verdict = check_link(url, PARTNERS, NAMES)
    assert verdict.ok is False
    assert verdict.code == code, verdict
    assert verdict.partner is None
    assert verdict.message


@pytest.mark.parametrize(("url", "partner"), LEGIT)
def test_partner_link_is_accepted(url: str, partner: str) -> None:
    verdict = check_link(url, PARTNERS, NAMES)
    assert verdict == LinkVerdict(True, partner, verdict.host, "", "")
    assert verdict.host == verdict.host.lower().encode("ascii").decode()


def test_there_are_enough_cases() -> None:
    assert len(HOSTILE) >= 45 and len(LEGIT) >= 25


@pytest.mark.parametrize(("url", "host"), [
    pytest.param("HTTPS://Detail.TMALL.com/x", "detail.tmall.com", id="uppercase"),
    pytest.param("https://detail.tmall\u3002com/x", "detail.tmall.com", id="ideographic-dot"),
    pytest.param("https://tmall.com.evil.cn/", "tmall.com.evil.cn", id="rejected-host-still-reported"),
    pytest.param(f"https://{CYRILLIC_TMALL}/", "xn--tmll-63d.com", id="homograph-as-punycode"),
])
def test_verdict_reports_normalised_host(url: str, host: str) -> None:
    assert check_link(url, PARTNERS, NAMES).host == host


@pytest.mark.parametrize(("url", "domain", "name"), [
    pytest.param("https://tmall.com.evil.cn/", "tmall.com", "天猫", id="partner-as-subdomain"),
    pytest.param("https://eviltmall.com/", "tmall.com", "天猫", id="partner-name-suffix"),
    pytest.param(f"https://{CYRILLIC_TMALL}/", "tmall.com", "天猫", id="cyrillic-homograph"),
    pytest.param("https://xn--tmll-63d.com/", "tmall.com", "天猫", id="punycode-homograph"),
    pytest.param("https://t\u0430obao.com/", "taobao.com", "淘宝", id="cyrillic-taobao"),
    pytest.param("https://weimai-com.cn/", "weimai.com", "微卖", id="weimai-hyphen"),
])
def test_lookalike_host_is_rejected_with_hint_naming_imitated_partner(url: str, domain: str, name: str) -> None:
    verdict = check_link(url, PARTNERS, NAMES)
    assert verdict.code == "link.lookalike-host"
    assert verdict.hint == f"did you mean a {domain} link ({name})?"
    assert "is not a partner domain" in verdict.message


def test_hint_falls_back_to_partner_id_without_names() -> None:
    assert check_link("https://eviltmall.com/", PARTNERS).hint == "did you mean a tmall.com link (tmall)?"


def test_userinfo_rejection_names_the_real_destination_and_the_imitated_partner() -> None:
    verdict = check_link("https://tmall.com@evil.cn/", PARTNERS, NAMES)
    assert "evil.cn" in verdict.message
    assert "tmall.com" in verdict.hint


def test_unapproved_host_hint_lists_approved_domains() -> None:
    verdict = check_link("https://example.com/", PARTNERS, NAMES)
    assert verdict.message == "example.com is not a partner domain"
    assert "tmall.com" in verdict.hint and "tb.cn" in verdict.hint


def test_no_partners_approves_nothing() -> None:
    assert check_link("https://detail.tmall.com/", {}).code == "link.unapproved-host"


def test_verdict_is_frozen() -> None:
    verdict = check_link("https://tmall.com/", PARTNERS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.ok = False  # type: ignore[misc]


@pytest.mark.parametrize("url", ["%", "https://[", "https://%zz", "https://", "https:", "https://@", "https://:",
                                 "https://.", "https://\u3002", "https://?", "\ud800", "x" * 100_000,
                                 "https://tmall.com/?" + "%" * 3000, "https://" + "a." * 200 + "com"])
def test_odd_input_is_rejected_not_raised(url: str) -> None:
    verdict = check_link(url, PARTNERS, NAMES)
    assert verdict.ok is False and verdict.code.startswith("link.")


_PIECES = st.sampled_from([
    "https://", "HTTPS://", "//", "http:", "https:", "/\\", "tmall.com", "detail.", "m.tb.cn", "taobao.com", ".",
    "\u3002", "\uff0e", "@", ":", ":443", "%", "%2e", "%74", "/", "?", "#", "&", "=", "url=", "https%3A%2F%2F",
    "evil.cn", "tm\u0430ll", "xn--tmll-63d", "[", "]", "127.0.0.1", "0x7f", "\u200b", "\u202e", " ", "-", "\uff54",
    "口红", "%E5%8F%A3",
])
_URLISH = st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=14).map("".join)
_NEAR_PARTNER = st.builds(
    lambda sub, domain, tail: f"https://{sub}{domain}{tail}",
    st.sampled_from(["", "detail.", "m.", "a-b.", "ｄ.", "x\u3002"]),
    st.sampled_from(["tmall.com", "tmall.hk", "taobao.com", "tb.cn", "weimai.com", "tmall\u3002com"]),
    _URLISH,
)


def _partner_host(host: str) -> bool:
    ascii_host = idna.encode(host, uts46=True).decode("ascii")
    return any(ascii_host == d or ascii_host.endswith("." + d) for domains in PARTNERS.values() for d in domains)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _URLISH, _NEAR_PARTNER))
def test_check_link_never_raises_and_only_accepts_partner_hosts(url: str) -> None:
    verdict = check_link(url, PARTNERS, NAMES)
    assert isinstance(verdict, LinkVerdict)
    if not verdict.ok:
        assert verdict.code.startswith("link.") and verdict.partner is None
        return
    assert verdict.code == "" and verdict.partner in PARTNERS
    parts = urlsplit(url)
    assert parts.scheme.lower() == "https" and parts.username is None and parts.port is None
    assert parts.hostname is not None and _partner_host(parts.hostname)
