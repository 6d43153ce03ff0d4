"""Creators' folders → validated Creator and Product records.

``content/<creator>/_index.md`` is the profile; every other ``.md`` in the
folder is a product; images live in ``content/<creator>/images/``. Reading
collects every problem as a diagnostic and never raises on bad input.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from functions.money import MoneyError, parse_decimal
from generator.config import SiteConfig
from generator.diagnostics import Diagnostic, Report
from generator.fields import SLUG, Fields
from generator.links import check_link
from generator.yamlio import YamlError, load, read_text, split_front_matter

MAX_FILE_BYTES = 1024 * 1024
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
# Top-level URL segments the showcase uses itself; a creator may not take them.
RESERVED_IDS = {"tags", "cart", "checkout", "favourites", "assets", "api", "_sandbox",
                "images", "feeds", "search", "sitemap", "index", "static", "404"}


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Creator:
    id: str
    name: str
    tagline: str
    avatar: Path | None
    interests: tuple[str, ...]
    links: tuple[Link, ...]
    weight: int
    bio: str            # Markdown
    file: Path
    body_line: int


@dataclass(frozen=True)
class Product:
    id: str             # "<creator>--<slug>"
    creator: str
    slug: str
    title: str
    link: str
    partner: str
    merchant: str
    price: int          # minor units
    currency: str
    stock: int
    tags: tuple[str, ...]
    images: tuple[Path, ...]
    date: dt.date
    draft: bool
    description: str
    weight: int
    body: str           # Markdown
    file: Path
    body_line: int


@dataclass(frozen=True)
class Content:
    creators: dict[str, Creator]
    products: tuple[Product, ...]       # drafts included; callers filter

    @property
    def published(self) -> tuple[Product, ...]:
        return tuple(p for p in self.products if not p.draft)


@dataclass(frozen=True)
class FileTask:
    """One document to read: a creator's profile or one product."""

    kind: str           # "creator" | "product"
    path: Path
    creator: str


Record = Creator | Product | None
# Reads a batch of documents; each answer is the record (None when invalid) and its diagnostics.
Loader = Callable[[list[FileTask], SiteConfig, Path], list[tuple[Record, list[Diagnostic]]]]


def markdown_source(record: Creator | Product) -> str:
    """The Markdown a record's page shows: a creator's bio or a product's body."""
    return record.bio if isinstance(record, Creator) else record.body


def load_file(task: FileTask, config: SiteConfig, content_root: Path) -> tuple[Record, list[Diagnostic]]:
    """Read and check one document on its own (so a worker process or a cache can do it)."""
    report = Report()
    if task.kind == "creator":
        return _read_creator(task.path, task.creator, content_root, report), report.items
    return _read_product(task.path, task.creator, config, content_root, report), report.items


def load_files(tasks: list[FileTask], config: SiteConfig, content_root: Path) -> list[tuple[Record, list[Diagnostic]]]:
    """The sequential loader."""
    return [load_file(task, config, content_root) for task in tasks]


