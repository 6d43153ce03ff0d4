#!/usr/bin/env python3
"""Draw the demo site's images: flat WebP illustrations, no text.

Reads every ``content/<creator>/*.md`` front-matter and writes each image it
names (``images:`` of a product, ``avatar:`` of a profile) into
``content/<creator>/images/``. The colour comes from the first tag (or the
creator's first interest) and the drawing from keywords in the file name, so
new demo products get a sensible picture without editing this script.

Deterministic: the only randomness is ``random.Random`` seeded with the CRC32
of ``<creator>/<file>``, so a rerun writes byte-identical files.

    python benchmarks/make_demo_images.py [CONTENT_DIR] [--force]
"""
from __future__ import annotations

import math
import random
import sys
import zlib
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFilter

PRODUCT_SIZE = 640
AVATAR_SIZE = 240
QUALITY = 70
SS = 2  # supersampling factor for smooth edges

# tag -> (gradient top, gradient bottom, accent)
PALETTE: dict[str, tuple[str, str, str]] = {
    "护肤": ("#fde8ec", "#f4b8c6", "#e27d97"),
    "防晒": ("#fff4d6", "#ffd98a", "#f0a830"),
    "香氛": ("#efe7fb", "#c9b6ef", "#8f6bd1"),
    "收纳": ("#f6f1e8", "#e2d5bf", "#a8926b"),
    "家居": ("#f7efe6", "#e8cfb4", "#b98a5d"),
    "极简": ("#f4f4f2", "#dcdcd6", "#8c8c84"),
    "数码": ("#e6eefb", "#b8cdf0", "#4a72c4"),
    "充电": ("#e5f6f4", "#a9e0d8", "#2f9d8f"),
    "办公": ("#eceff4", "#c5ccd9", "#56627a"),
    "EDC": ("#eaeceb", "#bfc6c2", "#4d5a54"),
    "茶": ("#eef6e6", "#c4e0a8", "#5f9a3c"),
    "咖啡": ("#f6ece3", "#dcbfa3", "#7a4e2d"),
    "厨房": ("#fcebe3", "#f1bfa6", "#c8623a"),
    "户外": ("#e5f2ec", "#a9d3bf", "#2f7a5a"),
    "露营": ("#eaf1e2", "#bcd39d", "#56793a"),
    "旅行": ("#e4f3fb", "#a8d8f0", "#2b8ac0"),
    "母婴": ("#e9f4fb", "#bfe0f5", "#f29c8a"),
    "阅读": ("#f8f3e6", "#e6d7ad", "#3d4f7a"),
    "宠物": ("#fff0e0", "#ffcf9e", "#e07b26"),
    "穿搭": ("#f6ebef", "#dcbccb", "#9c5a78"),
    "礼物": ("#fdeaea", "#f4b4b4", "#c93d4b"),
}
DEFAULT_PALETTE = ("#eef0f3", "#cfd5dd", "#6b7785")

