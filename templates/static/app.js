// chuchuang: the fan's script. Favourites, "for you", cart, checkout, handoff and live stock.
// One ES module, no framework, no third-party requests; builds DOM with textContent only.
// Budget: at most 12 KB minified by rjsmin (tests/generator/test_page_weight.py), which strips
// comments and spaces but keeps names and strings: hence short names, shared helpers and messages.
const base = new URL('../', import.meta.url).pathname,   // this file is <base>assets/app.<hash>.js
  $ = (s, r = document) => r.querySelector(s),
  $$ = (s, r = document) => [...r.querySelectorAll(s)],
  pid = el => el?.dataset.productId,
  rel = u => (/^(\/|https?:)/.test(u) ? u : base + u),
  quiet = p => p.catch(() => {}),   // for what the page works without
  clone = name => $(`[data-${name}-template]`).content.firstElementChild.cloneNode(true),   // clone('card')
  field = (el, name) => $(`[data-field=${name}]`, el),
  // fill(card, { price: '¥1' }): the text of each [data-field] in el
  fill = (el, texts) => { for (const k in texts) field(el, k).textContent = texts[k] }
// h('a', 'text-link', 'See', { href }): a new element with a class, its text and attributes
const h = (tag, cls, text = '', attrs = {}) => {
  const e = document.createElement(tag)
  e.className = cls
  e.textContent = text
  for (const k in attrs) e.setAttribute(k, attrs[k])
  return e
}
const link = (text, path) => h('a', 'text-link', text, { href: base + path })

// -- storage (localStorage may be off: then nothing is remembered) --------------
const get = (k, d) => { try { return JSON.parse(localStorage.getItem('cc.' + k)) ?? d } catch { return d } },
  put = (k, v) => {   // put(k): forget k
    try { k = 'cc.' + k; v == null ? localStorage.removeItem(k) : localStorage.setItem(k, JSON.stringify(v)) } catch {}
  }

// -- API (same origin, so fetch's default credentials apply) --------------------
const fail = (code, message, more) => Object.assign(new Error(message), { code, ...more })
async function api(method, path, body, headers = {}) {
  if (!navigator.onLine) throw fail('offline')
  if (body) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(body)
  }
  let r
  try {
    r = await fetch('/api/' + path, { method, headers, body, cache: 'no-store' })
  } catch { throw fail('offline') }
  const data = await quiet(r.json())
  if (!r.ok) {
    const e = data?.error || {}
    throw fail(e.code || 'http', e.message || 'HTTP ' + r.status, { status: r.status, details: e.details })
  }
  return data
}

// -- messages -----------------------------------------------------------------
const SOLD = '已售罄 Sold out',
  fewLeft = n => `只剩 ${n} 件 · only ${n} left`,
  titles = {},                   // product id → title, from the page and from API answers
  names = get('pnames', {})      // product id → partner's display name (seen on product pages)
const explain = e => e.code == 'offline' ? '网络已断开，请联网后重试。You are offline; retry when connected.'
  : (e.code == 'out_of_stock' && e.details?.products?.map(p =>
    `「${titles[p.product_id]||p.product_id}」` + (p.available > 0 ? fewLeft(p.available) : SOLD)).join('；')) ||
    e.message || '出错了，请重试。Something went wrong; please retry.'

// -- money (display only; amounts are integer minor units) -----------------------
const fmts = {}
function money(m) {
  const f = fmts[m.currency] ||= new Intl.NumberFormat('zh-CN', { style: 'currency', currency: m.currency })
  return f.format(m.amount / 10 ** f.resolvedOptions().maximumFractionDigits)
}

// -- favourites and interest signals ------------------------------------------------
let favs = get('favs', [])
const tagsOf = el => (el.dataset.tags || '').split(',').filter(Boolean),
  press = (b, on) => b.setAttribute('aria-pressed', on)
