"""The fan's journey on a phone, in Debian's Chromium, against ``chuchuang serve``'s embedded backend."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a missing browser toolchain fails CI and skips elsewhere
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_PRODUCT = "su-qingcha--xiaoguan-baimudan"     # 微卖 (webhook partner), merchant xiaoguan-tea
REDIRECT_PRODUCT = "su-qingcha--uji-matcha"           # 天猫 (redirect partner), merchant marukyu-hk
SOLD_OUT_PRODUCT = "chen-mo--muji-washed-cotton-bedding"
ORDER_LINK = re.compile(r"/checkout/\?order=([0-9a-f]{32}(,[0-9a-f]{32})*)$")


def path_of(product_id: str) -> str:
    creator, slug = product_id.split("--")
    return f"/{creator}/{slug}/"


def yuan(amount: int) -> str:
    """What Intl.NumberFormat('zh-CN', {style: 'currency', currency: 'CNY'}) prints for minor units."""
    return f"¥{amount / 100:,.2f}"


class Watch:
    """Every request and every console error or uncaught exception of one page."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self._console(m, page.url))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def _console(self, message, at: str) -> None:
        where = message.location.get("url", "")
        # The local sandbox merchant's pages (not part of the site) have no icon, so Chromium asks for one.
        if message.type == "error" and not ("/_sandbox/" in at and where.endswith("/favicon.ico")):
            self.errors.append(f"console on {at}: {message.text} ({where})")

    def check(self, origin: str) -> None:
        assert self.requests, "no request was recorded"
        foreign = [u for u in self.requests if not (u == origin or u.startswith(origin + "/"))]
        assert not foreign, f"requests left the origin {origin}: {foreign}"
        assert not self.errors, "\n".join(self.errors)


def cart_id(page: Page) -> str:
    value = page.evaluate("localStorage.getItem('cc.cart')")
    assert value, "the script kept no cart id"
    return json.loads(value)


def add_to_cart(page: Page, product_id: str, count_after: int) -> None:
    form = page.locator(f"form[data-add-to-cart][data-product-id='{product_id}']")
    button = form.locator("[data-add]")
    expect(button).to_be_visible()
    expect(button).to_be_enabled()
    button.click()
    expect(form.locator(".cart-message")).to_contain_text("已加入购物车")
    expect(page.locator("[data-cart-count]")).to_have_text(str(count_after))


def order_ids_from(page: Page) -> list[str]:
    match = ORDER_LINK.search(page.url)
    assert match, page.url
    return match.group(1).split(",")


def sandbox_rows(page: Page) -> int:
    page.goto("/_sandbox/")
    return page.locator("tr[data-order-id]").count()