# file-name keyword -> drawing; first match wins, so specific words go first
SHAPES: list[tuple[tuple[str, ...], str]] = [
    (("serum", "essence"), "dropper"),
    (("perfume", "jo-malone", "english-pear"), "perfume"),
    (("sunscreen", "cleanser"), "tube"),
    (("cream", "b5"), "jar"),
    (("diffuser",), "diffuser"),
    (("bedding", "towel"), "stack"),
    (("drawer", "skubb", "diapers"), "drawers"),
    (("case", "rack"), "shelf"),
    (("royal-canin", "kibble", "litter", "treat", "chicken"), "petbag"),
    (("keyboard", "k3-pro"), "keyboard"),
    (("mouse", "mx-master"), "mouse"),
    (("headphone", "wh-1000"), "headphones"),
    (("flashlight", "tini", "reading-light"), "flashlight"),
    (("power-bank",), "powerbank"),
    (("hub",), "hub"),
    (("charger",), "device"),
    (("dahongpao", "baimudan", "can"), "can"),
    (("shoumei", "tea-cake"), "disc"),
    (("matcha",), "bowl"),
    (("grinder",), "grinder"),
    (("knife",), "knife"),
    (("cocotte", "pot"), "pot"),
    (("mug", "gaiwan", "v60", "infuser", "cup"), "cup"),
    (("yirgacheffe", "drip", "bean"), "pouch"),
    (("tent",), "tent"),
    (("chair", "tripp-trapp"), "chair"),
    (("boots", "530", "shoe"), "shoe"),
    (("jacket", "coat", "tee"), "garment"),
    (("leatherman", "wave-plus", "tool"), "tool"),
    (("glass-bottle", "bottle"), "babybottle"),
    (("notebook", "book", "habits", "problem", "guess"), "book"),
    (("pen",), "pen"),
    (("fountain",), "fountain"),
    (("scratcher",), "scratcher"),
    (("roller",), "roller"),
    (("tote", "bag"), "tote"),
    (("scarf",), "scarf"),
]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def gradient(size: int, top, bottom, angle: float) -> Image.Image:
    """A smooth diagonal gradient from ``top`` to ``bottom``."""
    small = Image.new("RGB", (64, 64))
    px = small.load()
    dx, dy = math.cos(angle), math.sin(angle)
    for y in range(64):
        for x in range(64):
            t = ((x - 31.5) * dx + (y - 31.5) * dy) / 64 + 0.5
            px[x, y] = mix(top, bottom, min(1.0, max(0.0, t)))
    return small.resize((size, size), Image.BICUBIC)


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    _, head, _ = text.split("---", 2)
    data = yaml.safe_load(head)
    return data if isinstance(data, dict) else {}


def shape_for(stem: str) -> str:
    for words, shape in SHAPES:
        if any(w in stem for w in words):
            return shape
    return "leaf"


class Canvas:
    """Drawing helpers on a supersampled square, coordinates in 0..1."""

    def __init__(self, img: Image.Image, accent, rng: random.Random):
        self.img = img
        self.d = ImageDraw.Draw(img)
        self.n = img.size[0]
        self.accent = accent
        self.light = mix(accent, (255, 255, 255), 0.55)
        self.pale = mix(accent, (255, 255, 255), 0.82)
        self.dark = mix(accent, (30, 30, 40), 0.35)
        self.white = (255, 255, 255)
        self.rng = rng

    def p(self, *xy: float) -> list[float]:
        return [v * self.n for v in xy]

    def rect(self, x0, y0, x1, y1, fill, r=0.0):
        self.d.rounded_rectangle(self.p(x0, y0, x1, y1), radius=r * self.n, fill=fill)

    def ellipse(self, x0, y0, x1, y1, fill):
        self.d.ellipse(self.p(x0, y0, x1, y1), fill=fill)

    def circle(self, cx, cy, r, fill):
        self.ellipse(cx - r, cy - r, cx + r, cy + r, fill)

    def poly(self, pts, fill):
        self.d.polygon([(x * self.n, y * self.n) for x, y in pts], fill=fill)

    def line(self, pts, fill, w):
        self.d.line([(x * self.n, y * self.n) for x, y in pts], fill=fill, width=max(1, round(w * self.n)),
                    joint="curve")

    def arc(self, box, start, end, fill, w):
        self.d.arc(self.p(*box), start, end, fill=fill, width=max(1, round(w * self.n)))


# ---- one function per drawing; each draws around the centre (0.5, 0.52) ----

def draw_dropper(c: Canvas):
    c.rect(0.36, 0.38, 0.64, 0.80, c.accent, 0.06)
    c.rect(0.40, 0.46, 0.60, 0.66, c.pale, 0.02)
    c.rect(0.44, 0.30, 0.56, 0.39, c.dark, 0.01)
    c.ellipse(0.42, 0.16, 0.58, 0.32, c.dark)
    c.rect(0.39, 0.42, 0.42, 0.76, c.light, 0.01)


