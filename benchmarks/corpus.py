#!/usr/bin/env python3
"""Write a deterministic synthetic site for build benchmarks.

N products across N/50 creators, ~400-word mixed Chinese/English bodies with
lists, emphasis, links and a quote, YAML front-matter that passes
``chuchuang check``, 40 tags, and a site.yaml with partners and agreements.
No images: the benchmark is about the text pipeline.

Deterministic: the only randomness is ``random.Random(seed)``, so the same
arguments write byte-identical files.

    python benchmarks/corpus.py OUT_DIR --n 10000 [--seed 6]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PER_CREATOR = 50

TAGS = ["护肤", "彩妆", "香氛", "防晒", "精华", "面霜", "咖啡", "茶", "厨房", "烘焙",
        "数码", "耳机", "键盘", "充电", "摄影", "户外", "露营", "徒步", "跑步", "健身",
        "读书", "文具", "收纳", "家居", "床品", "母婴", "童书", "猫", "狗", "宠物零食",
        "穿搭", "鞋", "包", "围巾", "礼物", "旅行", "办公", "学生", "平价", "大促"]
PARTNERS = [("tmall", "https://detail.tmall.com/item.htm?id={n}"),
            ("taobao", "https://item.taobao.com/item.htm?id={n}"),
            ("jd", "https://item.jd.com/{n}.html"),
            ("weimai", "https://shop.weimai.com/p/{n}")]
ZH_WORDS = ["质地", "清爽", "吸收", "回购", "性价比", "包装", "做工", "细节", "耐用", "手感",
            "颜值", "味道", "口感", "续航", "降噪", "收纳", "轻便", "保湿", "温和", "稳定",
            "推荐", "日常", "通勤", "周末", "出差", "送礼", "入门", "进阶", "老用户", "新手"]
EN_WORDS = ["texture", "light", "daily", "value", "solid", "battery", "quiet", "compact",
            "gentle", "sturdy", "fresh", "smooth", "travel", "budget", "premium", "design",
            "comfort", "quality", "simple", "reliable", "easy", "clean", "warm", "bright"]
NOUNS = ["精华", "面霜", "耳机", "键盘", "手冲壶", "帐篷", "背包", "台灯", "保温杯", "围巾",
         "跑鞋", "绘本", "猫砂", "收纳盒", "床品四件套", "充电宝", "钢笔", "茶具", "磨豆机", "防晒霜"]
BRANDS = ["Anker", "MUJI", "Hario", "Sony", "Lamy", "Snow Peak", "Uniqlo", "Staub", "Keychron",
          "Pidan", "Stokke", "Naturehike", "Kindle", "Zwilling", "Curel", "Anessa"]


def _sentence(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(4, 8)):
        if rng.random() < 0.35:
            parts.append(" ".join(rng.choices(EN_WORDS, k=rng.randint(1, 3))))
        else:
            parts.append("".join(rng.choices(ZH_WORDS, k=rng.randint(1, 3))))
    return "，".join(parts) + "。"


def body(rng: random.Random) -> str:
    """About 400 words (two CJK characters count as one), ~3.6 KiB, in a dozen Markdown blocks."""
    blocks = [" ".join(_sentence(rng) for _ in range(5)),
              "\n".join(f"- **{rng.choice(ZH_WORDS)}**：{_sentence(rng)}" for _ in range(5)),
              " ".join(_sentence(rng) for _ in range(4)) + f" *{rng.choice(EN_WORDS)}* and `{rng.choice(EN_WORDS)}`.",
              "> " + _sentence(rng),
              f"## {rng.choice(ZH_WORDS)} {rng.choice(EN_WORDS)}",
              " ".join(_sentence(rng) for _ in range(5)),
              "\n".join(f"{i}. {_sentence(rng)}" for i in range(1, 4)),
              " ".join(_sentence(rng) for _ in range(4)),
              " ".join(_sentence(rng) for _ in range(4)),
              f"详细参数见[品牌官网](https://www.example.com/{rng.randint(1, 999)})。" + _sentence(rng)]
    return "\n\n".join(blocks) + "\n"


def product(rng: random.Random, n: int, day: dt.date) -> tuple[str, str]:
    partner, pattern = PARTNERS[n % len(PARTNERS)]
    title = f"{rng.choice(BRANDS)} {rng.choice(NOUNS)} No.{n}"
    tags = rng.sample(TAGS, rng.randint(2, 4))
    price = f"{rng.randint(9, 2999)}.{rng.randint(0, 99):02d}"
    front = (f"---\ntitle: {title}\nlink: {pattern.format(n=1_000_000 + n)}\nprice: \"{price}\"\n"
             f"stock: {rng.randint(0, 500)}\nmerchant: {partner}-merchant-{n % 37}\n"
             f"tags: [{', '.join(tags)}]\ndate: {day.isoformat()}\n---\n")
    return f"p{n:06d}", front + body(rng)


def profile(rng: random.Random, index: int) -> str:
    interests = rng.sample(TAGS, 3)
    return (f"---\nname: 达人 Creator {index}\ntagline: {rng.choice(ZH_WORDS)}{rng.choice(ZH_WORDS)}实验室\n"
            f"interests: [{', '.join(interests)}]\n"
            f"links:\n  - {{title: 小红书, url: \"https://www.xiaohongshu.com/user/profile/c{index}\"}}\n"
            f"weight: {index}\n---\n{_sentence(rng)}{_sentence(rng)}\n")


SITE_YAML = """\
title: 橱窗 · bench
description: 达人推荐的好物橱窗 — a synthetic benchmark corpus.
base_url: https://bench.example.com/
language: zh-CN
currency: CNY
disclosure: "广告 · 推广链接"
partners:
  tmall:
    name: 天猫
    domains: [tmall.com, tmall.hk]
    handoff: {type: redirect, url: "{link}", params: {pid: "{creator_pid}", cc_order: "{order_id}"}}
    commission: {default_rate: "0.05", max_rate: "0.20"}
    secret_env: TMALL_EVENTS_SECRET
  taobao:
    name: 淘宝
    domains: [taobao.com, tb.cn]
    handoff: {type: redirect, url: "{link}", params: {pid: "{creator_pid}", cc_order: "{order_id}"}}
    commission: {default_rate: "0.04", max_rate: "0.15"}
    secret_env: TAOBAO_EVENTS_SECRET
  jd:
    name: 京东
    domains: [jd.com, jd.hk]
    handoff: {type: redirect, url: "{link}", params: {unionId: "{creator_pid}", cc_order: "{order_id}"}}
    commission: {default_rate: "0.03", max_rate: "0.12"}
    secret_env: JD_EVENTS_SECRET
  weimai:
    name: 微卖
    domains: [weimai.com]
    handoff: {type: webhook, url: "https://api.weimai.com/v1/orders"}
    commission: {default_rate: "0.10", max_rate: "0.25"}
    secret_env: WEIMAI_SECRET
agreements:
  - {creator: c0000, merchant: tmall-merchant-0, partner: tmall, rate: "0.08",
     valid_from: 2026-01-01, valid_to: 2027-12-31}
commission: {lock_days: 15}
"""


def write_corpus(out: Path, n: int, seed: int = 6, templates: Path | None = None) -> Path:
    """Write site.yaml, content/ and templates/ for ``n`` products into ``out``; returns ``out``."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    content = out / "content"
    content.mkdir(parents=True)
    (out / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    shutil.copytree(templates or REPO / "templates", out / "templates")
    creators = max(1, n // PER_CREATOR)
    start = dt.date(2026, 1, 1)
    for c in range(creators):
        folder = content / f"c{c:04d}"
        folder.mkdir()
        (folder / "_index.md").write_text(profile(rng, c), encoding="utf-8")
    for i in range(n):
        slug, text = product(rng, i, start + dt.timedelta(days=i % 300))
        (content / f"c{i % creators:04d}" / f"{slug}.md").write_text(text, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=1000, help="number of products")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    write_corpus(args.out, args.n, args.seed)
    print(f"wrote {args.n} products by {max(1, args.n // PER_CREATOR)} creators to {args.out}")


if __name__ == "__main__":
    main()
