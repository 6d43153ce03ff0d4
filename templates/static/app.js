// chuchuang: the fan's script. Favourites, "for you", cart, checkout, handoff and live stock.
// One ES module, no framework, no third-party requests; builds DOM with textContent only.
const base = new URL('../', import.meta.url).pathname   // this file is <base>assets/app.<hash>.js
const API = '/api/'
const $ = (s, r = document) => r.querySelector(s)
const $$ = (s, r = document) => [...r.querySelectorAll(s)]
const h = (tag, cls, text) => {
  const e = document.createElement(tag)
  if (cls) e.className = cls
  if (text != null) e.textContent = text
  return e
}
const rel = (u) => (/^(\/|https?:)/.test(u) ? u : base + u)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// -- storage (localStorage may be off: then nothing is remembered) --------------
const get = (k, d) => { try { return JSON.parse(localStorage.getItem('cc.' + k)) ?? d } catch { return d } }
const put = (k, v) => {
  try { v == null ? localStorage.removeItem('cc.' + k) : localStorage.setItem('cc.' + k, JSON.stringify(v)) } catch {}
}
const uid = () => crypto.randomUUID?.() ||
  [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')

// -- API ----------------------------------------------------------------------
const fail = (code, message, extra) => Object.assign(new Error(message), { code, ...extra })
async function api(method, path, body, headers = {}) {
  if (navigator.onLine === false) throw fail('offline', '')
  let r
  try {
    r = await fetch(API + path, {
      method, cache: 'no-store', credentials: 'same-origin',
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch { throw fail('offline', '') }
  const data = await r.json().catch(() => null)
  if (!r.ok) {
    const e = data?.error || {}
    throw fail(e.code || 'http', e.message || `HTTP ${r.status}`, { status: r.status, details: e.details })
  }
  return data
}

const titles = {}      // product id → title, from the page and from API answers
const names = get('pnames', {})   // product id → partner's display name (seen on product pages)
const title = (id) => titles[id] || id
function explain(e) {
  if (e.code === 'offline') return '网络好像断开了，请联网后再试。You seem to be offline; try again when connected.'
  if (e.code === 'out_of_stock') {
    return (e.details?.products || []).map((p) => p.available > 0
      ? `「${title(p.product_id)}」只剩 ${p.available} 件 · only ${p.available} left`
      : `「${title(p.product_id)}」已售罄 · sold out`).join('；') || e.message
  }
  return e.message || '出错了，请稍后再试。Something went wrong; please try again.'
}

// -- money (display only; amounts are integer minor units) -----------------------
const fmts = {}
function money(m) {
  const f = fmts[m.currency] ||= new Intl.NumberFormat('zh-CN', { style: 'currency', currency: m.currency })
  return f.format(m.amount / 10 ** f.resolvedOptions().maximumFractionDigits)
}

// -- favourites and interest signals ------------------------------------------------
let favs = get('favs', [])
const tagsOf = (el) => (el?.dataset.tags || '').split(',').filter(Boolean)
function signal(tags, w) {
  const s = get('tags', {})
  for (const t of tags) s[t] = Math.max(0, (s[t] || 0) + w)
  put('tags', Object.fromEntries(Object.entries(s).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 60)))
}
function toggleFav(id, tags) {
  const on = !favs.includes(id)
  favs = on ? [id, ...favs] : favs.filter((f) => f !== id)
  put('favs', favs)
  signal(tags, on ? 3 : -3)
  for (const b of $$('[data-favourite]')) if (b.dataset.productId === id) b.setAttribute('aria-pressed', on)
}
function favButton(id, where) {
  let b = $('[data-favourite]', where)
  if (!b) {
    b = h('button', 'btn btn-fav')
    b.type = 'button'
    b.dataset.favourite = ''
    b.dataset.productId = id
    const icon = $('.nav a[href$="favourites/"] svg')
    b.append(icon ? icon.cloneNode(true) : '♡', h('span', 'visually-hidden', '收藏 Favourite'))
    where.append(b)
  }
  b.hidden = false
  b.setAttribute('aria-pressed', favs.includes(id))
}

// -- cards built from /index.json (favourites page, "for you" shelf) ---------------------
let index
const loadIndex = async () => (index ||= fetch(base + 'index.json').then((r) => r.json()).then((d) => d.products || []))
function card(tpl, p) {
  const el = tpl.content.firstElementChild.cloneNode(true)
  el.dataset.productId = p.id
  el.dataset.tags = p.tags.join(',')
  const [media, link, creator] = $$('a', el)
  media.href = link.href = rel(p.url)
  link.textContent = p.title
  creator.href = base + p.id.split('--')[0] + '/'
  creator.textContent = '@' + p.creator
  const img = $('img', el)
  if (p.image) { img.src = rel(p.image); img.alt = p.title } else img.remove()
  $('[data-field=price]', el).textContent = p.price
  $('[data-field=partner]', el)?.remove()   // the index carries no partner name
  el.classList.toggle('sold-out', p.sold_out)
  $('[data-field=sold-out]', el).hidden = !p.sold_out
  return el
}
async function favourites(list) {
  const all = await loadIndex()
  const byId = Object.fromEntries(all.map((p) => [p.id, p]))
  const tpl = $('[data-card-template]')
  list.replaceChildren(...favs.filter((id) => byId[id]).map((id) => card(tpl, byId[id])))
  $('[data-empty]').hidden = list.children.length > 0
}
async function forYou(section) {
  const w = get('tags', {})
  if (!Object.keys(w).length) return
  const score = (p) => p.tags.reduce((s, t) => s + (w[t] || 0), 0)
  const picks = (await loadIndex()).filter((p) => !p.sold_out && !favs.includes(p.id) && score(p) > 0)
    .sort((a, b) => score(b) - score(a) || (a.date < b.date ? 1 : -1)).slice(0, 8)
  if (!picks.length) return
  const tpl = $('[data-card-template]', section)
  $('[data-for-you-list]', section).replaceChildren(...picks.map((p) => card(tpl, p)))
  section.hidden = false
}

// -- live stock ---------------------------------------------------------------
async function stock() {
  const ids = [...new Set($$('[data-stock-badge],[data-add-to-cart],.card[data-product-id]').map((e) => e.dataset.productId))]
    .filter(Boolean)
  for (let i = 0; i < ids.length; i += 100) {
    const got = await api('GET', 'stock?ids=' + ids.slice(i, i + 100).map(encodeURIComponent).join(','))
    for (const [id, { available: n }] of Object.entries(got)) showStock(id, n)
  }
}
function showStock(id, n) {
  const out = n <= 0
  for (const el of $$('[data-product-id]')) {
    if (el.dataset.productId !== id) continue
    if (el.matches('[data-stock-badge]')) {
      el.textContent = out ? '已售罄 Sold out' : `库存 ${n}`
      el.classList.toggle('is-out', out)
      el.classList.toggle('is-low', !out && n <= 5)
    } else if (el.matches('[data-add-to-cart]')) {
      const b = $('[data-add]', el), q = $('input[name=quantity]', el)
      if (out) b.textContent = '已售罄 Sold out'
      else if (b.textContent.includes('Sold out')) b.textContent = '加入购物车 Add to cart'
      b.disabled = q.disabled = out
      if (!out) q.max = n
    } else if (el.matches('.card')) {
      el.classList.toggle('sold-out', out)
      let badge = $('.sold-badge', el)
      if (out && !badge) $('.card-media', el).after(badge = h('span', 'sold-badge', '已售罄 Sold out'))
      if (badge) badge.hidden = !out
    }
  }
}

// -- cart -------------------------------------------------------------------------
let cart = null
const showCount = (n) => $$('[data-cart-count]').forEach((c) => { c.textContent = n; c.hidden = !n })
function keep(c) {
  cart = c
  for (const l of c?.lines || []) titles[l.product_id] = l.title
  showCount(c?.status === 'open' ? c.item_count : 0)
  return c
}
async function loadCart() {
  const id = get('cart')
  if (!id) return keep(null)
  try {
    return keep(await api('GET', 'carts/' + id))
  } catch (e) {
    if (e.status === 404) { put('cart', null); return keep(null) }
    throw e
  }
}
async function addToCart(id, q) {
  for (let retry = 0; ; retry++) {
    try {
      if (!cart || cart.status !== 'open') await loadCart()
      if (!cart || cart.status !== 'open') {
        keep(await api('POST', 'carts', { items: [{ product_id: id, quantity: q }] }))
        put('cart', cart.id)
        return
      }
      const have = cart.lines.find((l) => l.product_id === id)?.quantity || 0
      return keep(await api('PUT', `carts/${cart.id}/items/${encodeURIComponent(id)}`, { quantity: have + q }))
    } catch (e) {
      if (retry || !['cart_checked_out', 'cart_not_found'].includes(e.code)) throw e
      put('cart', null)
      cart = null
    }
  }
}
function productPage(article) {
  const id = article.dataset.productId
  titles[id] = article.dataset.title
  signal(tagsOf(article), 1)
  const form = $('[data-add-to-cart]', article)
  const partner = $('.partner strong', article)?.textContent
  favButton(id, form)
  $('[data-favourite]', form).addEventListener('click', () => toggleFav(id, tagsOf(article)))
  $('[data-cart-controls]', form).hidden = false
  const msg = h('p', 'cart-message')
  msg.setAttribute('role', 'status')
  $('[data-cart-controls]', form).after(msg)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const b = $('[data-add]', form), q = parseInt($('input[name=quantity]', form).value, 10)
    if (b.disabled) return
    if (!(q >= 1)) { msg.textContent = '请填写数量 Enter a quantity'; return }
    b.disabled = true
    msg.textContent = '正在加入… Adding…'
    try {
      if (partner) put('pnames', Object.assign(names, { [id]: partner }))
      await addToCart(id, q)
      msg.replaceChildren('已加入购物车 Added to cart · ', Object.assign(h('a', 'text-link', '去结算 View cart'), { href: base + 'cart/' }))
    } catch (e) {
      msg.textContent = explain(e)
    }
    b.disabled = false
    stock().catch(() => {})
  })
}

// -- the cart page --------------------------------------------------------------------
let busy = false
function renderCart(root) {
  const lines = cart?.status === 'open' ? cart.lines : []
  const table = $('[data-cart-lines]', root), tpl = $('[data-cart-line-template]', root)
  $('[data-cart-empty]', root).hidden = lines.length > 0
  table.hidden = !lines.length
  $('[data-checkout]', root).disabled = busy || !lines.length
  $('[data-cart-total]', root).textContent = lines.length ? '合计 Total ' + cart.totals.map(money).join(' + ') : ''
  $('tbody', table).replaceChildren(...lines.map((l) => {
    const tr = tpl.content.firstElementChild.cloneNode(true)
    tr.dataset.productId = l.product_id
    const a = $('[data-field=title]', tr)
    a.href = rel(l.url)
    a.textContent = l.title
    $('[data-field=partner]', tr).textContent = `${names[l.product_id] || l.partner} · ${l.merchant}`
    if (l.available < l.quantity) a.after(h('small', 'stock is-low', `只剩 ${l.available} 件 · only ${l.available} left`))
    $('[data-field=price]', tr).textContent = money(l.unit_price)
    $('[data-field=total]', tr).textContent = money(l.line_total)
    const q = $('[data-field=quantity]', tr)
    q.value = l.quantity
    q.max = 99
    const step = (d, label) => {
      const b = h('button', 'btn-icon', d < 0 ? '−' : '+')
      b.type = 'button'
      b.dataset.step = d
      b.setAttribute('aria-label', label)
      return b
    }
    const minus = step(-1, '减少 Fewer'), plus = step(1, '增加 More')
    q.closest('label').before(minus)
    q.closest('label').after(plus)
    return tr
  }))
  for (const c of $$('input,button', table)) c.disabled = busy
}
async function cartPage(root) {
  const say = (t) => { $('[data-cart-message]', root).textContent = t }
  const change = async (id, n) => {
    if (busy || !cart) return
    busy = true
    renderCart(root)
    try {
      const path = `carts/${cart.id}/items/${encodeURIComponent(id)}`
      keep(await (n > 0 ? api('PUT', path, { quantity: n }) : api('DELETE', path)))
      say('')
    } catch (e) {
      say(explain(e))
      await loadCart().catch(() => {})
    }
    busy = false
    renderCart(root)
  }
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button')
    const id = b?.closest('[data-product-id]')?.dataset.productId
    if (!id) return
    const line = cart.lines.find((l) => l.product_id === id)
    if (b.matches('[data-remove]')) change(id, 0)
    else if (b.dataset.step) change(id, line.quantity + +b.dataset.step)
  })
  root.addEventListener('change', (ev) => {
    const id = ev.target.closest('[data-product-id]')?.dataset.productId
    const n = ev.target.value === '' ? NaN : Number(ev.target.value)
    if (!id) return
    if (Number.isInteger(n) && n >= 0) change(id, n)
    else { say('数量要是整数 Quantity must be a whole number'); renderCart(root) }
  })
  $('[data-checkout]', root).addEventListener('click', async (ev) => {
    if (busy || !cart) return
    busy = true
    renderCart(root)
    say('正在下单… Placing your order…')
    let k = get('idem')
    if (k?.cart !== cart.id) put('idem', k = { cart: cart.id, key: uid() })   // survives a double click or a reload
    try {
      const r = await api('POST', `carts/${cart.id}/checkout`, {}, { 'Idempotency-Key': k.key })
      return handoff(r.orders.map((o) => o.id))
    } catch (e) {
      if (e.code === 'cart_checked_out' && e.details?.order_ids?.length) return handoff(e.details.order_ids)
      say(explain(e))
      if (e.code === 'out_of_stock') await loadCart().catch(() => {})
    }
    busy = false
    renderCart(root)
  })
  try {
    await loadCart()
    if (cart?.status === 'checked_out') {
      put('cart', null)
      say('这个购物车已经结算过了。This cart was checked out: ')
      $('[data-cart-message]', root).append(Object.assign(h('a', 'text-link', '查看订单 See your orders'),
        { href: base + 'checkout/?order=' + cart.order_ids.join(',') }))
    }
  } catch (e) {
    say(explain(e))
  }
  renderCart(root)
}
function handoff(ids) {
  put('cart', null)
  put('idem', null)
  showCount(0)
  location.assign(base + 'checkout/?order=' + ids.join(','))
}