def draw_perfume(c: Canvas):
    c.rect(0.30, 0.40, 0.70, 0.78, c.light, 0.04)
    c.rect(0.34, 0.46, 0.66, 0.74, c.pale, 0.02)
    c.rect(0.44, 0.32, 0.56, 0.41, c.dark)
    c.rect(0.40, 0.22, 0.60, 0.33, c.accent, 0.02)
    c.rect(0.42, 0.55, 0.58, 0.64, c.white, 0.01)


def draw_tube(c: Canvas):
    c.poly([(0.38, 0.22), (0.62, 0.22), (0.60, 0.70), (0.40, 0.70)], c.accent)
    c.rect(0.36, 0.19, 0.64, 0.25, c.dark, 0.01)
    c.rect(0.43, 0.70, 0.57, 0.82, c.white, 0.02)
    c.poly([(0.42, 0.32), (0.47, 0.32), (0.46, 0.62), (0.43, 0.62)], c.light)


def draw_jar(c: Canvas):
    c.rect(0.28, 0.46, 0.72, 0.76, c.accent, 0.06)
    c.rect(0.26, 0.36, 0.74, 0.48, c.dark, 0.03)
    c.rect(0.34, 0.54, 0.66, 0.66, c.pale, 0.02)
    c.rect(0.31, 0.50, 0.34, 0.72, c.light, 0.01)


def draw_diffuser(c: Canvas):
    c.ellipse(0.30, 0.34, 0.70, 0.82, c.white)
    c.ellipse(0.30, 0.62, 0.70, 0.82, c.light)
    c.rect(0.30, 0.62, 0.70, 0.72, c.light)
    for i, r in enumerate((0.04, 0.055, 0.07)):
        c.circle(0.5 + (i - 1) * 0.05, 0.27 - i * 0.06, r, c.pale)


def draw_stack(c: Canvas):
    for i, f in enumerate((c.dark, c.accent, c.light, c.pale)):
        y = 0.68 - i * 0.1
        c.rect(0.24 + i * 0.01, y - 0.09, 0.76 - i * 0.01, y, f, 0.03)


def draw_drawers(c: Canvas):
    c.rect(0.26, 0.24, 0.74, 0.80, c.pale, 0.02)
    for i in range(3):
        y = 0.28 + i * 0.17
        c.rect(0.29, y, 0.71, y + 0.14, c.light, 0.015)
        c.rect(0.44, y + 0.055, 0.56, y + 0.085, c.accent, 0.015)


def draw_shelf(c: Canvas):
    c.rect(0.26, 0.22, 0.74, 0.80, c.light, 0.02)
    for i in range(3):
        y = 0.40 + i * 0.18
        c.rect(0.26, y, 0.74, y + 0.025, c.dark)
        for j in range(3):
            x = 0.31 + j * 0.14 + c.rng.uniform(-0.01, 0.01)
            h = c.rng.uniform(0.07, 0.12)
            c.rect(x, y - h, x + 0.08, y, (c.accent, c.white, c.pale)[(i + j) % 3], 0.015)


def draw_keyboard(c: Canvas):
    c.rect(0.14, 0.36, 0.86, 0.68, c.dark, 0.04)
    for row in range(4):
        for col in range(10):
            x = 0.18 + col * 0.066
            y = 0.40 + row * 0.066
            c.rect(x, y, x + 0.054, y + 0.052, c.pale if (row + col) % 7 else c.accent, 0.01)
    c.rect(0.30, 0.60, 0.70, 0.645, c.pale, 0.01)


def draw_mouse(c: Canvas):
    c.ellipse(0.34, 0.22, 0.66, 0.82, c.dark)
    c.ellipse(0.37, 0.26, 0.63, 0.70, c.accent)
    c.line([(0.5, 0.26), (0.5, 0.45)], c.dark, 0.012)
    c.rect(0.485, 0.32, 0.515, 0.40, c.pale, 0.01)


