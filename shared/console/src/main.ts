import './style.css';
import { loadConfig, config } from './config';
import { onInFlight } from './api';
import { t, lang, setLang, onLangChange, type Key } from './i18n';
import { h, clear, tickCountdowns, problem } from './ui';
import { accountId, isAdmin, onSessionChange, setToken, token } from './session';
import { cart, onCartChange } from './cart';
import { finishCognitoSignIn, logoutUrl } from './pkce';
import { marketPage, listingPage } from './pages/market';
import { cartPage } from './pages/cart';
import { ordersPage, orderPage } from './pages/orders';
import { pushesPage } from './pages/pushes';
import { sellerPage, proceedsPage } from './pages/seller';
import { notificationsPage } from './pages/notifications';
import { adminPage } from './pages/admin';
import { signInPage } from './pages/signin';

type Page = (root: HTMLElement, arg: string) => void | Promise<void>;

const ROUTES: Record<string, { page: Page; title: Key; auth?: boolean }> = {
  market: { page: marketPage, title: 'navMarket' },
  listing: { page: listingPage, title: 'listingTitle' },
  cart: { page: cartPage, title: 'navCart' },
  orders: { page: ordersPage, title: 'navOrders', auth: true },
  order: { page: orderPage, title: 'orderTitle', auth: true },
  pushes: { page: pushesPage, title: 'navPushes', auth: true },
  seller: { page: sellerPage, title: 'navSeller', auth: true },
  proceeds: { page: proceedsPage, title: 'navProceeds', auth: true },
  notifications: { page: notificationsPage, title: 'navNotifications', auth: true },
  admin: { page: adminPage, title: 'navAdmin', auth: true },
  signin: { page: signInPage, title: 'signIn' },
};

const header = h('header', { class: 'top' });
const main = h('main', { id: 'main', tabindex: '-1' });
const globalSpin = h('span', { class: 'spinner global', hidden: true, role: 'status', 'aria-live': 'polite' });

function route(): { name: string; arg: string } {
  // `#/market?q=…`: the query after `?` belongs to the page (a shareable search).
  const m = /^#\/([a-z]+)(?:\/([^?]*))?(?:\?.*)?$/.exec(location.hash);
  if (!m || !ROUTES[m[1]]) return { name: 'market', arg: '' };
  let arg = m[2] ?? '';
  try {
    arg = decodeURIComponent(arg);
  } catch {
    // A malformed escape in a typed address: the text as it is.
  }
  return { name: m[1], arg };
}

function navLink(name: string, label: Key, extra?: Node): HTMLElement {
  const current = route().name === name || (name === 'market' && route().name === 'listing') || (name === 'orders' && route().name === 'order');
  return h('a', { href: `#/${name}`, 'aria-current': current ? 'page' : null, class: 'nav-link', 'data-nav': name }, t(label), extra ?? null);
}

function renderHeader(): void {
  const n = cart().length;
  const who = accountId();
  clear(
    header,
    h('a', { href: '#main', class: 'skip' }, t('skip')),
    h(
      'div',
      { class: 'bar' },
      h('a', { href: '#/market', class: 'brand' }, t('brand')),
      globalSpin,
      h(
        'div',
        { class: 'right' },
        h('button', { type: 'button', id: 'lang-toggle', class: 'ghost', lang: lang() === 'en' ? 'zh-CN' : 'en', onclick: () => setLang(lang() === 'en' ? 'zh' : 'en'), 'aria-label': `${lang() === 'en' ? '中文' : 'English'} — ${t('switchLangLabel')}` }, lang() === 'en' ? '中文' : 'English'),
        who
          ? [h('span', { class: 'who', 'data-account': who }, who), h('button', { type: 'button', class: 'ghost', id: 'sign-out', onclick: signOut }, t('signOut'))]
          : h('a', { href: '#/signin', class: 'nav-link', id: 'sign-in-link' }, t('signIn')),
      ),
    ),
    h(
      'nav',
      { 'aria-label': t('mainNav') },
      navLink('market', 'navMarket'),
      navLink('cart', 'navCart', n ? h('span', { class: 'count', 'data-cart-count': n }, String(n)) : undefined),
      who ? [navLink('orders', 'navOrders'), navLink('pushes', 'navPushes'), navLink('seller', 'navSeller'), navLink('proceeds', 'navProceeds'), navLink('notifications', 'navNotifications')] : null,
      who && isAdmin() ? navLink('admin', 'navAdmin') : null,
    ),
  );
}

function signOut(): void {
  setToken(null);
  const c = config();
  if (c.sign_in === 'cognito' && c.cognito) {
    location.assign(logoutUrl(c.cognito, location.origin + location.pathname));
    return;
  }
  location.hash = '#/signin';
}

let renderSeq = 0;
async function render(): Promise<void> {
  const seq = ++renderSeq;
  renderHeader();
  const { name, arg } = route();
  const r = ROUTES[name];
  document.title = `${t(r.title)} · ${t('brand')}`;
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  const root = h('div', { class: 'page', 'data-page': name });
  clear(main, root);
  if (r.auth && !token()) {
    clear(root, h('h1', null, t(r.title)), h('p', null, t('needSignIn'), ' ', h('a', { href: '#/signin' }, t('signIn'))));
    return;
  }
  try {
    await r.page(root, arg);
  } catch (e) {
    if (seq === renderSeq) root.append(problem(e));
  }
}

async function start(): Promise<void> {
  const app = document.getElementById('app')!;
  clear(app, header, main);
  await loadConfig();
  const c = config();
  const callback = new URLSearchParams(location.search);
  if (c.sign_in === 'cognito' && c.cognito && (callback.has('code') || callback.has('error'))) {
    try {
      // The hosted UI came back with a refusal (the user cancelled, a misconfigured client).
      const refused = callback.get('error');
      if (refused) throw new Error(callback.get('error_description') ?? refused);
      const done = await finishCognitoSignIn(c.cognito, location.search);
      if (done) {
        setToken(done.token);
        history.replaceState(null, '', location.pathname + done.back);
      }
    } catch (e) {
      // The callback's parameters are spent either way: a reload does not fail again.
      history.replaceState(null, '', location.pathname + location.hash);
      main.append(problem(e));
    }
  }
  onInFlight((n) => (globalSpin.hidden = n === 0));
  onLangChange(render);
  onSessionChange(renderHeader);
  onCartChange(renderHeader);
  window.addEventListener('hashchange', () => {
    void render();
    main.focus({ preventScroll: true });
  });
  setInterval(tickCountdowns, 500);
  await render();
}

void start();
