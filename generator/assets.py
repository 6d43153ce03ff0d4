"""Static assets: fingerprinted CSS/JS and images resized to WebP at the sizes shown."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from generator.views import ImageView

IMAGE_WIDTHS = (320, 640)     # a card in the grid, the product page
AVATAR_WIDTHS = (96, 192)
MAX_PIXELS = 40_000_000       # refuse decompression bombs


def digest(data: bytes, length: int = 10) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


@dataclass(frozen=True)
class OutputFile:
    path: str       # site-relative, e.g. "assets/app.3f2a1c9b0d.css"
    data: bytes


@dataclass(frozen=True)
class StaticAssets:
    urls: dict[str, str]          # "app.css" → "assets/app.<hash>.css"
    files: tuple[OutputFile, ...]


def collect_static(folder: Path) -> StaticAssets:
    """Fingerprint every file in ``templates/static`` (content hash in the name)."""
    urls: dict[str, str] = {}
    files: list[OutputFile] = []
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            rel = path.relative_to(folder).as_posix()
            stem, dot, suffix = rel.rpartition(".")
            name = f"assets/{stem}.{digest(data)}.{suffix}" if dot else f"assets/{rel}.{digest(data)}"
            urls[rel] = name
            files.append(OutputFile(name, data))
    return StaticAssets(urls, tuple(files))


class ImageError(ValueError):
    """An image file that cannot be decoded."""


def process_image(source: bytes, widths: tuple[int, ...], alt: str, square: bool = False) -> tuple[ImageView, list[OutputFile]]:
    """Resize one image to WebP at each width (never upscaling); the view lists them all."""
    key = digest(source + repr((widths, square)).encode())
    try:
        with Image.open(io.BytesIO(source)) as original:
            if original.width * original.height > MAX_PIXELS:
                raise ImageError("image is larger than 40 megapixels")
            image = ImageOps.exif_transpose(original).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ImageError(f"cannot read image: {exc}") from None
    if square:
        side = min(image.size)
        image = ImageOps.fit(image, (side, side))
    files: list[OutputFile] = []
    sizes: list[tuple[str, int, int]] = []
    for width in sorted(set(min(w, image.width) for w in widths)):
        height = round(image.height * width / image.width)
        resized = image if width == image.width else image.resize((width, height), Image.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "WEBP", quality=72, method=4)
        path = f"assets/img/{key}-{width}.webp"
        files.append(OutputFile(path, buffer.getvalue()))
        sizes.append((path, width, height))
    largest = sizes[-1]
    srcset = ", ".join(f"{path} {width}w" for path, width, _ in sizes)
    return ImageView(src=largest[0], width=largest[1], height=largest[2], srcset=srcset, alt=alt), files