def draw_headphones(c: Canvas):
    c.arc((0.26, 0.20, 0.74, 0.72), 180, 360, c.dark, 0.05)
    c.rect(0.22, 0.44, 0.34, 0.70, c.accent, 0.05)
    c.rect(0.66, 0.44, 0.78, 0.70, c.accent, 0.05)


def draw_flashlight(c: Canvas):
    c.poly([(0.62, 0.46), (0.92, 0.30), (0.92, 0.74), (0.62, 0.58)], c.pale)
    c.rect(0.20, 0.44, 0.56, 0.60, c.dark, 0.03)
    c.rect(0.54, 0.42, 0.64, 0.62, c.accent, 0.02)
    c.circle(0.16, 0.52, 0.04, c.light)
    c.rect(0.30, 0.49, 0.40, 0.55, c.light, 0.01)


def draw_device(c: Canvas):
    c.rect(0.30, 0.28, 0.70, 0.76, c.white, 0.05)
    c.rect(0.36, 0.36, 0.64, 0.48, c.accent, 0.02)
    for i in range(2):
        c.rect(0.40 + i * 0.12, 0.58, 0.48 + i * 0.12, 0.62, c.dark, 0.01)
    c.rect(0.40, 0.66, 0.60, 0.70, c.light, 0.01)
    c.line([(0.70, 0.60), (0.80, 0.62), (0.84, 0.76)], c.dark, 0.015)


def draw_can(c: Canvas):
    for i, dx in enumerate((-0.13, 0.13, 0.0)):
        x = 0.5 + dx
        y = 0.30 + (0.08 if i < 2 else 0.14)
        c.rect(x - 0.11, y, x + 0.11, y + 0.34, (c.accent, c.dark, rgb("#d9b44a"))[i], 0.03)
        c.ellipse(x - 0.11, y - 0.03, x + 0.11, y + 0.03, c.light)
        c.rect(x - 0.07, y + 0.12, x + 0.07, y + 0.2, c.pale, 0.01)


def draw_disc(c: Canvas):
    c.ellipse(0.20, 0.28, 0.80, 0.80, c.dark)
    c.ellipse(0.22, 0.30, 0.78, 0.76, c.accent)
    for _ in range(22):
        a = c.rng.uniform(0, 2 * math.pi)
        r = c.rng.uniform(0.02, 0.24)
        x, y = 0.5 + r * math.cos(a), 0.53 + r * 0.82 * math.sin(a)
        c.ellipse(x - 0.025, y - 0.008, x + 0.025, y + 0.008, c.light)
    c.circle(0.5, 0.53, 0.03, c.dark)


def draw_bowl(c: Canvas):
    c.ellipse(0.22, 0.42, 0.78, 0.54, c.light)
    c.d.chord(c.p(0.22, 0.22, 0.78, 0.82), 0, 180, fill=c.accent)
    c.ellipse(0.26, 0.44, 0.74, 0.52, mix(c.accent, (110, 160, 60), 0.5))
    c.rect(0.44, 0.80, 0.56, 0.84, c.dark, 0.01)
    c.line([(0.70, 0.20), (0.60, 0.40)], c.dark, 0.02)


def draw_cup(c: Canvas):
    c.arc((0.60, 0.44, 0.78, 0.66), 270, 90, c.dark, 0.03)
    c.poly([(0.28, 0.38), (0.66, 0.38), (0.62, 0.78), (0.32, 0.78)], c.accent)
    c.ellipse(0.28, 0.34, 0.66, 0.42, c.light)
    c.ellipse(0.31, 0.355, 0.63, 0.405, c.dark)
    c.ellipse(0.20, 0.76, 0.74, 0.84, c.pale)
    for i in range(2):
        x = 0.42 + i * 0.1
        c.arc((x - 0.03, 0.16, x + 0.03, 0.32), 90, 270, c.white, 0.012)