def read_content(root: Path, config: SiteConfig, only: set[Path] | None = None,
                 loader: Loader = load_files) -> tuple[Content, Report]:
    """Read every creator folder below ``root``; ``only`` limits diagnostics to those files.

    ``loader`` reads the documents themselves (the build passes one that uses its
    cache and worker processes); diagnostics keep the order of a sequential read.
    """
    report = Report()
    creators: dict[str, Creator] = {}
    products: list[Product] = []
    if not root.is_dir():
        report.add(root, 1, 1, "content.missing", f"{root} is not a folder",
                   hint="create content/<creator>/_index.md with 'chuchuang new creator ID'")
        return Content({}, ()), report
    content_root = root.resolve()
    steps: list[FileTask | Report] = []     # folder-level findings and documents, in reading order
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = Report()
        steps.append(found)
        if not _inside(folder, content_root, found):
            continue
        if not SLUG.match(folder.name) or folder.name in RESERVED_IDS:
            found.add(folder, 1, 1, "content.creator-id",
                      f"creator folder name {folder.name!r} is not a valid id",
                      hint="lowercase letters, digits and single hyphens; not a reserved name"
                      if SLUG.match(folder.name) else "use lowercase letters, digits and hyphens, e.g. lin-xiaoyu")
            continue
        profile = folder / "_index.md"
        if not profile.is_file():
            found.add(profile, 1, 1, "content.no-profile", f"creator {folder.name} has no _index.md",
                      hint=f"run: chuchuang new creator {folder.name}")
        else:
            steps.append(FileTask("creator", profile, folder.name))
        for name, is_link in _markdown_files(folder):
            if name == "_index.md":
                continue
            path = folder / name
            outside = Report()
            # A plain file in a folder already found inside needs no resolve() (10,000 files add up).
            if is_link and not _inside(path, content_root, outside):
                steps.append(outside)
                continue
            steps.append(FileTask("product", path, folder.name))
    tasks = [step for step in steps if isinstance(step, FileTask)]
    answers = iter(loader(tasks, config, content_root))
    for step in steps:
        if isinstance(step, Report):
            report.extend(step)
            continue
        record, diagnostics = next(answers)
        report.items.extend(diagnostics)
        if isinstance(record, Creator):
            creators[record.id] = record
        elif isinstance(record, Product):
            products.append(record)
    for stray in sorted(root.glob("*.md")):
        report.add(stray, 1, 1, "content.outside-folder", f"{stray.name} is not inside a creator folder",
                   hint="move it to content/<creator>/")
    seen: dict[str, Path] = {}
    for product in products:
        if product.creator not in creators and (folder := product.file.parent / "_index.md").is_file():
            report.add(product.file, 1, 1, "content.unknown-creator",
                       f"creator {product.creator} could not be read", hint=f"fix {folder} first")
        if product.id in seen:
            report.add(product.file, 1, 1, "content.duplicate-id",
                       f"product id {product.id} is also used by {seen[product.id]}",
                       hint="give one of them another file name or slug")
        seen.setdefault(product.id, product.file)
    if only is not None:
        wanted = {p.resolve() for p in only}
        report.items = [d for d in report.items if Path(d.file).resolve() in wanted]
    return Content(creators, tuple(products)), report


def _markdown_files(folder: Path) -> list[tuple[str, bool]]:
    """The ``*.md`` entries of ``folder`` (as ``glob`` finds them) by name, and whether each is a symlink."""
    try:
        with os.scandir(folder) as entries:
            found = [(e.name, e.is_symlink()) for e in entries if e.name.endswith(".md")]
    except OSError:
        return []
    return sorted(found)


def _inside(path: Path, content_root: Path, report: Report) -> bool:
    """Refuse symlinks that lead outside content/: a build must never publish other files."""
    try:
        path.resolve().relative_to(content_root)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        report.add(path, 1, 1, "content.outside-root", f"{path} points outside the content folder",
                   hint="replace the symlink with a real file")
        return False
    return True


def _read_document(path: Path, report: Report) -> tuple[Fields, str, int] | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            report.add(path, 1, 1, "content.too-large", "file is larger than 1 MiB",
                       hint="shorten the text; put large images in images/")
            return None
        text = read_text(path)
        yaml_text, body, body_line = split_front_matter(text)
        data = load(yaml_text, line_offset=1)
    except YamlError as exc:
        report.add(path, exc.line, exc.column, "content.yaml", exc.message, exc.hint)
        return None
    except OSError as exc:
        report.add(path, 1, 1, "content.unreadable", f"cannot read file: {exc.strerror}")
        return None
    return Fields(data, path, report, line=2), body, body_line


def _image(fields: Fields, key: str, name: str, folder: Path, content_root: Path) -> Path | None:
    if "/" in name or "\\" in name or name.startswith("."):
        fields.error(key, "content.image-name", f"{fields.name(key)}: {name!r} must be a file name in images/",
                     hint="put the image in images/ and write only its name")
        return None
    path = folder / "images" / name
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        fields.error(key, "content.image-type", f"{fields.name(key)}: {name} is not a jpg, png, webp or gif")
        return None
    if not path.is_file():
        fields.error(key, "content.image-missing", f"{fields.name(key)}: images/{name} does not exist",
                     hint=f"add {path}")
        return None
    try:
        path.resolve().relative_to(content_root)
    except (ValueError, RuntimeError):
        fields.error(key, "content.outside-root", f"images/{name} points outside the content folder")
        return None
    return path