function signal(tags, w) {
  const s = get('tags', {})
  for (const t of tags) s[t] = (s[t] || 0) + w   // what drops to 0 or below is forgotten
  put('tags', Object.fromEntries(Object.entries(s).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 60)))
}
// Shows (or adds) the favourite button of product `id` in `where`; `tagged` carries its tags.
function favButton(id, where, tagged) {
  let b = $('[data-favourite]', where)
  if (!b) {
    const icon = $('nav a[href$="favourites/"] svg')
    b = h('button', 'btn btn-fav', '', { type: 'button', 'data-favourite': '', 'data-product-id': id })
    b.append(icon ? icon.cloneNode(true) : '♡', h('span', 'visually-hidden', '收藏 Favourite'))
    where.append(b)
  }
  b.hidden = false
  press(b, favs.includes(id))
  b.onclick = () => {
    const on = !favs.includes(id)
    put('favs', favs = on ? [id, ...favs] : favs.filter(f => f != id))
    signal(tagsOf(tagged), on ? 3 : -3)
    for (const x of $$('[data-favourite]')) if (pid(x) == id) press(x, on)
  }
}

// -- cards built from /index.json (favourites page, "for you" shelf) ---------------------
let index
const loadIndex = () => (index ||= fetch(base + 'index.json').then(r => r.json()).then(d => d.products || []))
function card(p) {
  const el = clone('card'), [media, title, creator] = $$('a', el), img = $('img', el)
  el.dataset.productId = p.id
  el.dataset.tags = p.tags.join(',')
  media.href = title.href = rel(p.url)
  creator.href = base + p.id.split('--')[0] + '/'
  if (p.image) { img.src = rel(p.image); img.alt = p.title } else img.remove()
  fill(el, { title: p.title, creator: '@' + p.creator, price: p.price })
  field(el, 'partner')?.remove()   // the index carries no partner name
  el.classList.toggle('sold-out', p.sold_out)
  field(el, 'sold-out').hidden = !p.sold_out
  return el
}
async function favourites(list) {
  const all = await loadIndex()
  list.replaceChildren(...favs.map(id => all.find(p => p.id == id)).filter(Boolean).map(card))
  $('[data-empty]').hidden = list.children.length > 0
}
async function forYou(shelf) {
  const w = get('tags', {}), score = p => p.tags.reduce((s, t) => s + (w[t] || 0), 0)
  if (!Object.keys(w).length) return
  const picks = (await loadIndex()).filter(p => !p.sold_out && !favs.includes(p.id) && score(p) > 0)
    .sort((a, b) => score(b) - score(a) || (a.date < b.date ? 1 : -1)).slice(0, 8)
  if (!picks.length) return
  $('[data-for-you-list]', shelf).replaceChildren(...picks.map(card))
  shelf.hidden = false
}

// -- live stock ---------------------------------------------------------------
async function stock() {
  const ids = [...new Set($$('[data-stock-badge],[data-add-to-cart],.card').map(pid))].filter(Boolean)
  for (let i = 0; i < ids.length; i += 100) {
    const got = await api('GET', 'stock?ids=' + ids.slice(i, i + 100).map(encodeURIComponent).join(','))
    for (const el of $$('[data-product-id]')) if (got[pid(el)]) showStock(el, got[pid(el)].available)
  }
}
// One element of a product (its badge, its form or a card) shows n in stock.
function showStock(el, n) {
  const out = n <= 0, cl = el.classList
  if (el.matches('[data-stock-badge]')) {
    el.textContent = out ? SOLD : '库存 ' + n
    cl.toggle('is-out', out)
    cl.toggle('is-low', !out && n <= 5)
  } else if (el.matches('[data-add-to-cart]')) {
    const b = $('[data-add]', el), q = $('[name=quantity]', el)
    if (out) b.textContent = SOLD
    else if (b.textContent.includes('Sold out')) b.textContent = '加入购物车 Add to cart'
    b.disabled = q.disabled = out
    if (!out) q.max = n
  } else if (el.matches('.card')) {
    cl.toggle('sold-out', out)
    let badge = $('.sold-badge', el)
    if (out && !badge) $('.card-media', el).after(badge = h('span', 'sold-badge', SOLD))
    if (badge) badge.hidden = !out
  }
}

// -- cart -------------------------------------------------------------------------
let cart
const isOpen = () => cart?.status == 'open',
  line = id => cart.lines.find(l => l.product_id == id),
  itemPath = id => `carts/${cart.id}/items/${encodeURIComponent(id)}`,
  showCount = n => $$('[data-cart-count]').forEach(c => { c.textContent = n; c.hidden = !n })