def draw_pouch(c: Canvas):
    c.poly([(0.30, 0.28), (0.70, 0.28), (0.74, 0.80), (0.26, 0.80)], c.accent)
    c.rect(0.30, 0.24, 0.70, 0.30, c.dark, 0.01)
    c.ellipse(0.40, 0.44, 0.60, 0.66, c.pale)
    c.line([(0.50, 0.46), (0.48, 0.55), (0.50, 0.64)], c.accent, 0.012)


def draw_petbag(c: Canvas):
    c.poly([(0.30, 0.28), (0.70, 0.28), (0.74, 0.80), (0.26, 0.80)], c.accent)
    c.rect(0.30, 0.24, 0.70, 0.30, c.dark, 0.01)
    c.circle(0.50, 0.60, 0.075, c.pale)
    for dx, dy in ((-0.08, -0.09), (-0.03, -0.13), (0.03, -0.13), (0.08, -0.09)):
        c.circle(0.50 + dx, 0.60 + dy, 0.028, c.pale)


def draw_powerbank(c: Canvas):
    c.rect(0.22, 0.34, 0.78, 0.70, c.dark, 0.05)
    c.rect(0.28, 0.42, 0.50, 0.54, c.accent, 0.015)
    c.rect(0.30, 0.45, 0.40, 0.51, c.pale, 0.005)
    for i in range(3):
        c.rect(0.58 + i * 0.05, 0.60, 0.61 + i * 0.05, 0.64, c.light, 0.005)
    c.line([(0.78, 0.50), (0.86, 0.52), (0.88, 0.70)], c.dark, 0.015)


def draw_hub(c: Canvas):
    c.line([(0.18, 0.52), (0.10, 0.40), (0.12, 0.26)], c.dark, 0.02)
    c.rect(0.18, 0.44, 0.82, 0.60, c.light, 0.05)
    for i in range(5):
        c.rect(0.28 + i * 0.1, 0.49, 0.34 + i * 0.1, 0.55, c.dark if i % 2 else c.accent, 0.008)


def draw_grinder(c: Canvas):
    c.rect(0.38, 0.34, 0.62, 0.80, c.dark, 0.03)
    c.rect(0.38, 0.56, 0.62, 0.60, c.light)
    c.ellipse(0.38, 0.30, 0.62, 0.38, c.accent)
    c.line([(0.50, 0.30), (0.50, 0.18), (0.74, 0.18)], c.accent, 0.02)
    c.circle(0.76, 0.18, 0.035, c.dark)


def draw_knife(c: Canvas):
    c.poly([(0.16, 0.60), (0.62, 0.42), (0.66, 0.50), (0.20, 0.66)], c.white)
    c.poly([(0.16, 0.60), (0.62, 0.42), (0.62, 0.45), (0.17, 0.62)], c.light)
    c.poly([(0.62, 0.42), (0.86, 0.33), (0.89, 0.40), (0.66, 0.50)], c.dark)
    for t in (0.3, 0.6):
        x, y = 0.62 + 0.25 * t, 0.45 - 0.09 * t
        c.circle(x, y, 0.01, c.pale)


def draw_pot(c: Canvas):
    c.rect(0.18, 0.46, 0.28, 0.52, c.dark, 0.02)
    c.rect(0.72, 0.46, 0.82, 0.52, c.dark, 0.02)
    c.rect(0.24, 0.42, 0.76, 0.78, c.accent, 0.08)
    c.ellipse(0.22, 0.34, 0.78, 0.46, c.dark)
    c.circle(0.5, 0.33, 0.04, c.light)


def draw_tent(c: Canvas):
    c.poly([(0.50, 0.22), (0.86, 0.78), (0.14, 0.78)], c.accent)
    c.poly([(0.50, 0.22), (0.62, 0.78), (0.38, 0.78)], c.dark)
    c.poly([(0.50, 0.44), (0.58, 0.78), (0.42, 0.78)], c.light)
    c.line([(0.08, 0.79), (0.92, 0.79)], c.dark, 0.01)


