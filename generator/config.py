"""site.yaml → typed, frozen configuration, every error with its key and line."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import idna

from functions.catalog import Handoff
from functions.money import EXPONENTS, MoneyError, parse_rate
from generator.diagnostics import Report
from generator.fields import SLUG, Fields, did_you_mean
from generator.yamlio import YamlError, load, read_text

HANDOFF_PLACEHOLDERS = {"link", "order_id", "creator_pid", "product_id", "merchant"}


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    domains: tuple[str, ...]
    handoff: Handoff
    default_rate: str
    max_rate: str
    secret_env: str


@dataclass(frozen=True)
class Agreement:
    creator: str
    merchant: str
    partner: str
    rate: str
    valid_from: dt.date
    valid_to: dt.date
    line: int

    @property
    def rule(self) -> str:
        return f"agreement:{self.creator}/{self.merchant}/{self.valid_from.isoformat()}"


@dataclass(frozen=True)
class Deploy:
    bucket: str
    distribution_id: str
    table: str
    handoff_queue: str
    region: str


@dataclass(frozen=True)
class SiteConfig:
    file: Path
    title: str
    description: str
    base_url: str          # always ends with "/"
    language: str
    currency: str
    disclosure: str
    partners: dict[str, Partner]
    agreements: tuple[Agreement, ...]
    lock_days: int
    deploy: Deploy

    def rate_for(self, creator: str, merchant: str, partner: str, on: dt.date) -> tuple[str, str]:
        """The commission rate in force and the rule that set it.

        A dated creator × merchant agreement wins; else the partner's default;
        never above the partner's ``max_rate``.
        """
        limit = Decimal(self.partners[partner].max_rate)
        for agreement in self.agreements:
            if (agreement.creator, agreement.merchant, agreement.partner) == (creator, merchant, partner) \
                    and agreement.valid_from <= on <= agreement.valid_to:
                return _capped(agreement.rate, limit, agreement.rule, partner)
        return _capped(self.partners[partner].default_rate, limit, f"partner-default:{partner}", partner)

    def partner_domains(self) -> dict[str, tuple[str, ...]]:
        return {p.id: p.domains for p in self.partners.values()}

    def partner_names(self) -> dict[str, str]:
        return {p.id: p.name for p in self.partners.values()}


def _capped(rate: str, limit: Decimal, rule: str, partner: str) -> tuple[str, str]:
    if Decimal(rate) > limit:
        return str(limit), f"{rule} (capped at max_rate:{partner})"
    return rate, rule


def load_config(path: Path) -> tuple[SiteConfig | None, Report]:
    """Read and validate ``site.yaml``; the config is ``None`` when it has errors."""
    report = Report()
    try:
        data = load(read_text(path))
    except FileNotFoundError:
        report.add(path, 1, 1, "config.missing", "site.yaml not found",
                   hint="run chuchuang in the site folder, or pass --config")
        return None, report
    except YamlError as exc:
        report.add(path, exc.line, exc.column, "config.yaml", exc.message, exc.hint)
        return None, report
    root = Fields(data, path, report)
    title = root.str("title", required=True, max_len=120) or ""
    description = root.str("description", default="", max_len=300) or ""
    base_url = root.str("base_url", required=True, max_len=300,
                        pattern=re.compile(r"^https?://[^\s/]+(/[^\s]*)?$"),
                        pattern_hint="an absolute URL such as https://shop.example.com/") or "/"
    language = root.str("language", default="zh-CN", max_len=20) or "zh-CN"
    currency = root.str("currency", default="CNY", max_len=3) or "CNY"
    if currency not in EXPONENTS:
        root.error("currency", "config.currency", f"currency: {currency!r} is not supported",
                   hint=f"one of {', '.join(sorted(EXPONENTS))}")
        currency = "CNY"
    disclosure = root.str("disclosure", required=True, max_len=60) or ""
    partners = _partners(root, report)
    agreements = _agreements(root, partners, report)
    commission = root.mapping("commission")
    lock_days = 15
    if commission:
        lock_days = commission.int("lock_days", default=15, minimum=0, maximum=365) or 0
        commission.finish()
    deploy = _deploy(root)
    root.finish()
    if not report.ok:
        return None, report
    return SiteConfig(path, title, description, base_url.rstrip("/") + "/", language, currency,
                      disclosure, partners, agreements, lock_days, deploy), report


def _rate(fields: Fields, key: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = fields.raw(key)
    if value is None:
        if required:
            fields.error(key, "schema.missing", f"{fields.name(key)} is required")
        return default
    if not isinstance(value, str):
        fields.error(key, "config.rate", f"{fields.name(key)}: {value!r} must be a quoted decimal",
                     hint=f'write {key}: "{value}"')
        return None
    try:
        parse_rate(value)
    except MoneyError as exc:
        fields.error(key, "config.rate", f"{fields.name(key)}: {value!r} is not a decimal rate ({exc})",
                     hint='write a decimal between 0 and 1 such as "0.05"')
        return None
    return value.strip()


def _partners(root: Fields, report: Report) -> dict[str, Partner]:
    section = root.mapping("partners", required=True)
    if section is None:
        return {}
    partners: dict[str, Partner] = {}
    owner: dict[str, str] = {}
    for pid in list(section.data):
        section.seen.add(pid)
        if not SLUG.match(pid):
            section.error(pid, "config.partner-id", f"partner id {pid!r} must be a lowercase slug")
            continue
        fields = section.mapping(pid)
        if fields is None:
            continue
        name = fields.str("name", required=True, max_len=40) or pid
        domains = _domains(fields, pid, owner)
        handoff = _handoff(fields)
        secret_env = fields.str("secret_env", required=True, max_len=100,
                                pattern=re.compile(r"^[A-Z][A-Z0-9_]*$"),
                                pattern_hint="an environment variable name such as TMALL_EVENTS_SECRET") or ""
        default_rate, max_rate = "0", "0"
        commission = fields.mapping("commission")
        if commission:
            default_rate = _rate(commission, "default_rate", default="0") or "0"
            max_rate = _rate(commission, "max_rate", default="1") or "1"
            if Decimal(default_rate) > Decimal(max_rate):
                commission.error("default_rate", "config.rate-above-max",
                                 f"{commission.name('default_rate')} {default_rate} is above max_rate {max_rate}")
            commission.finish()
        fields.finish()
        if handoff:
            partners[pid] = Partner(pid, name, domains, handoff, default_rate, max_rate, secret_env)
    return partners


def _domains(fields: Fields, pid: str, owner: dict[str, str]) -> tuple[str, ...]:
    domains = []
    for domain in fields.str_list("domains", max_items=20):
        try:
            ascii_domain = idna.encode(domain.lower(), uts46=True).decode("ascii")
        except idna.IDNAError:
            ascii_domain = ""
        if not ascii_domain or "." not in ascii_domain:
            fields.error("domains", "config.domain", f"{fields.name('domains')}: {domain!r} is not a domain name")
            continue
        if ascii_domain in owner and owner[ascii_domain] != pid:
            fields.error("domains", "config.domain", f"{domain} is listed by both {owner[ascii_domain]} and {pid}")
            continue
        owner[ascii_domain] = pid
        domains.append(ascii_domain)
    if not domains:
        fields.error("domains", "schema.missing", f"{fields.name('domains')} must list at least one domain")
    return tuple(domains)


def _handoff(fields: Fields) -> Handoff | None:
    section = fields.mapping("handoff", required=True)
    if section is None:
        return None
    kind = section.str("type", required=True, pattern=re.compile(r"^(redirect|webhook)$"),
                       pattern_hint="redirect or webhook")
    url = section.str("url", required=True, max_len=500) or ""
    params: dict[str, str] = {}
    raw = section.mapping("params")
    if raw:
        for key in list(raw.data):
            params[key] = raw.str(key, required=True, max_len=200) or ""
    for text in [url, *params.values()]:
        for name in re.findall(r"{([^}]*)}", text):
            if name not in HANDOFF_PLACEHOLDERS:
                section.error("url", "config.placeholder", f"unknown placeholder {{{name}}} in {section.prefix}",
                              hint=f"use one of {', '.join(sorted(HANDOFF_PLACEHOLDERS))}")
    if kind == "webhook" and not url.startswith("https://"):
        section.error("url", "config.webhook-url", f"{section.name('url')} must be an https URL")
    section.finish()
    return Handoff(kind, url, params) if kind else None


def _agreements(root: Fields, partners: dict[str, Partner], report: Report) -> tuple[Agreement, ...]:
    agreements: list[Agreement] = []
    for fields in root.items("agreements"):
        creator = fields.str("creator", required=True, pattern=SLUG, pattern_hint="a creator id")
        merchant = fields.str("merchant", required=True, pattern=SLUG, pattern_hint="a merchant id")
        partner = fields.str("partner", required=True)
        rate = _rate(fields, "rate", required=True)
        start = fields.date("valid_from", required=True)
        end = fields.date("valid_to", required=True)
        fields.finish()
        line = fields.data.line
        if partner and partner not in partners:
            fields.error("partner", "config.unknown-partner", f"{fields.name('partner')}: unknown partner {partner!r}",
                         did_you_mean(partner, sorted(partners)))
            continue
        if not (creator and merchant and partner and rate and start and end):
            continue
        if end < start:
            fields.error("valid_to", "config.dates", f"{fields.name('valid_to')} {end} is before valid_from {start}")
            continue
        if Decimal(rate) > Decimal(partners[partner].max_rate):
            fields.error("rate", "config.rate-above-max",
                         f"{fields.name('rate')} {rate} is above {partner}'s max_rate {partners[partner].max_rate}",
                         hint="an agreement may not exceed the partner's max_rate")
            continue
        for other in agreements:
            if (other.creator, other.merchant) == (creator, merchant) and \
                    other.valid_from <= end and start <= other.valid_to:
                fields.error("valid_from", "config.overlap",
                             f"agreement for {creator} × {merchant} overlaps the one on line {other.line}",
                             hint="end one agreement before the next begins")
                break
        else:
            agreements.append(Agreement(creator, merchant, partner, rate, start, end, line))
    return tuple(agreements)


def _deploy(root: Fields) -> Deploy:
    section = root.mapping("deploy")
    if section is None:
        return Deploy("", "", "chuchuang", "chuchuang-handoff", "us-east-1")
    deploy = Deploy(
        bucket=section.str("bucket", default="", max_len=63) or "",
        distribution_id=section.str("distribution_id", default="", max_len=40) or "",
        table=section.str("table", default="chuchuang", max_len=255) or "chuchuang",
        handoff_queue=section.str("handoff_queue", default="chuchuang-handoff", max_len=80) or "chuchuang-handoff",
        region=section.str("region", default="us-east-1", max_len=30) or "us-east-1",
    )
    section.finish()
    return deploy
