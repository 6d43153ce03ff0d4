"""The partner-link gate: decides whether a product link may be published."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import idna

MAX_LENGTH = 2048

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
# Schemes a WHATWG parser gives an authority to even without "//" (https:evil.cn).
_SPECIAL = frozenset({"http", "https", "ftp", "ws", "wss", "file"})
# Host-less schemes that are still dangerous as a redirect target.
_HOSTLESS = frozenset({"javascript", "data", "vbscript", "blob"})
# Invisible letters Unicode does not class as format characters.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0")
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp"})
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
# Compiled once: a pattern string passed to re.split/re.sub is looked up in re's cache on every call.
_AUTHORITY_END = re.compile(r"[/?#]")
_NESTED_AUTHORITY_END = re.compile(r"[/\\?#]")
_QUERY_SEPARATOR = re.compile(r"[&;]")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_LDH = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")
# WHATWG "ends in a number": such a host is parsed as IPv4 (or rejected), never as a name.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
# Common lookalikes of Latin letters; fullwidth forms need no entry because UTS-46
# has already folded them to ASCII before a skeleton is taken.
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "к": "k",
    "м": "m", "т": "t", "в": "b", "н": "h", "ɡ": "g", "ı": "i", "ℓ": "l",
    "α": "a", "ο": "o", "ρ": "p", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "υ": "u",
    "ϲ": "c", "ε": "e", "χ": "x", "β": "b", "η": "n", "0": "o", "1": "l",
})


@dataclass(frozen=True)
class LinkVerdict:
    """Whether a link is publishable, and if not, why and what was probably meant."""

    ok: bool
    partner: str | None
    host: str
    code: str
    message: str
    hint: str = ""


class _HostError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_link(url: str, partners: Mapping[str, Sequence[str]],
               names: Mapping[str, str] | None = None) -> LinkVerdict:
    """Accept `url` only if it is a plain https link to an approved partner domain.

    Never raises: every problem comes back as a rejected verdict with a code.
    """
    domains = tuple((partner, tuple(found)) for partner, found in partners.items())
    return _gate(domains, tuple((names or {}).items())).check(url)


@functools.lru_cache(maxsize=16)
def _gate(domains: tuple[tuple[str, tuple[str, ...]], ...], names: tuple[tuple[str, str], ...]) -> _Gate:
    """One gate per partner configuration: 10,000 links share its normalised domains."""
    return _Gate(dict(domains), dict(names))


def _reject(code: str, message: str, host: str = "", hint: str = "") -> LinkVerdict:
    return LinkVerdict(False, None, host, code, message, hint)


def _bad_character(url: str) -> str | None:
    # str.isprintable() is false exactly for the Other (C*) and Separator (Z*) categories, the ASCII space
    # excepted, so a printable link without a space or an invisible letter has no character to name.
    if url.isprintable() and " " not in url and _INVISIBLE.isdisjoint(url):
        return None
    for index, char in enumerate(url):
        if char in _INVISIBLE or unicodedata.category(char) in _BAD_CATEGORIES:
            name = unicodedata.name(char, "")
            label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
            return f"link contains an invisible or control character ({label}) at position {index + 1}"
    return None


@functools.lru_cache(maxsize=4096)
def _normalise_host(raw: str) -> tuple[str, str]:
    """Return (ASCII, Unicode) forms of a host the way a browser resolves it, or raise _HostError."""
    if not raw:
        raise _HostError("link.malformed", "link has no host")
    try:
        mapped = idna.uts46_remap(raw, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise _HostError("link.idna", f"{raw} is not a valid domain name ({error})") from None
    if mapped.endswith("."):
        raise _HostError("link.trailing-dot", f"host {raw} ends with a dot")
    if _NUMERIC_LABEL.fullmatch(mapped.rsplit(".", 1)[-1]):
        raise _HostError("link.ip-literal", f"{raw} is an IP address, not a partner domain")
    try:
        ascii_host = idna.encode(mapped).decode("ascii")
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise _HostError("link.idna", f"{raw} is not a valid domain name ({error})") from None
    if not _LDH.fullmatch(ascii_host):
        raise _HostError("link.idna", f"{raw} is not a valid domain name")
    return ascii_host, unicode_host


def _skeleton(host: str) -> str:
    return host.lower().translate(_CONFUSABLES).replace("rn", "m")


def _flat(host: str) -> str:
    return host.replace(".", "").replace("-", "")


def _distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance, so a swapped pair (taoabo) costs one edit."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


class _Gate:
    def __init__(self, partners: Mapping[str, Sequence[str]], names: Mapping[str, str]) -> None:
        self.names = names
        self.domains: list[tuple[str, str]] = []
        for partner, domains in partners.items():
            for domain in domains:
                try:
                    self.domains.append((partner, _normalise_host(domain)[0]))
                except _HostError:
                    continue  # a broken config entry must not approve anything
        # Longest first, so a partner owning a subdomain of another's domain wins.
        self.by_length = sorted(self.domains, key=lambda item: -len(item[1]))

    def check(self, url: str) -> LinkVerdict:
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
        authority = _AUTHORITY_END.split(rest[2:], maxsplit=1)[0]
        return self._check_authority(authority, rest[2 + len(authority):])

    def _check_authority(self, authority: str, tail: str) -> LinkVerdict:
        if "@" in authority:
            userinfo, _, real = authority.rpartition("@")
            return _reject("link.userinfo", f"link carries user info; it really goes to {real or '(nothing)'}",
                           hint=self._hint(_skeleton(userinfo)))
        if authority.startswith("["):
            return _reject("link.ip-literal", f"{authority} is an IPv6 address literal, not a partner domain")
        if ":" in authority:
            return _reject("link.port", f"link names a port ({authority}); drop the ':' and port")
        if "%" in authority:
            # Nobody types a percent-encoded host except to hide where a link goes.
            decoded = unquote(authority)
            return _reject("link.percent-encoded-host", f"host {authority} is percent-encoded (it reads {decoded})",
                           hint=self._hint(_skeleton(decoded)) or "write the host without %-escapes")
        try:
            ascii_host, unicode_host = _normalise_host(authority)
        except _HostError as error:
            return _reject(error.code, error.message)
        partner = self._partner(ascii_host)
        shown = ascii_host if ascii_host == unicode_host else f"{ascii_host} ({unicode_host})"
        if partner is None:
            hint = self._hint(_skeleton(unicode_host))
            if hint:
                return _reject("link.lookalike-host", f"{shown} is not a partner domain", ascii_host, hint)
            approved = ", ".join(domain for _, domain in self.domains)
            return _reject("link.unapproved-host", f"{shown} is not a partner domain", ascii_host,
                           f"approved partner domains: {approved}" if approved else "no partners are configured")
        redirect = self._redirect_target(tail, depth=3)
        if redirect is not None:
            return _reject("link.open-redirect", f"a query parameter redirects to {redirect}, "
                           "which is not a partner", ascii_host, "link to the product page itself")
        return LinkVerdict(True, partner, ascii_host, "", "")

    def _partner(self, ascii_host: str) -> str | None:
        for partner, domain in self.by_length:
            if ascii_host == domain or ascii_host.endswith("." + domain):
                return partner
        return None

    def _hint(self, skeleton: str) -> str:
        """Name the partner a non-partner host imitates, or "" if it imitates none."""
        best: tuple[int, str, str] | None = None
        for partner, domain in self.domains:
            rank = _imitation_rank(skeleton, _skeleton(domain))
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, partner, domain)
        if best is None:
            return ""
        return f"did you mean a {best[2]} link ({self.names.get(best[1], best[1])})?"

    def _redirect_target(self, tail: str, depth: int) -> str | None:
        """Return the off-partner target of any URL-valued query parameter in `tail`."""
        query = tail.partition("#")[0].partition("?")[2]
        for part in _QUERY_SEPARATOR.split(query):
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

    def _nested_target(self, value: str, depth: int) -> str | None:
        # Browsers strip surrounding blanks and drop tabs/newlines before parsing a redirect.
        value = _TAB_OR_NEWLINE.sub("", value).strip(_C0_AND_SPACE)
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
        authority = _NESTED_AUTHORITY_END.split(rest, maxsplit=1)[0]
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


def _imitation_rank(host: str, domain: str) -> int | None:
    """How a host skeleton imitates a partner domain skeleton: 0 is strongest, None is not at all."""
    core = domain.split(".")[0]
    if host == domain or host.endswith("." + domain):
        return 0  # homograph: identical once confusables are folded
    if _flat(domain) in _flat(host):
        return 1  # tmall.com.evil.cn, tmall-com.cn
    if len(core) >= 4 and core in _flat(host):
        return 2  # eviltmall.com, tmall-shop.cn
    tail = ".".join(host.split(".")[-domain.count(".") - 1:])
    if len(domain) >= 6 and _distance(tail, domain) <= 1:
        return 3  # tmal.com, taoabo.com
    if len(core) >= 5 and any(_distance(label, core) <= 1 for label in host.split(".")):
        return 4
    return None