def draw_chair(c: Canvas):
    c.line([(0.30, 0.82), (0.62, 0.44)], c.dark, 0.02)
    c.line([(0.70, 0.82), (0.38, 0.44)], c.dark, 0.02)
    c.d.chord(c.p(0.24, 0.18, 0.76, 0.70), 20, 200, fill=c.accent)
    c.d.chord(c.p(0.30, 0.26, 0.70, 0.62), 30, 190, fill=c.light)


def draw_shoe(c: Canvas):
    c.poly([(0.16, 0.64), (0.18, 0.42), (0.40, 0.40), (0.56, 0.52), (0.84, 0.58), (0.86, 0.68), (0.16, 0.68)],
           c.accent)
    c.rect(0.14, 0.66, 0.88, 0.74, c.white, 0.03)
    c.poly([(0.18, 0.42), (0.30, 0.34), (0.40, 0.40)], c.dark)
    for i in range(3):
        c.line([(0.40 + i * 0.05, 0.46 + i * 0.02), (0.46 + i * 0.05, 0.43 + i * 0.02)], c.pale, 0.012)


def draw_garment(c: Canvas):
    c.poly([(0.36, 0.22), (0.64, 0.22), (0.84, 0.36), (0.76, 0.48), (0.68, 0.44), (0.68, 0.82),
            (0.32, 0.82), (0.32, 0.44), (0.24, 0.48), (0.16, 0.36)], c.accent)
    c.d.chord(c.p(0.42, 0.14, 0.58, 0.30), 0, 180, fill=c.pale)
    c.line([(0.50, 0.30), (0.50, 0.80)], c.light, 0.008)


def draw_tool(c: Canvas):
    c.poly([(0.40, 0.20), (0.48, 0.20), (0.52, 0.82), (0.42, 0.82)], c.dark)
    c.poly([(0.52, 0.20), (0.60, 0.20), (0.58, 0.82), (0.48, 0.82)], c.accent)
    c.circle(0.50, 0.44, 0.03, c.pale)
    c.rect(0.58, 0.52, 0.78, 0.57, c.light, 0.02)


def draw_babybottle(c: Canvas):
    c.rect(0.36, 0.40, 0.64, 0.82, c.white, 0.06)
    c.rect(0.36, 0.58, 0.64, 0.82, c.pale, 0.06)
    c.rect(0.34, 0.34, 0.66, 0.42, c.accent, 0.02)
    c.ellipse(0.42, 0.18, 0.58, 0.38, c.light)
    for i in range(3):
        c.rect(0.40, 0.48 + i * 0.08, 0.47, 0.495 + i * 0.08, c.accent, 0.005)


def draw_book(c: Canvas):
    c.rect(0.28, 0.22, 0.72, 0.80, c.dark, 0.02)
    c.rect(0.31, 0.24, 0.72, 0.78, c.white, 0.01)
    c.rect(0.26, 0.20, 0.68, 0.80, c.accent, 0.02)
    c.rect(0.33, 0.30, 0.62, 0.36, c.pale, 0.01)
    c.rect(0.33, 0.40, 0.55, 0.43, c.light, 0.01)
    c.circle(0.48, 0.62, 0.07, c.light)


def draw_pen(c: Canvas):
    c.poly([(0.24, 0.78), (0.30, 0.84), (0.80, 0.34), (0.74, 0.28)], c.accent)
    c.poly([(0.24, 0.78), (0.30, 0.84), (0.18, 0.90)], c.dark)
    c.poly([(0.62, 0.40), (0.68, 0.46), (0.80, 0.34), (0.74, 0.28)], c.dark)
    c.line([(0.54, 0.42), (0.70, 0.26)], c.light, 0.012)


def draw_fountain(c: Canvas):
    c.rect(0.24, 0.46, 0.76, 0.80, c.white, 0.08)
    c.ellipse(0.24, 0.40, 0.76, 0.54, c.light)
    c.ellipse(0.30, 0.43, 0.70, 0.51, (140, 200, 235))
    c.arc((0.38, 0.26, 0.62, 0.50), 200, 340, (140, 200, 235), 0.02)
    c.circle(0.5, 0.70, 0.025, c.accent)


