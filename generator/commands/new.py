"""``chuchuang new creator ID`` and ``chuchuang new product CREATOR SLUG --link URL``."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from functions.money import MoneyError, parse_decimal
from generator.config import load_config
from generator.content import RESERVED_IDS
from generator.fields import SLUG
from generator.links import check_link

PROFILE = """---
name: {id}
tagline: ""
interests: []
---
Say who you are and what you recommend, in a few sentences.
"""

PRODUCT = """---
title: {slug}
link: {link}
price: "{price}"          # the real price, a quoted decimal
stock: 0                 # units you may sell
merchant: {merchant}
tags: []
images: []
date: {today}
draft: true              # set to false to publish
---
Why you recommend it (推荐理由).
"""


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("new", help="start a creator folder or a product file")
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    creator = kinds.add_parser("creator", help="content/ID/_index.md and images/")
    creator.add_argument("id")
    creator.set_defaults(run=run_creator)
    product = kinds.add_parser("product", help="content/CREATOR/SLUG.md (a draft)")
    product.add_argument("creator")
    product.add_argument("slug")
    product.add_argument("--link", required=True, help="the product on an approved partner shop")
    product.add_argument("--merchant", default="", help="merchant id (default: fill in later)")
    product.add_argument("--price", default="1.00", help='price as a decimal, e.g. "99.00"')
    product.set_defaults(run=run_product)


def _fail(message: str) -> int:
    print(f"chuchuang new: {message}", file=sys.stderr)
    return 1


def run_creator(args: argparse.Namespace) -> int:
    if not SLUG.match(args.id) or args.id in RESERVED_IDS:
        return _fail(f"{args.id!r} is not a valid creator id (lowercase letters, digits, single hyphens)")
    folder = Path(args.root) / "content" / args.id
    if folder.exists():
        return _fail(f"{folder} already exists")
    (folder / "images").mkdir(parents=True)
    (folder / "_index.md").write_text(PROFILE.format(id=args.id), encoding="utf-8")
    print(f"created {folder / '_index.md'}")
    return 0


def run_product(args: argparse.Namespace) -> int:
    root = Path(args.root)
    folder = root / "content" / args.creator
    if not (folder / "_index.md").is_file():
        return _fail(f"creator {args.creator} does not exist (run: chuchuang new creator {args.creator})")
    if not SLUG.match(args.slug):
        return _fail(f"{args.slug!r} is not a valid slug (lowercase letters, digits, single hyphens)")
    config, report = load_config(root / "site.yaml")
    if config is None:
        print(report.format(), file=sys.stderr)
        return 1
    verdict = check_link(args.link, config.partner_domains(), config.partner_names())
    if not verdict.ok:
        hint = f" ({verdict.hint})" if verdict.hint else ""
        return _fail(f"--link: {verdict.message}{hint}")
    if args.merchant and not SLUG.match(args.merchant):
        return _fail(f"--merchant {args.merchant!r} is not a valid merchant id")
    try:
        parse_decimal(args.price, config.currency)
    except MoneyError as exc:
        return _fail(f"--price: {exc}")
    path = folder / f"{args.slug}.md"
    if path.exists():
        return _fail(f"{path} already exists")
    link = args.link.replace('"', "%22")
    path.write_text(PRODUCT.format(slug=args.slug, link=f'"{link}"', merchant=args.merchant or "merchant-id", price=args.price,
                                   today=dt.date.today().isoformat()), encoding="utf-8")
    print(f"created {path} (a draft: fill in title, price, stock and merchant, then set draft: false)")
    return 0