function keep(c) {
  cart = c
  for (const l of c?.lines || []) titles[l.product_id] = l.title
  showCount(isOpen() ? c.item_count : 0)
  return c
}
async function loadCart() {
  const id = get('cart')
  try {
    return keep(id && await api('GET', 'carts/' + id))
  } catch (e) {
    if (e.status != 404) throw e
    put('cart')
    return keep(null)
  }
}
async function addToCart(id, q) {
  for (let retry = 0; ; retry++) {
    try {
      if (!isOpen()) await loadCart()
      if (!isOpen()) return put('cart', keep(await api('POST', 'carts', { items: [{ product_id: id, quantity: q }] })).id)
      return keep(await api('PUT', itemPath(id), { quantity: (line(id)?.quantity || 0) + q }))
    } catch (e) {
      if (retry || !['cart_checked_out', 'cart_not_found'].includes(e.code)) throw e
      put('cart')
      cart = null
    }
  }
}
function productPage(art) {
  const id = pid(art), form = $('[data-add-to-cart]', art), controls = $('[data-cart-controls]', form),
    partner = $('.partner strong', art)?.textContent,
    msg = h('p', 'cart-message', '', { role: 'status' }), say = t => { msg.textContent = t }
  titles[id] = art.dataset.title
  signal(tagsOf(art), 1)
  favButton(id, form, art)
  controls.hidden = false
  controls.after(msg)
  form.onsubmit = async ev => {
    ev.preventDefault()
    const b = $('[data-add]', form), q = parseInt($('[name=quantity]', form).value, 10)
    if (b.disabled) return
    if (!(q >= 1)) return say('请填写数量 Enter a quantity')
    b.disabled = true
    say('正在加入… Adding…')
    try {
      if (partner) put('pnames', Object.assign(names, { [id]: partner }))
      await addToCart(id, q)
      msg.replaceChildren('已加入购物车 Added to cart · ', link('去结算 View cart', 'cart/'))
    } catch (e) {
      say(explain(e))
    }
    b.disabled = false
    quiet(stock())
  }
}

// -- the cart page --------------------------------------------------------------------
const stepper = (d, label) => h('button', 'btn-icon', d < 0 ? '−' : '+', { type: 'button', 'data-step': d, 'aria-label': label })
async function cartPage(root) {
  const table = $('[data-cart-lines]'), checkout = $('[data-checkout]'), msg = $('[data-cart-message]'), say = t => { msg.textContent = t }
  let busy = false
  const render = () => {
    const lines = isOpen() ? cart.lines : [], n = lines.length
    $('[data-cart-empty]').hidden = n > 0
    table.hidden = !n
    checkout.disabled = busy || !n
    $('[data-cart-total]').textContent = n ? '合计 Total ' + cart.totals.map(money).join(' + ') : ''
    $('tbody', table).replaceChildren(...lines.map(l => {
      const tr = clone('cart-line'), a = field(tr, 'title'), q = field(tr, 'quantity'), label = q.closest('label')
      tr.dataset.productId = l.product_id
      a.href = rel(l.url)
      fill(tr, {
        title: l.title, partner: (names[l.product_id] || l.partner) + ' · ' + l.merchant,
        price: money(l.unit_price), total: money(l.line_total)
      })
      if (l.available < l.quantity) a.after(h('small', 'stock is-low', fewLeft(l.available)))
      q.value = l.quantity
      q.max = 99
      label.before(stepper(-1, '减少 Fewer'))
      label.after(stepper(1, '增加 More'))
      return tr
    }))
    for (const c of $$('input,button', table)) c.disabled = busy
  }
  // One change at a time, the controls disabled meanwhile; a job answering true leaves the page.
  const run = async job => {
    if (busy || !cart) return
    busy = true
    render()
    if (await job()) return
    busy = false
    render()
  }
  const change = (id, n) => run(async () => {
    try {
      keep(await (n > 0 ? api('PUT', itemPath(id), { quantity: n }) : api('DELETE', itemPath(id))))
      say('')
    } catch (e) {
      say(explain(e))
      await quiet(loadCart())
    }
  })
  root.onclick = ev => {
    const b = ev.target.closest('button'), id = pid(b?.closest('[data-product-id]'))
    if (!id) return
    if (b.matches('[data-remove]')) change(id, 0)
    else if (b.dataset.step) change(id, line(id).quantity + +b.dataset.step)
  }
  root.onchange = ev => {
    const t = ev.target, id = pid(t.closest('[data-product-id]')), n = t.value === '' ? NaN : +t.value
    if (!id) return
    if (Number.isInteger(n) && n >= 0) change(id, n)
    else { say('数量须为整数 Quantity must be a whole number'); render() }
  }
  checkout.onclick = () => run(async () => {
    say('正在下单… Placing the order…')
    let k = get('idem')   // one key per cart: survives a double click, a lost answer or a reload
    if (k?.cart != cart.id) put('idem', k = { cart: cart.id, key: crypto.getRandomValues(new Uint32Array(4)).join('-') })
    try {
      const r = await api('POST', `carts/${cart.id}/checkout`, {}, { 'Idempotency-Key': k.key })
      return handoff(r.orders.map(o => o.id))
    } catch (e) {
      if (e.code == 'cart_checked_out' && e.details?.order_ids?.length) return handoff(e.details.order_ids)
      say(explain(e))
      if (e.code == 'out_of_stock') await quiet(loadCart())
    }
  })
  try {
    await loadCart()
    if (cart?.status == 'checked_out') {
      put('cart')
      say('此购物车已结算 This cart is checked out: ')
      msg.append(link('查看订单 See your orders', ordersPath(cart.order_ids)))
    }
  } catch (e) {
    say(explain(e))
  }
  render()
}
const ordersPath = ids => 'checkout/?order=' + ids.join(',')
function handoff(ids) {
  put('cart')
  put('idem')
  showCount(0)
  location.assign(base + ordersPath(ids))
  return true
}