def draw_scratcher(c: Canvas):
    c.d.chord(c.p(0.14, 0.10, 0.86, 0.90), 20, 160, fill=c.accent)
    c.d.chord(c.p(0.22, 0.16, 0.78, 0.80), 20, 160, fill=c.light)
    for i in range(8):
        x = 0.28 + i * 0.06
        c.line([(x, 0.56), (x + 0.02, 0.70)], c.dark, 0.006)


def draw_roller(c: Canvas):
    c.rect(0.26, 0.28, 0.74, 0.48, c.white, 0.10)
    c.rect(0.26, 0.36, 0.74, 0.40, c.pale)
    c.line([(0.50, 0.48), (0.50, 0.58), (0.46, 0.84)], c.dark, 0.04)


def draw_tote(c: Canvas):
    c.arc((0.36, 0.16, 0.64, 0.50), 180, 360, c.dark, 0.025)
    c.poly([(0.26, 0.34), (0.74, 0.34), (0.78, 0.82), (0.22, 0.82)], c.pale)
    c.poly([(0.235, 0.66), (0.765, 0.66), (0.78, 0.82), (0.22, 0.82)], c.accent)


def draw_scarf(c: Canvas):
    c.poly([(0.50, 0.16), (0.84, 0.50), (0.50, 0.84), (0.16, 0.50)], c.accent)
    c.poly([(0.50, 0.26), (0.74, 0.50), (0.50, 0.74), (0.26, 0.50)], c.pale)
    c.circle(0.50, 0.50, 0.08, c.light)
    for a in range(0, 360, 45):
        x, y = 0.5 + 0.16 * math.cos(math.radians(a)), 0.5 + 0.16 * math.sin(math.radians(a))
        c.circle(x, y, 0.025, c.dark)


def draw_leaf(c: Canvas):
    c.ellipse(0.26, 0.22, 0.74, 0.82, c.accent)
    c.line([(0.50, 0.26), (0.50, 0.88)], c.dark, 0.015)
    for i in range(4):
        y = 0.36 + i * 0.1
        c.line([(0.50, y + 0.05), (0.36, y)], c.light, 0.01)
        c.line([(0.50, y + 0.05), (0.64, y)], c.light, 0.01)


DRAW = {name[5:]: fn for name, fn in globals().items() if name.startswith("draw_")}


def decorate(c: Canvas, night: bool) -> None:
    """Soft background confetti: a few pale circles, or stars at night."""
    for _ in range(10 if night else 6):
        x, y = c.rng.uniform(0.05, 0.95), c.rng.uniform(0.05, 0.95)
        if 0.2 < x < 0.8 and 0.2 < y < 0.85:
            continue
        if night:
            c.circle(x, y, c.rng.uniform(0.004, 0.01), (255, 250, 220))
        else:
            c.circle(x, y, c.rng.uniform(0.03, 0.09), (255, 255, 255, 90))