def _read_creator(path: Path, creator_id: str, content_root: Path, report: Report) -> Creator | None:
    doc = _read_document(path, report)
    if doc is None:
        return None
    fields, body, body_line = doc
    errors = len(report.errors)
    name = fields.str("name", required=True, max_len=60)
    tagline = fields.str("tagline", default="", max_len=120) or ""
    avatar_name = fields.str("avatar")
    avatar = _image(fields, "avatar", avatar_name, path.parent, content_root) if avatar_name else None
    interests = fields.str_list("interests", max_items=20, max_len=30)
    links = []
    for item in fields.items("links"):
        title = item.str("title", required=True, max_len=40)
        url = item.str("url", required=True, max_len=500)
        if url and not re.match(r"^https://[^\s/@\\]+(/[^\s]*)?$", url):
            item.error("url", "content.link-https", f"{item.name('url')}: {url!r} must be an https URL",
                       hint="profile links must start with https://")
        elif title and url:
            links.append(Link(title, url))
        item.finish()
    weight = fields.int("weight", default=0, minimum=-10000, maximum=10000) or 0
    fields.finish()
    if len(report.errors) > errors or not name:
        return None
    return Creator(creator_id, name, tagline, avatar, interests, tuple(links), weight, body, path, body_line)


def _read_product(path: Path, creator_id: str, config: SiteConfig, content_root: Path,
                  report: Report) -> Product | None:
    doc = _read_document(path, report)
    if doc is None:
        return None
    fields, body, body_line = doc
    errors = len(report.errors)
    slug = fields.str("slug", default=path.stem, max_len=80, pattern=SLUG,
                      pattern_hint="lowercase letters, digits and single hyphens") or path.stem
    if not SLUG.match(slug):
        report.add(path, 1, 1, "content.slug", f"file name {path.name!r} is not a valid slug",
                   hint="rename it with lowercase letters, digits and hyphens, or add 'slug:'")
    title = fields.str("title", required=True, max_len=120)
    link = fields.str("link", required=True, max_len=4096)
    partner = ""
    if link is not None:
        verdict = check_link(link, config.partner_domains(), config.partner_names())
        if verdict.ok and verdict.partner:
            partner = verdict.partner
        else:
            fields.error("link", verdict.code or "link.rejected", f"link: {verdict.message}", verdict.hint)
    price = _price(fields, config.currency)
    stock = fields.int("stock", required=True, minimum=0, maximum=1_000_000)
    merchant = fields.str("merchant", required=True, max_len=60, pattern=SLUG,
                          pattern_hint="a merchant id such as lancome-official")
    tags = fields.str_list("tags", max_items=12, max_len=30)
    images = tuple(filter(None, (_image(fields, "images", name, path.parent, content_root)
                                 for name in fields.str_list("images", max_items=8, max_len=120))))
    date = fields.date("date", required=True)
    draft = fields.bool("draft")
    description = fields.str("description", default="", max_len=160) or ""
    weight = fields.int("weight", default=0, minimum=-10000, maximum=10000) or 0
    fields.finish()
    if len(report.errors) > errors or None in (title, link, price, stock, merchant, date) or not partner:
        return None
    return Product(f"{creator_id}--{slug}", creator_id, slug, title, link, partner, merchant,
                   price, config.currency, stock, tags, images, date, draft, description, weight,
                   body, path, body_line)


def _price(fields: Fields, currency: str) -> int | None:
    value = fields.raw("price")
    if value is None:
        fields.error("price", "schema.missing", "price is required", hint='add price: "99.00"')
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        fields.error("price", "content.price", f"price: {value!r} is not a price", hint='write price: "99.00"')
        return None
    if isinstance(value, float):
        fields.error("price", "content.price-float", f"price: {value!r} must be quoted",
                     hint=f'write price: "{value}" so no digit is lost to floating point')
        return None
    try:
        amount = parse_decimal(str(value), currency)
    except MoneyError as exc:
        fields.error("price", "content.price", f"price: {exc}", hint='write a decimal like "1080.00"')
        return None
    if amount <= 0:
        fields.error("price", "content.price", f"price: {value!r} must be greater than zero")
        return None
    if amount > 10**10:
        fields.error("price", "content.price", f"price: {value!r} is implausibly large")
        return None
    return amount
