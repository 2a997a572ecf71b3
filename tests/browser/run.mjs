// Browser tests of the web console against a running local runner (MARKET_URL) with fresh
// demo data. Real clicks and typing in headless Chromium (the system's, never a downloaded
// one); screenshots of each page at desktop (1280×800) and phone (390×844) width.
//   MARKET_URL=http://127.0.0.1:3100 node tests/browser/run.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = (process.env.MARKET_URL ?? '').replace(/\/$/, '');
if (!BASE) {
  console.error('MARKET_URL is not set (e.g. http://127.0.0.1:3100)');
  process.exit(2);
}
// Each run writes its screenshots under target/ (never committed); the set in
// tests/browser/screenshots/ is refreshed on purpose: SCREENSHOTS_DIR=tests/browser/screenshots.
const SHOTS = process.env.SCREENSHOTS_DIR
  ? `${process.env.SCREENSHOTS_DIR.replace(/\/$/, '')}/`
  : fileURLToPath(new URL('../../target/console-screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TIMEOUT = 15_000;

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

// ---- helpers -------------------------------------------------------------------------------

async function api(method, path, body, account, roles) {
  const headers = { 'Content-Type': 'application/json' };
  if (account) headers.Authorization = `Bearer ${await tokenOf(account, roles)}`;
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const tokens = new Map();
async function tokenOf(account, roles) {
  const key = `${account}:${roles ?? ''}`;
  if (!tokens.has(key)) {
    const res = await fetch(`${BASE}/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(roles ? { account, roles } : { account }) });
    assert.equal(res.status, 200, `POST /dev/token for ${account}`);
    tokens.set(key, (await res.json()).token);
  }
  return tokens.get(key);
}

async function newPage(viewport = DESKTOP) {
  // A time zone 8 hours from UTC (the market's own): a local/UTC mix-up in a date field shows.
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept()); // "Cancel this order?" and the like: yes
  page.errors = errors;
  return page;
}

/** Signs in through the sign-in page by clicking a demo account. */
async function signIn(page, account) {
  await page.goto(`${BASE}/#/signin`);
  await page.locator(`button[data-account="${account}"]`).click();
  await page.waitForFunction(() => location.hash === '#/market');
  await page.locator('.who', { hasText: account }).waitFor();
}

async function go(page, hash) {
  const same = await page.evaluate((h) => location.hash === h, hash);
  if (same) await page.reload(); // the same hash is no navigation: load the page afresh
  else await page.evaluate((h) => { location.hash = h; }, hash);
  await page.locator(`.page[data-page="${hash.split('/')[1]}"]`).waitFor();
  await settle(page);
}

/** Waits until no API call is in flight and no loading block is shown. */
async function settle(page) {
  await page.waitForFunction(() => document.querySelector('.spinner.global')?.hidden !== false && !document.querySelector('.loading'));
}

/** Desktop and phone screenshots of the current page; at phone width nothing scrolls sideways. */
async function shot(page, name) {
  await settle(page);
  const vp = page.viewportSize();
  await page.setViewportSize(DESKTOP);
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top of a full-page shot
  await page.screenshot({ path: `${SHOTS}${name}-desktop.png`, fullPage: true });
  await page.setViewportSize(PHONE);
  await settle(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${SHOTS}${name}-phone.png`, fullPage: true });
  await page.setViewportSize(vp);
  assert.ok(overflow <= 0, `${name}: ${overflow}px of horizontal scroll at phone width`);
}

/** Polls `check` (which may nudge the server) until it is true. */
async function until(what, check, { tries = 40, every = 500 } = {}) {
  const t0 = Date.now();
  for (let i = 0; i < tries; i++) {
    if (await check(i)) { if (process.env.DEBUG_UNTIL) console.error(`# ${what}: ${i + 1} tries, ${Date.now() - t0} ms`); return; }
    await new Promise((r) => setTimeout(r, every));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function advance(seconds) {
  const r = await api('POST', '/dev/clock/advance', { seconds });
  assert.equal(r.status, 200, 'POST /dev/clock/advance');
}

/** A domain for alice, made by the operator (registered a year ago, a year to run). */
async function seedDomain(domain, owner = 'alice') {
  const now = Date.now();
  const r = await api('PUT', `/admin/domains/${encodeURIComponent(domain)}`, {
    owner,
    registered_at: new Date(now - 365 * 86400e3).toISOString(),
    expires_at: new Date(now + 365 * 86400e3).toISOString(),
  }, 'ops', ['admin']);
  assert.equal(r.status, 200, `PUT /admin/domains/${domain}: ${JSON.stringify(r.body)}`);
}

async function passCaptcha(scope) {
  await scope.getByLabel('I am human').check();
}

const BOB_SECURITY_PASSWORD = 'bob-secret-123';

/**
 * Accepts the push shown in `card` with the human check; when the account has a security
 * password (P12) the console says it is required, and it is typed in and sent again.
 * Returns whether the password was asked for.
 */
async function acceptPush(card, password) {
  let asked = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    await passCaptcha(card);
    await card.getByRole('button', { name: 'Accept' }).click();
    let outcome = '';
    await until('the accept to be answered', async () => {
      if ((await card.getAttribute('data-status')) === 'accepted') outcome = 'accepted';
      const shown = card.locator('.problem');
      if (!outcome && (await shown.count())) outcome = (await shown.getAttribute('data-code')) ?? 'problem';
      return outcome !== '';
    }, { tries: 40, every: 250 });
    if (outcome === 'accepted') return asked;
    assert.equal(outcome, 'SECURITY_PASSWORD_REQUIRED', `accept refused: ${outcome}`);
    assert.match(await card.locator('.problem').innerText(), /security password is required/);
    asked = true;
    await card.getByLabel('Security password').fill(password);
  }
  assert.fail('the push was not accepted');
}

/** Pays in the sandbox cashier the page was sent to, and waits to be back in the console. */
async function payInCashier(page) {
  await page.waitForURL(/\/dev\/payments\/.+\/complete/);
  await page.getByRole('heading', { name: 'Sandbox cashier' }).waitFor();
  await page.locator('#pay').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/dev/'));
  await page.locator('.page').waitFor();
}

// ---- scenarios -----------------------------------------------------------------------------

test('a. bob finds example.com, orders it through its payment group, pays in the sandbox and owns it', async () => {
  await advance(180); // example.com was just listed by the seed: past its cool-down (L4)
  const page = await newPage();
  await signIn(page, 'bob');

  // Market: filter by keyword and TLD.
  await page.getByLabel('Keyword').fill('example');
  await page.getByLabel('TLD').fill('.com');
  await page.getByRole('button', { name: 'Search' }).click();
  await settle(page);
  const card = page.locator('.listing[data-domain="example.com"]');
  await card.waitFor();
  assert.match(await card.innerText(), /¥1999\.00/);
  await shot(page, 'market');

  // Listing page.
  await card.getByRole('link', { name: 'example.com' }).click();
  await page.locator('.listing-detail[data-domain="example.com"]').waitFor();
  await settle(page);
  assert.match(await page.locator('.big-price').innerText(), /¥1999\.00/);
  await shot(page, 'listing');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.locator('[data-cart-count="1"]').waitFor();
  await page.getByRole('link', { name: 'Go to cart' }).click();

  // Cart: the payment group before ordering, the human check, the order.
  const group = page.locator('.group[data-group="1"]');
  await group.waitFor();
  assert.match(await group.innerText(), /Payment group 1 of 1/);
  assert.match(await group.innerText(), /1 domain\(s\) · 1 seller\(s\) · ¥1999\.00/);
  await passCaptcha(page);
  await shot(page, 'cart');
  await page.getByRole('button', { name: 'Place order' }).click();
  const placed = page.locator('#placed');
  await placed.waitFor();
  assert.match(await placed.locator('.countdown').innerText(), /^(10:00|9:\d\d)$/);

  // The unpaid orders (O4), each with its countdown.
  await page.getByRole('link', { name: 'Orders' }).click();
  const unpaid = page.locator('.order').first();
  await unpaid.waitFor();
  assert.match(await unpaid.innerText(), /example\.com/);
  assert.match(await unpaid.locator('.countdown').innerText(), /^(10:00|9:\d\d)$/);
  await shot(page, 'orders');

  // The order with its countdown from the server's pay_by.
  await unpaid.getByRole('link', { name: 'Details' }).click();
  await page.locator('#order-status').waitFor();
  await settle(page);
  const left = await page.locator('.countdown').first().innerText();
  assert.match(left, /^(10:00|9:\d\d)$/, `countdown shows ${left}`);
  assert.match(await page.locator('#order-status').innerText(), /awaiting payment/);
  await shot(page, 'order');

  // Pay in the sandbox cashier and come back.
  await page.getByRole('button', { name: 'Pay' }).click();
  await payInCashier(page);
  await page.locator('#order-status').waitFor();
  await until('the order to complete', async (i) => {
    if (i % 4 === 3) await api('POST', '/dev/sweep');
    const s = await page.locator('#order-status').innerText({ timeout: 2000 }).catch(() => '');
    if (/completed/.test(s)) return true;
    const refresh = page.getByRole('button', { name: 'Refresh status' });
    if (await refresh.isVisible().catch(() => false) && await refresh.isEnabled().catch(() => false)) await refresh.click().catch(() => {});
    else if (i % 4 === 1) await page.reload();
    return false;
  });
  await settle(page);
  await shot(page, 'order-completed');

  // My domains now lists example.com.
  await page.getByRole('link', { name: 'My domains' }).first().click();
  await page.locator('#my-domains .domain-row[data-domain="example.com"]').waitFor();
  await shot(page, 'my-domains');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('b. alice lists shop.cn and sees the cool-down countdown', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  await go(page, '#/seller');

  // fresh.cn was registered 2 days ago: refused, the rule explained (L2.2).
  await page.locator('.domain-row[data-domain="fresh.cn"]').getByRole('button', { name: /List for sale/ }).click();
  await page.getByLabel('Price').fill('100.00');
  await page.getByRole('button', { name: 'Publish listing' }).click();
  const refused = page.locator('#listing-form .problem');
  await refused.waitFor();
  assert.equal(await refused.getAttribute('data-code'), 'TOO_SOON_AFTER_REGISTRATION');
  assert.match(await refused.innerText(), /\.cn\/\.中国\/\.公司\/\.网络 domains can be traded 7 days after registration/);
  await shot(page, 'seller-refused');

  const row = page.locator('.domain-row[data-domain="shop.cn"]');
  await row.getByRole('button', { name: /List for sale/ }).click();
  assert.equal(await page.getByLabel('Domain', { exact: true }).inputValue(), 'shop.cn');
  await page.getByLabel('Price').fill('888.00');
  await page.getByLabel(/^Ends/).fill('2030-06-01T12:00'); // Asia/Shanghai: 04:00 UTC
  await page.getByLabel('Description').fill('Short .cn for a shop');
  await page.getByRole('button', { name: 'Publish listing' }).click();
  const ok = page.locator('#listing-published');
  await ok.waitFor();
  assert.match(await ok.innerText(), /shop\.cn listed at ¥888\.00/);
  assert.match(await ok.locator('.countdown').innerText(), /^(3:00|2:\d\d)$/);
  await settle(page);
  await shot(page, 'seller');

  // The listing page shows the cool-down with its countdown.
  await ok.getByRole('link', { name: 'View listing' }).click();
  await page.locator('.listing-detail[data-domain="shop.cn"]').waitFor();
  const cd = page.locator('.cooldown .countdown');
  assert.match(await cd.innerText(), /^(3:00|2:\d\d)$/);
  const first = await cd.innerText();
  await until('the countdown to tick', async () => (await cd.innerText()) !== first, { tries: 10, every: 400 });
  assert.match(await page.locator('.listing-detail').innerText(), /cannot be ordered for 3 minutes/);
  await shot(page, 'listing-cooling');

  // A change of price restarts the cool-down (L4).
  await go(page, '#/seller');
  const mine = page.locator('.listing-row[data-domain="shop.cn"]');
  await mine.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Price').fill('999.00');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const changed = page.locator('#listing-published');
  await changed.waitFor();
  assert.match(await changed.innerText(), /shop\.cn changed: ¥999\.00/);
  assert.match(await changed.locator('.countdown').innerText(), /^(3:00|2:\d\d)$/);
  // The end typed in local time is stored in UTC, and a price edit leaves it as it was.
  const listed = await api('GET', `/listings/${await changed.getAttribute('data-listing')}`);
  assert.equal(listed.body.ends_at, '2030-06-01T04:00:00Z');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('c. alice pushes a domain to bob; bob accepts, pays in the sandbox; the push completes', async () => {
  // The operator registers a domain to alice on the operator page (the registrar's side).
  const ops = await newPage();
  await signIn(ops, 'ops');
  await ops.getByRole('link', { name: 'Operator' }).click();
  const form = ops.locator('#admin-domain');
  await form.waitFor();
  await form.getByLabel('Domain').fill('pushdemo.com');
  await form.getByLabel('Owner').fill('alice');
  const local = (days) => new Date(Date.now() + days * 86400e3 + 8 * 3600e3).toISOString().slice(0, 16); // Asia/Shanghai
  await form.getByLabel('Registered at').fill(local(-400));
  await form.getByLabel('Expires at').fill(local(400));
  await form.getByRole('button', { name: 'Save' }).click();
  await form.locator('.success').waitFor();
  assert.match(await form.locator('.success').innerText(), /pushdemo\.com/);
  await shot(ops, 'operator');
  await ops.context().close();

  // Alice creates the push in the console.
  const seller = await newPage();
  await signIn(seller, 'alice');
  await go(seller, '#/pushes/new');
  await seller.getByLabel('pushdemo.com').check();
  await seller.getByLabel('Buyer account id').fill('bob');
  await seller.getByLabel('Asking price (¥)').fill('500.00');
  await seller.getByLabel(/Lock 60 days/).check();
  await seller.getByLabel('Message').fill('As agreed');
  await shot(seller, 'push-new');
  await seller.getByRole('button', { name: 'Publish push' }).click();
  const created = seller.locator('#push-created');
  await created.waitFor();
  const pushId = await created.getAttribute('data-push');
  assert.ok(pushId);
  await go(seller, '#/pushes/sent');
  await seller.locator(`.push[data-push="${pushId}"][data-status="pending"]`).waitFor();
  await shot(seller, 'push-sent');

  // Bob protects pushes with a security password (P12)...
  const buyer = await newPage();
  await signIn(buyer, 'bob');
  await go(buyer, '#/pushes/security');
  await buyer.getByLabel('New password').fill(BOB_SECURITY_PASSWORD);
  await buyer.getByRole('button', { name: 'Save' }).click();
  await buyer.locator('.success', { hasText: 'Saved.' }).waitFor();

  // ...sees the push in his inbox with the transfer fee, accepts it with the human check and,
  // once asked, his security password.
  await go(buyer, '#/pushes/received');
  const card = buyer.locator(`.push[data-push="${pushId}"]`);
  await card.waitFor();
  const text = await card.innerText();
  assert.match(text, /Registry transfer fee/);
  assert.match(text, /Accepting means paying ¥[\d.]+: price ¥500\.00/);
  assert.match(text, /Locked: after payment/);
  await shot(buyer, 'push-inbox');
  assert.equal(await acceptPush(card, BOB_SECURITY_PASSWORD), true, 'bob set a security password: it is asked for');

  // Pay like an order, in the sandbox cashier.
  await card.getByRole('button', { name: /^Pay ¥/ }).click();
  await payInCashier(buyer);
  await until('the push to complete', async (i) => {
    if (i % 4 === 3) await api('POST', '/dev/sweep');
    await go(buyer, '#/pushes/received');
    return (await buyer.locator(`.push[data-push="${pushId}"]`).getAttribute('data-status')) === 'completed';
  });
  await shot(buyer, 'push-completed');
  await go(buyer, '#/seller');
  await buyer.locator('.domain-row[data-domain="pushdemo.com"]').waitFor();
  assert.match(await buyer.locator('.domain-row[data-domain="pushdemo.com"]').innerText(), /Transfer lock until/);

  // Bob's notifications tell of the push; one is marked read.
  await go(buyer, '#/notifications');
  const notice = buyer.locator('.notice.unread').first();
  await notice.waitFor();
  await shot(buyer, 'notifications');
  const unreadBefore = await buyer.locator('.notice.unread').count();
  await notice.getByRole('button', { name: 'Mark read' }).click();
  await until('the notice to be read', async () => (await buyer.locator('.notice.unread').count()) === unreadBefore - 1, { tries: 20, every: 200 });

  // The seller's proceeds: the push money (no fee on a push, P8).
  await go(seller, '#/proceeds');
  await seller.locator('#balances').waitFor();
  const { balances } = (await api('GET', '/me/ledger?limit=1', undefined, 'alice')).body;
  assert.ok(Number(balances.frozen) >= 500, `the push's money is frozen for the settlement period: ${JSON.stringify(balances)}`);
  assert.equal(await seller.locator('[data-balance="frozen"]').innerText(), `¥${balances.frozen}`);
  assert.equal(await seller.locator('[data-balance="available"]').innerText(), `¥${balances.available}`);
  await shot(seller, 'proceeds');
  assert.deepEqual(buyer.errors, []);
  assert.deepEqual(seller.errors, []);
  await seller.context().close();
  await buyer.context().close();
});

test('d. refusals show the human explanation of their code', async () => {
  await seedDomain('refusal-demo.com');
  const listed = await api('POST', '/listings', { domain: 'refusal-demo.com', price: '120.00' }, 'alice');
  assert.equal(listed.status, 201, JSON.stringify(listed.body));
  const id = listed.body.id;

  const orderIt = async (account) => {
    const page = await newPage();
    await signIn(page, account);
    await go(page, `#/listing/${id}`);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await go(page, '#/cart');
    await passCaptcha(page);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('.problem').waitFor();
    return page;
  };

  // During the cool-down (L4): COOLING_DOWN with the time it opens.
  const bob = await orderIt('bob');
  const p1 = await bob.locator('.problem').innerText();
  assert.match(p1, /cannot be ordered yet \(3-minute cool-down, L4\)/);
  assert.match(p1, /Opens for orders at/);
  assert.equal(await bob.locator('.problem').getAttribute('data-code'), 'COOLING_DOWN');
  await shot(bob, 'refusal-cooling-down');
  await bob.context().close();

  // An unverified account (A1).
  const carol = await orderIt('carol');
  assert.match(await carol.locator('.problem').innerText(), /must be real-name verified/);
  assert.equal(await carol.locator('.problem').getAttribute('data-code'), 'NOT_VERIFIED');
  await shot(carol, 'refusal-not-verified');
  await carol.context().close();

  // The seller buying her own domain (O1), once the listing is open.
  await advance(180);
  const alice = await orderIt('alice');
  assert.match(await alice.locator('.problem').innerText(), /You cannot buy your own domain \(O1\)/);
  await shot(alice, 'refusal-self-purchase');
  await alice.context().close();

  // A cart that is partly orderable: the order is placed, the refused domain listed after it.
  await seedDomain('late-listing.com');
  const late = await api('POST', '/listings', { domain: 'late-listing.com', price: '80.00' }, 'alice');
  assert.equal(late.status, 201);
  const buyer = await newPage();
  await signIn(buyer, 'bob');
  for (const lid of [id, late.body.id]) {
    await go(buyer, `#/listing/${lid}`);
    await buyer.getByRole('button', { name: 'Add to cart' }).click();
  }
  await go(buyer, '#/cart');
  assert.match(await buyer.locator('.group[data-group="1"]').innerText(), /2 domain\(s\) · 1 seller\(s\) · ¥200\.00/);
  await passCaptcha(buyer);
  await buyer.getByRole('button', { name: 'Place order' }).click();
  await buyer.locator('#rejected').waitFor();
  const rejected = await buyer.locator('#rejected').innerText();
  assert.match(rejected, /late-listing\.com: This listing was just published or changed/);
  assert.match(await buyer.locator('#placed').innerText(), /¥120\.00/);
  assert.match(await buyer.locator('.group').innerText(), /late-listing\.com/, 'the refused domain stays in the cart');
  await shot(buyer, 'cart-rejected');

  // The buyer changes his mind: cancelling frees the listing at once.
  await buyer.locator('#placed').getByRole('link', { name: /^Order / }).click();
  await buyer.getByRole('button', { name: 'Cancel order' }).click();
  await buyer.locator('#order-status', { hasText: 'cancelled' }).waitFor();
  assert.deepEqual(buyer.errors, []);
  await buyer.context().close();
});

test('e. the language switch changes the text and is remembered; the phone-width market does not scroll sideways', async () => {
  const page = await newPage(PHONE);
  await page.goto(`${BASE}/#/market`);
  await page.locator('.page[data-page="market"]').waitFor();
  await settle(page);
  assert.equal(await page.locator('h1').innerText(), 'Market');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `market at 390px scrolls sideways by ${overflow}px`);

  await page.getByRole('button', { name: /Switch language/ }).click();
  await page.locator('h1', { hasText: '市场' }).waitFor();
  assert.equal(await page.locator('#lang-toggle').innerText(), 'English');
  assert.equal(await page.locator('#search').innerText(), '搜索');
  assert.equal(await page.getByRole('button', { name: 'Search' }).count(), 0, 'no English left on the button');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await shot(page, 'market-zh');

  await page.reload();
  await page.locator('h1', { hasText: '市场' }).waitFor();

  // By keyboard: the first Tab reaches the skip link; the toggle works with Enter.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
  await page.locator('#lang-toggle').focus();
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'solid', 'visible focus');
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'Market' }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('f. pushes without the lock: the seller withdraws one, and confirms another after payment', async () => {
  await seedDomain('withdrawn-push.com');
  await seedDomain('confirm-push.com');
  const seller = await newPage();
  await signIn(seller, 'alice');
  const publish = async (domain, price) => {
    await go(seller, '#/pushes/new');
    await seller.getByLabel(domain).check();
    await seller.getByLabel('Buyer account id').fill('bob');
    await seller.getByLabel('Asking price (¥)').fill(price);
    await seller.getByLabel(/No lock/).check();
    await seller.getByRole('button', { name: 'Publish push' }).click();
    await seller.locator('#push-created, form .problem').first().waitFor();
    const problem = seller.locator('form .problem');
    assert.equal(await problem.count(), 0, `publishing ${domain}: ${(await problem.count()) ? await problem.innerText() : ''}`);
    return seller.locator('#push-created').getAttribute('data-push');
  };
  const first = await publish('withdrawn-push.com', '10.00');
  const second = await publish('confirm-push.com', '20.00');

  // Withdraw the first while it is pending (P6).
  await go(seller, '#/pushes/sent');
  const w = seller.locator(`.push[data-push="${first}"]`);
  await w.getByRole('button', { name: 'Withdraw' }).click();
  await seller.locator(`.push[data-push="${first}"][data-status="withdrawn"]`).waitFor();

  // Bob accepts and pays the second.
  const buyer = await newPage();
  await signIn(buyer, 'bob');
  await go(buyer, '#/pushes/received');
  const card = buyer.locator(`.push[data-push="${second}"]`);
  assert.match(await card.innerText(), /Not locked: after payment the seller confirms/);
  await acceptPush(card, BOB_SECURITY_PASSWORD);
  await card.getByRole('button', { name: /^Pay ¥/ }).click();
  await payInCashier(buyer);
  await until('the push to await the seller', async () => {
    await go(buyer, '#/pushes/received');
    return (await buyer.locator(`.push[data-push="${second}"]`).getAttribute('data-status')) === 'awaiting_seller_confirmation';
  });
  assert.match(await buyer.locator(`.push[data-push="${second}"]`).innerText(), /Force the change now/);

  // Alice confirms the change of registrant (P9, not locked).
  await go(seller, '#/pushes/sent');
  const c = seller.locator(`.push[data-push="${second}"]`);
  assert.match(await c.innerText(), /The buyer has paid/);
  await shot(seller, 'push-confirm');
  await c.getByRole('button', { name: 'Confirm change of registrant' }).click();
  await seller.locator(`.push[data-push="${second}"][data-status="completed"]`).waitFor();
  assert.deepEqual(seller.errors, []);
  assert.deepEqual(buyer.errors, []);
  await seller.context().close();
  await buyer.context().close();
});

test('g. bob rejects a push; once settled, alice pays her proceeds out', async () => {
  await seedDomain('rejected-push.com');
  const pushed = await api('POST', '/pushes', { domains: ['rejected-push.com'], buyer: 'bob', price: '15.00', lock_60d: false }, 'alice');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const buyer = await newPage();
  await signIn(buyer, 'bob');
  await go(buyer, '#/pushes/received');
  const card = buyer.locator(`.push[data-push="${pushed.body.id}"]`);
  await card.getByRole('button', { name: 'Reject' }).click();
  await buyer.locator(`.push[data-push="${pushed.body.id}"][data-status="rejected"]`).waitFor();
  const still = await api('GET', `/pushes/${pushed.body.id}`, undefined, 'alice');
  assert.equal(still.body.status, 'rejected', 'the seller sees it rejected too');

  // S4: the sales of the scenarios above are frozen for the settlement period; after it they
  // are available, and S6: the seller pays all of it out to her Alipay account.
  await advance(8 * 86400);
  const before = await api('GET', '/me/ledger?limit=1', undefined, 'alice');
  const available = before.body.balances.available;
  assert.ok(Number(available) > 0, `alice has proceeds to pay out: ${JSON.stringify(before.body.balances)}`);
  const seller = await newPage();
  await signIn(seller, 'alice');
  await go(seller, '#/proceeds');
  await seller.getByRole('button', { name: 'Request payout' }).click();
  await seller.locator('.success', { hasText: `Payout of ¥${available} requested.` }).waitFor();
  await until('the payout to be listed as succeeded', async () => {
    await go(seller, '#/proceeds');
    return (await seller.locator('[data-payout] .badge.st-succeeded').count()) === 1;
  });
  assert.match(await seller.locator('[data-payout]').first().innerText(), new RegExp(`¥${available.replace('.', '\\.')}`));
  await shot(seller, 'proceeds-paid-out');
  const after = await api('GET', '/me/ledger?limit=1', undefined, 'alice');
  assert.equal(after.body.balances.available, '0.00', 'all of it went out');
  assert.deepEqual(buyer.errors, []);
  assert.deepEqual(seller.errors, []);
  await buyer.context().close();
  await seller.context().close();
});

test('h. when the payment window closes, the order page stops offering to pay (O3)', async () => {
  await seedDomain('late-pay.com');
  const listed = await api('POST', '/listings', { domain: 'late-pay.com', price: '12.00' }, 'alice');
  assert.equal(listed.status, 201, JSON.stringify(listed.body));
  await advance(180);
  const placed = await api('POST', '/orders', { domains: ['late-pay.com'], captcha_token: 'pass' }, 'bob');
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const id = placed.body.orders[0].id;
  const page = await newPage();
  await page.clock.install(); // the browser's own time, to move it past pay_by
  await signIn(page, 'bob');
  await go(page, `#/order/${id}`);
  const pay = page.locator('button[data-action="pay"]');
  assert.equal(await pay.isDisabled(), false);
  // Ten minutes pass with the page open and no call made: the countdown reaches zero and
  // the buttons the window closes are disabled, without asking the server.
  await page.clock.fastForward('10:01');
  await until('the pay button to close', async () => await pay.isDisabled(), { tries: 20, every: 250 });
  assert.equal(await page.locator('button[data-action="cancel"]').isDisabled(), true);
  assert.match(await page.locator('.deadline .countdown').innerText(), /closed/i);
  await shot(page, 'order-window-closed');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('i. a list longer than a page offers "Load more" until the server has no more', async () => {
  // 201 domains of one account (carol has none yet): "My domains" reads 200 a page.
  const owner = 'carol';
  const names = Array.from({ length: 201 }, (_, i) => `carol${String(i).padStart(3, '0')}.com`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(names.slice(i, i + 20).map((d) => seedDomain(d, owner)));
  }
  const page = await newPage();
  await signIn(page, owner);
  await go(page, '#/seller');
  const rows = page.locator('#my-domains .domain-row');
  assert.equal(await rows.count(), 200);
  const more = page.locator('#my-domains button[data-action="load-more"]');
  await more.click();
  await until('the last page to be shown', async () => (await rows.count()) === 201, { tries: 20, every: 250 });
  assert.equal(await more.count(), 0, 'no more to load');
  const shown = new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-domain'))));
  assert.equal(shown.size, 201, 'each domain once');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('j. the market is a search: pinyin and keyword filters, facet counts, the expiry on each card, an address that keeps the query', async () => {
  for (const [domain, price] of [['xiaomi.cn', '5000.00'], ['8888.net', '888.00']]) {
    await seedDomain(domain, 'alice');
    const listed = await api('POST', '/listings', { domain, price }, 'alice');
    assert.equal(listed.status, 201, JSON.stringify(listed));
  }
  const page = await newPage();
  // A shared address: the filters come from it.
  await page.goto(`${BASE}/#/market?charset=pinyin&syllables=2`);
  await page.locator('.page[data-page="market"]').waitFor();
  await settle(page);
  const card = page.locator('.listing[data-domain="xiaomi.cn"]');
  await card.waitFor();
  assert.equal(await page.locator('.listing[data-domain="example.com"]').count(), 0, 'not pinyin');
  assert.equal(await page.locator('select[name="charset"]').inputValue(), 'pinyin');
  assert.match(await card.innerText(), /Domain expires .* \(in \d+ days\)/);
  assert.match(await card.innerText(), /2 syllables/);
  await page.locator('.facet[data-facet="tld"] button[data-value="cn"]').waitFor();
  await shot(page, 'market-search');
  // A keyword search: the address keeps it, and a reload shows the same search.
  await page.locator('select[name="charset"]').selectOption('');
  await page.getByLabel('Keyword').fill('8888');
  await page.getByRole('button', { name: 'Search' }).click();
  await settle(page);
  await page.locator('.listing[data-domain="8888.net"]').waitFor();
  assert.match(await page.evaluate(() => location.hash), /q=8888/);
  await page.reload();
  await page.locator('.listing[data-domain="8888.net"]').waitFor();
  assert.equal(await page.getByLabel('Keyword').inputValue(), '8888');
  assert.equal(await page.locator('.total').getAttribute('data-total'), '1');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