def product_image(stem: str, tag: str, key: str) -> Image.Image:
    rng = random.Random(zlib.crc32(key.encode()))
    top, bottom, accent = (rgb(h) for h in PALETTE.get(tag, DEFAULT_PALETTE))
    night = stem.endswith("-night")
    if night:
        top, bottom = mix(top, (20, 30, 60), 0.8), mix(bottom, (20, 30, 60), 0.65)
    n = PRODUCT_SIZE * SS
    img = gradient(n, top, bottom, rng.uniform(0.6, 1.2)).convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    c = Canvas(overlay, accent, rng)
    decorate(c, night)
    img = Image.alpha_composite(img, overlay)

    # soft shadow under the object
    shadow = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse([0.22 * n, 0.80 * n, 0.78 * n, 0.88 * n], fill=(0, 0, 0, 40))
    img = Image.alpha_composite(img, shadow.filter(ImageFilter.GaussianBlur(n * 0.015)))

    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    c = Canvas(layer, accent, rng)
    shape = shape_for(stem)
    DRAW[shape](c)
    if stem.endswith(("-texture", "-side")):  # a close-up variant: larger and tilted
        layer = layer.rotate(rng.choice((-14, 12)), resample=Image.BICUBIC, center=(n / 2, n / 2))
        layer = layer.resize((int(n * 1.25),) * 2, Image.BICUBIC).crop(
            (n // 8, n // 8, n // 8 + n, n // 8 + n))
        drops = ImageDraw.Draw(layer)
        for _ in range(5):
            x, y, r = rng.uniform(0.1, 0.9) * n, rng.uniform(0.1, 0.3) * n, rng.uniform(0.01, 0.03) * n
            drops.ellipse([x - r, y - r, x + r, y + r], fill=mix(accent, (255, 255, 255), 0.7))
    else:
        angle = rng.uniform(-4, 4)
        layer = layer.rotate(angle, resample=Image.BICUBIC, center=(n / 2, n * 0.52))
    img = Image.alpha_composite(img, layer)
    return img.convert("RGB").resize((PRODUCT_SIZE, PRODUCT_SIZE), Image.LANCZOS)


def avatar_image(tag: str, key: str) -> Image.Image:
    rng = random.Random(zlib.crc32(key.encode()))
    top, bottom, accent = (rgb(h) for h in PALETTE.get(tag, DEFAULT_PALETTE))
    n = AVATAR_SIZE * SS
    img = gradient(n, top, bottom, rng.uniform(0.4, 1.4)).convert("RGBA")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    c = Canvas(layer, accent, rng)
    skin = mix((242, 205, 180), (200, 150, 120), rng.uniform(0, 0.4))
    hair = mix((40, 30, 28), accent, rng.uniform(0.0, 0.35))
    c.d.chord(c.p(0.18, 0.66, 0.82, 1.30), 180, 360, fill=c.accent)           # shoulders
    c.rect(0.44, 0.56, 0.56, 0.70, skin, 0.02)                                # neck
    long_hair = rng.random() < 0.6
    if long_hair:
        c.rect(0.28, 0.26, 0.72, 0.70, hair, 0.14)
    c.circle(0.50, 0.42, 0.18, skin)                                          # face
    c.d.chord(c.p(0.30, 0.20, 0.70, 0.52), 180, 360, fill=hair)               # fringe
    c.circle(0.43, 0.45, 0.016, (50, 40, 40))
    c.circle(0.57, 0.45, 0.016, (50, 40, 40))
    c.arc((0.45, 0.47, 0.55, 0.54), 20, 160, (170, 90, 90), 0.012)
    img = Image.alpha_composite(img, layer)
    return img.convert("RGB").resize((AVATAR_SIZE, AVATAR_SIZE), Image.LANCZOS)


def save(img: Image.Image, path: Path, force: bool) -> int:
    if path.exists() and not force:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "WEBP", quality=QUALITY, method=6)
    return 1


def main(argv: list[str]) -> int:
    force = "--force" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "content"
    written = total = 0
    for creator in sorted(p for p in root.iterdir() if p.is_dir()):
        profile = front_matter(creator / "_index.md") if (creator / "_index.md").exists() else {}
        interests = profile.get("interests") or []
        creator_tag = interests[0] if interests else ""
        avatar = profile.get("avatar")
        if avatar:
            total += 1
            written += save(avatar_image(creator_tag, f"{creator.name}/{avatar}"),
                            creator / "images" / avatar, force)
        for md in sorted(creator.glob("*.md")):
            if md.name == "_index.md":
                continue
            fm = front_matter(md)
            tags = fm.get("tags") or []
            tag = tags[0] if tags else creator_tag
            for name in fm.get("images") or []:
                total += 1
                stem = Path(name).stem
                written += save(product_image(stem, tag, f"{creator.name}/{name}"),
                                creator / "images" / name, force)
    print(f"{written} of {total} images written under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