// -- the handoff page (/checkout/?order=a,b) ------------------------------------------------
const STATUS = {
  pending_handoff: '正在转交商家 Sending to the merchant', handed_off: '待付款 Waiting for payment',
  paid: '已付款 Paid', shipped: '已发货 Shipped', completed: '已完成 Completed',
  cancelled: '已取消 Cancelled', refunded: '已退款 Refunded',
}
async function orders(root) {
  const ids = (new URLSearchParams(location.search).get('order') || '').split(',').filter((s) => /^[0-9a-f]{32}$/.test(s))
  const loading = $('[data-orders-loading]', root), tpl = $('[data-order-template]')
  if (!ids.length) { loading.textContent = '没有要显示的订单。No orders to show.'; return }
  const cards = ids.map((id) => {
    const el = tpl.content.firstElementChild.cloneNode(true)
    el.dataset.orderId = id
    el.hidden = true
    root.append(el)
    return el
  })
  const f = (el, name) => $(`[data-field=${name}]`, el)
  const fill = (el, o) => {
    f(el, 'merchant').textContent = o.merchant
    f(el, 'status').textContent = STATUS[o.status] || o.status
    f(el, 'lines').replaceChildren(...o.lines.map((l) => h('li', '', `${l.title} × ${l.quantity}  ${money(l.line_total)}`)))
    f(el, 'total').textContent = money(o.total)
    f(el, 'partner').textContent = names[o.lines[0]?.product_id] || o.partner
    const url = o.handoff?.url || o.payment_url
    const link = f(el, 'link')
    if (url && /^https?:$/.test(new URL(url, location.href).protocol)) {
      link.href = url
      link.hidden = false
    }
    const over = ['cancelled', 'refunded', 'completed'].includes(o.status)
    f(el, 'waiting').hidden = !link.hidden || over
    el.hidden = false
    return !link.hidden || over
  }
  let todo = cards
  for (let tries = 0; todo.length; tries++) {
    if (tries) await sleep(1000)
    const left = []
    let err = null
    await Promise.all(todo.map(async (el) => {
      try {
        if (!fill(el, await api('GET', 'orders/' + el.dataset.orderId))) left.push(el)
      } catch (e) {
        if (e.status !== 404) return left.push(el), err = e
        el.hidden = false
        f(el, 'merchant').textContent = '找不到这个订单 Order not found'
        f(el, 'waiting').hidden = true
      }
    }))
    todo = left
    loading.textContent = err ? explain(err) : ''
    loading.hidden = !err
    if (tries >= 60) break   // about a minute
  }
  for (const el of todo) f(el, 'waiting').textContent = '商家还没有回复，请稍后刷新本页。The merchant has not answered yet; reload this page later.'
}

// -- start ---------------------------------------------------------------------
async function main() {
  const quiet = (p) => p.catch(() => {})
  const product = $('article.product[data-product-id]')
  if (product) productPage(product)
  const cartRoot = $('[data-cart]')
  if (cartRoot) quiet(cartPage(cartRoot))
  else quiet(loadCart())
  const ordersRoot = $('[data-orders]')
  if (ordersRoot) quiet(orders(ordersRoot))
  const favList = $('[data-favourites-list]'), fy = $('[data-for-you]')
  await Promise.all([favList && quiet(favourites(favList)), fy && quiet(forYou(fy))])
  for (const c of $$('.card[data-product-id]')) {
    favButton(c.dataset.productId, c)
    $('[data-favourite]', c).addEventListener('click', () => toggleFav(c.dataset.productId, tagsOf(c)))
  }
  await quiet(stock())
}
main()