// -- the handoff page (/checkout/?order=a,b) ------------------------------------------------
const STATUS = {
  pending_handoff: '正在转交商家 Sending to the merchant', handed_off: '待付款 Waiting for payment',
  paid: '已付款 Paid', shipped: '已发货 Shipped', completed: '已完成 Completed',
  cancelled: '已取消 Cancelled', refunded: '已退款 Refunded'
}
async function orders(root) {
  const ids = (new URLSearchParams(location.search).get('order') || '').match(/\b[0-9a-f]{32}\b/g) || [],
    note = $('[data-orders-loading]', root)
  if (!ids.length) { note.textContent = '没有订单 No orders to show.'; return }
  // Fills an order's card; true once there is nothing more to wait for.
  const show = (el, o) => {
    const a = field(el, 'link'), url = o.handoff?.url || o.payment_url
    fill(el, {
      merchant: o.merchant, status: STATUS[o.status] || o.status, total: money(o.total),
      partner: names[o.lines[0]?.product_id] || o.partner
    })
    field(el, 'lines').replaceChildren(...o.lines.map(l => h('li', '', `${l.title} × ${l.quantity}  ${money(l.line_total)}`)))
    if (url && /^https?:$/.test(new URL(url, location.href).protocol)) {
      a.href = url
      a.hidden = false
    }
    const done = !a.hidden || ['cancelled', 'refunded', 'completed'].includes(o.status)
    field(el, 'waiting').hidden = done
    el.hidden = false
    return done
  }
  let todo = ids.map(id => {
    const el = clone('order')
    el.dataset.orderId = id
    el.hidden = true
    root.append(el)
    return el
  })
  for (let i = 0; todo.length && i <= 60; i++) {   // tries for about a minute
    if (i) await new Promise(r => setTimeout(r, 1000))
    const left = []
    let err
    await Promise.all(todo.map(async el => {
      try {
        if (!show(el, await api('GET', 'orders/' + el.dataset.orderId))) left.push(el)
      } catch (e) {
        if (e.status != 404) return left.push(el), err = e
        el.hidden = false
        fill(el, { merchant: '找不到订单 Order not found' })
        field(el, 'waiting').hidden = true
      }
    }))
    todo = left
    note.textContent = err ? explain(err) : ''
    note.hidden = !err
  }
  for (const el of todo) fill(el, { waiting: '商家尚未回复，请稍后刷新。No answer from the merchant yet; reload later.' })
}

// -- start ---------------------------------------------------------------------
const product = $('[data-product]'), cartRoot = $('[data-cart]'), ordersRoot = $('[data-orders]'),
  favList = $('[data-favourites-list]'), shelf = $('[data-for-you]')
if (product) productPage(product)
quiet(cartRoot ? cartPage(cartRoot) : loadCart())
if (ordersRoot) quiet(orders(ordersRoot))
await Promise.all([favList && quiet(favourites(favList)), shelf && quiet(forYou(shelf))])
for (const c of $$('.card[data-product-id]')) favButton(pid(c), c, c)
await quiet(stock())