def test_fan_journey(page: Page, make_context, base_url: str, site_root: Path, artifacts: Path) -> None:
    watch = Watch(page)

    # Home → a creator → one of their products.
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("达人亲测好物")
    expect(page.locator("[data-for-you]")).to_be_hidden()   # nothing known about this fan yet
    page.locator("a.ctile[href='/su-qingcha/']").click()
    expect(page).to_have_url(f"{base_url}/su-qingcha/")
    page.locator(f".card[data-product-id='{WEBHOOK_PRODUCT}'] .card-title a").click()
    expect(page).to_have_url(base_url + path_of(WEBHOOK_PRODUCT))

    # Favourite it; the favourites page shows it after a reload.
    fav = page.locator("article.product [data-favourite]")
    expect(fav).to_be_visible()
    fav.click()
    expect(fav).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"[data-stock-badge][data-product-id='{WEBHOOK_PRODUCT}']")).to_contain_text("库存")
    add_to_cart(page, WEBHOOK_PRODUCT, 1)
    page.screenshot(path=artifacts / "product.png", full_page=True)

    page.locator("nav a[href='/favourites/']").click()
    page.reload()
    expect(page.locator(f"[data-favourites-list] .card[data-product-id='{WEBHOOK_PRODUCT}']")).to_be_visible()
    expect(page.locator("[data-empty]")).to_be_hidden()

    # A second product from another merchant, on a redirect partner.
    page.goto(path_of(REDIRECT_PRODUCT))
    expect(page.locator("[data-cart-count]")).to_have_text("1")
    add_to_cart(page, REDIRECT_PRODUCT, 2)

    # The home page now has a "for you" shelf ranked from what this fan looked at.
    page.goto("/")
    expect(page.locator("[data-for-you]")).to_be_visible()
    assert page.locator("[data-for-you-list] .card").count() >= 1
    page.screenshot(path=artifacts / "home.png", full_page=True)

    # The cart: both lines, totals from the API.
    page.locator("nav a[href='/cart/']").click()
    lines = page.locator("[data-cart-lines] tbody tr")
    expect(lines).to_have_count(2)
    cart = page.request.get(f"/api/carts/{cart_id(page)}").json()
    assert {ln["product_id"] for ln in cart["lines"]} == {WEBHOOK_PRODUCT, REDIRECT_PRODUCT}
    expect(page.locator("[data-cart-total]")).to_contain_text(yuan(cart["totals"][0]["amount"]))
    # Quantity + and − go through the API, and the total follows.
    row = page.locator(f"[data-cart-lines] tr[data-product-id='{REDIRECT_PRODUCT}']")
    unit = next(ln["unit_price"]["amount"] for ln in cart["lines"] if ln["product_id"] == REDIRECT_PRODUCT)
    row.locator("[data-step='1']").click()
    expect(row.locator("[data-field=quantity]")).to_have_value("2")
    expect(page.locator("[data-cart-total]")).to_contain_text(yuan(cart["totals"][0]["amount"] + unit))
    expect(page.locator("[data-cart-count]")).to_have_text("3")
    row.locator("[data-step='-1']").click()
    expect(row.locator("[data-field=quantity]")).to_have_value("1")
    expect(page.locator("[data-cart-total]")).to_contain_text(yuan(cart["totals"][0]["amount"]))
    page.screenshot(path=artifacts / "cart.png", full_page=True)

    # Checkout → the handoff page with one order per merchant, each with its continue link.
    page.locator("[data-checkout]").click()
    page.wait_for_url(ORDER_LINK)
    ids = order_ids_from(page)
    assert len(ids) == 2
    cards = page.locator("[data-orders] .order-card")
    expect(cards).to_have_count(2)
    orders = {i: page.request.get(f"/api/orders/{i}").json() for i in ids}
    by_partner = {o["partner"]: o for o in orders.values()}
    assert set(by_partner) == {"weimai", "tmall"}
    for order in orders.values():
        link = page.locator(f".order-card[data-order-id='{order['id']}'] a[data-field=link]")
        expect(link).to_be_visible(timeout=20_000)   # the webhook one appears once the merchant answered
        expect(link).to_contain_text("继续前往")
    webhook, redirect = by_partner["weimai"], by_partner["tmall"]
    expect(page.locator(f".order-card[data-order-id='{webhook['id']}'] a[data-field=link]")).to_have_attribute(
        "href", re.compile(r"/_sandbox/weimai/pay/"))
    expect(page.locator("[data-cart-count]")).to_be_hidden()
    page.screenshot(path=artifacts / "handoff.png", full_page=True)

    # The redirect link carries the tracking parameters to the (sandbox) partner.
    redirect_link = page.locator(f".order-card[data-order-id='{redirect['id']}'] a[data-field=link]")
    href = redirect_link.get_attribute("href")
    assert "/_sandbox/tmall/redirect" in href and parse_qs(urlsplit(href).query)["cc_order"] == [redirect["id"]]
    redirect_link.click()
    expect(page.locator("[data-tracking]")).to_contain_text(redirect["id"])

    # The sandbox merchant (at a desk, not on a phone) completes the webhook order and refunds the other.
    desk = make_context(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    merchant = Watch(desk)
    desk.goto("/_sandbox/")

    def row(order: dict):
        return desk.locator(f"tr[data-order-id='{order['id']}']")

    row(webhook).locator("button[data-event=walk]").click()
    expect(row(webhook)).to_have_attribute("data-status", "completed")
    row(redirect).locator("button[data-event=paid]").click()
    expect(row(redirect)).to_have_attribute("data-status", "paid")
    row(redirect).locator("button[data-event=refunded]").click()
    expect(row(redirect)).to_have_attribute("data-status", "refunded")
    merchant.check(base_url)

    # The handoff page follows the order's life.
    page.goto(f"/checkout/?order={webhook['id']},{redirect['id']}")
    expect(page.locator(f".order-card[data-order-id='{webhook['id']}'] [data-field=status]")).to_contain_text(
        "已完成")
    expect(page.locator(f".order-card[data-order-id='{redirect['id']}'] [data-field=status]")).to_contain_text(
        "已退款")

    watch.check(base_url)

    # The creator's statement: one confirmed entry, one reversal, amounts to the cent.
    catalog = json.loads((site_root / ".chuchuang" / "catalog.json").read_text(encoding="utf-8"))
    products = catalog["products"]
    products = products if isinstance(products, list) else list(products.values())
    rates = {p["id"]: Decimal(p["rate"]) for p in products}
    entries = [e for st in run_commissions(site_root) for e in st["entries"] if e["order_id"] in ids]

    def expected(order: dict) -> int:
        line = order["lines"][0]
        amount = Decimal(line["line_total"]["amount"]) * rates[line["product_id"]]
        return int(amount.to_integral_value(rounding=ROUND_FLOOR))

    confirmed = [e for e in entries if e["status"] == "confirmed"]
    reversals = [e for e in entries if e["status"] == "reversal"]
    assert [(e["order_id"], e["commission"]) for e in confirmed] == [(webhook["id"], expected(webhook))]
    assert [(e["order_id"], e["commission"]) for e in reversals] == [(redirect["id"], -expected(redirect))]
    assert confirmed[0]["amount"] == webhook["total"]["amount"]
    assert reversals[0]["amount"] == redirect["total"]["amount"]
    assert expected(webhook) > 0 and expected(redirect) > 0


def run_commissions(site_root: Path) -> list[dict]:
    """``chuchuang commissions --format json`` in the site folder; it finds serve's backend itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_ENDPOINT_URL", "CHUCHUANG_TABLE", "CHUCHUANG_HANDOFF_QUEUE", "CHUCHUANG_BACKEND")}
    exe = shutil.which("chuchuang")
    command = [exe] if exe else [sys.executable, "-m", "generator.cli"]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run([*command, "-C", str(site_root), "commissions", "--format", "json"], cwd=site_root,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sold_out_product_cannot_be_added(page: Page) -> None:
    page.goto(path_of(SOLD_OUT_PRODUCT))
    form = page.locator(f"form[data-add-to-cart][data-product-id='{SOLD_OUT_PRODUCT}']")
    button = form.locator("[data-add]")
    expect(button).to_be_visible()
    expect(button).to_be_disabled()
    expect(button).to_have_text("已售罄 Sold out")
    expect(page.locator("[data-stock-badge]")).to_have_text("已售罄 Sold out")
    expect(form.locator("input[name=quantity]")).to_be_disabled()
    button.click(force=True)   # even a forced click does nothing
    expect(page.locator("[data-cart-count]")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('cc.cart')") is None
    # Its card carries the live badge too.
    page.goto("/chen-mo/")
    card = page.locator(f".card[data-product-id='{SOLD_OUT_PRODUCT}']")
    expect(card).to_have_class(re.compile(r"\bsold-out\b"))
    expect(card.locator(".sold-badge")).to_be_visible()


def test_double_click_checkout_creates_one_set_of_orders(page: Page) -> None:
    before = sandbox_rows(page)
    page.goto(path_of("maya-kitchen--wild-coffee-drip-bags"))
    add_to_cart(page, "maya-kitchen--wild-coffee-drip-bags", 1)
    page.goto(path_of("maya-kitchen--hario-v60"))
    add_to_cart(page, "maya-kitchen--hario-v60", 2)
    page.goto("/cart/")
    expect(page.locator("[data-cart-lines] tbody tr")).to_have_count(2)
    cart = cart_id(page)
    page.locator("[data-checkout]").dblclick()
    page.wait_for_url(ORDER_LINK)
    ids = order_ids_from(page)
    assert len(ids) == 2
    answer = page.request.get(f"/api/carts/{cart}").json()
    assert answer["status"] == "checked_out" and sorted(answer["order_ids"]) == sorted(ids)
    assert sandbox_rows(page) == before + 2


def test_checkout_retried_after_a_lost_answer_gets_the_same_orders(page: Page) -> None:
    """The first answer never reaches the page (as if the network dropped): trying again reuses the key."""
    page.goto(path_of("kiki-style--silk-square-scarf"))
    add_to_cart(page, "kiki-style--silk-square-scarf", 1)
    page.goto("/cart/")
    expect(page.locator("[data-cart-lines] tbody tr")).to_have_count(1)
    cart = cart_id(page)
    keys: list[str] = []

    def lose_answer(route) -> None:
        route.fetch()          # the server does check out…
        route.abort()          # …but the page never hears back

    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key", "")) if r.url.endswith("/checkout")
            else None)
    page.route("**/checkout", lose_answer)
    page.locator("[data-checkout]").click()
    expect(page.locator("[data-cart-message]")).to_contain_text("offline")
    page.unroute("**/checkout")
    first = page.request.get(f"/api/carts/{cart}").json()["order_ids"]
    assert len(first) == 1
    expect(page.locator("[data-checkout]")).to_be_enabled()
    page.locator("[data-checkout]").click()
    page.wait_for_url(ORDER_LINK)
    assert order_ids_from(page) == first
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


def test_browsing_without_javascript(make_context, base_url: str) -> None:
    context = make_context(java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("达人亲测好物")
    expect(page.locator("[data-for-you]")).to_be_hidden()
    assert page.locator("main .card").count() >= 6
    page.locator("a.ctile[href='/lin-xiaoyu/']").click()
    expect(page.locator("h1")).to_contain_text("林小雨")
    page.locator(".card[data-product-id='lin-xiaoyu--lancome-serum'] .card-title a").click()
    expect(page).to_have_url(f"{base_url}/lin-xiaoyu/lancome-serum/")
    expect(page.locator("h1.product-title")).to_be_visible()
    expect(page.locator(".reason .prose")).not_to_be_empty()
    expect(page.locator("[data-cart-controls]")).to_be_hidden()
    expect(page.locator("[data-favourite]")).to_be_hidden()
    buy = page.locator("a.btn-direct")
    expect(buy).to_be_visible()
    assert urlsplit(buy.get_attribute("href")).hostname.endswith("tmall.com")
    assert "sponsored" in buy.get_attribute("rel")
    expect(page.locator(".buy-direct .disclosure")).to_have_text("广告 · 推广链接")
    page.locator(".reason .chips a").first.click()
    expect(page).to_have_url(re.compile(r"/tags/[^/]+/$"))
    expect(page.locator("h1")).to_contain_text("#")
    assert page.locator(".card").count() >= 1
    # Every link on these pages resolves.
    links: set[str] = set()
    for path in ("/", "/lin-xiaoyu/", "/lin-xiaoyu/lancome-serum/", page.url.removeprefix(base_url)):
        page.goto(path)
        links |= set(page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
    broken = [h for h in sorted(links) if context.request.get(h).status != 200]
    assert not broken, broken


def test_pages_stay_on_their_origin_without_console_errors(page: Page, base_url: str) -> None:
    watch = Watch(page)
    page.goto(path_of("emma-reads--atomic-habits"))
    page.locator("article.product [data-favourite]").click()
    page.goto("/emma-reads/")     # cards can be favourited too
    card_fav = page.locator(".card[data-product-id='emma-reads--midori-travelers-notebook'] [data-favourite]")
    card_fav.click()
    expect(card_fav).to_have_attribute("aria-pressed", "true")
    for path in ("/", "/tags/", "/favourites/", "/cart/", "/checkout/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    expect(page.locator("[data-favourites-list] .card")).to_have_count(0)   # still on /checkout/
    page.goto("/favourites/")
    expect(page.locator("[data-favourites-list] .card")).to_have_count(2)
    watch.check(base_url)
    # The 404 page (its own status is the one console error Chromium reports there).
    page.goto("/no-such-page/")
    expect(page.locator("h1")).to_contain_text("Page not found")
    watch.errors = [e for e in watch.errors if "/no-such-page/" not in e]
    watch.check(base_url)


def test_friendly_messages_out_of_stock_and_offline(page: Page, context) -> None:
    product = "maya-kitchen--staub-cocotte-24"    # 3 in stock
    page.goto(path_of(product))
    expect(page.locator("[data-stock-badge]")).to_have_text("库存 3")
    page.locator("input[name=quantity]").fill("3")
    add_to_cart(page, product, 3)
    page.locator("input[name=quantity]").fill("1")
    page.locator("[data-add]").click()
    message = page.locator("form[data-add-to-cart] .cart-message")
    expect(message).to_contain_text("Staub")
    expect(message).to_contain_text("只剩 3 件")
    expect(page.locator("[data-cart-count]")).to_have_text("3")
    context.set_offline(True)
    page.locator("[data-add]").click()
    expect(message).to_contain_text("offline")
    context.set_offline(False)


def test_cart_quantities_remove_and_empty_state(page: Page) -> None:
    page.goto("/favourites/")
    expect(page.locator("[data-empty]")).to_be_visible()
    page.goto("/cart/")
    expect(page.locator("[data-cart-empty]")).to_be_visible()
    expect(page.locator("[data-checkout]")).to_be_disabled()
    for product in ("nini-cat--pidan-tofu-litter", "nini-cat--royal-canin-k36"):
        page.goto(path_of(product))
        add_to_cart(page, product, 1 if product.endswith("litter") else 2)
    page.goto("/cart/")
    rows = page.locator("[data-cart-lines] tbody tr")
    expect(rows).to_have_count(2)
    litter = page.locator("tr[data-product-id='nini-cat--pidan-tofu-litter']")
    litter.locator("[data-field=quantity]").fill("4")
    litter.locator("[data-field=quantity]").press("Enter")
    expect(page.locator("[data-cart-count]")).to_have_text("5")
    cart = page.request.get(f"/api/carts/{cart_id(page)}").json()
    assert {ln["product_id"]: ln["quantity"] for ln in cart["lines"]}["nini-cat--pidan-tofu-litter"] == 4
    expect(page.locator("[data-cart-total]")).to_contain_text(yuan(cart["totals"][0]["amount"]))
    litter.locator("[data-remove]").click()
    expect(rows).to_have_count(1)
    expect(page.locator("[data-cart-count]")).to_have_text("1")
    page.locator("[data-cart-lines] [data-remove]").click()
    expect(page.locator("[data-cart-empty]")).to_be_visible()
    expect(page.locator("[data-cart-lines]")).to_be_hidden()
    expect(page.locator("[data-checkout]")).to_be_disabled()
    expect(page.locator("[data-cart-count]")).to_be_hidden()
