// Cart: the O2 split into payment groups shown before ordering, the human check (O7), the
// order, then the per-domain refusals (`rejected`) and the orders created, each to be paid.
import { api, ApiError, type Placed } from '../api';
import { cart, removeFromCart, type CartItem } from '../cart';
import { captcha } from '../captcha';
import { groupCart, sumMoney } from '../groups';
import { t, fmt } from '../i18n';
import { token } from '../session';
import { h, clear, busy, button, money, countdown, refusals, status } from '../ui';

export function cartPage(root: HTMLElement): void {
  const out = h('div', { class: 'outcome', 'aria-live': 'polite' });
  const body = h('div');
  const draw = (): void => {
    const items = cart();
    if (!items.length) {
      clear(body, h('p', { class: 'empty' }, t('cartEmpty'), ' ', h('a', { href: '#/market' }, t('backToMarket'))));
      return;
    }
    const groups = groupCart(items);
    const cap = captcha();
    const err = h('div', { 'aria-live': 'assertive' });
    const order = button(t('placeOrder'), (b) =>
      void busy(b, err, async () => {
        if (!token()) throw new ApiError(401, 'UNAUTHENTICATED', '');
        const tok = cap.token();
        if (!tok) {
          err.replaceChildren(h('p', { class: 'problem', role: 'alert' }, t('captchaFirst')));
          return;
        }
        try {
          const placed = await api.placeOrder(items.map((i) => i.domain), tok);
          const done = placed.orders.flatMap((o) => o.items.map((i) => i.domain));
          removeFromCart(done);
          showPlaced(out, placed);
          draw();
        } finally {
          cap.reset();
        }
      }), { class: 'primary', id: 'place-order' });
    clear(
      body,
      h('p', { class: 'muted' }, t('o2Explained')),
      h('ol', { class: 'groups' }, groups.map((g, i) => groupView(g, i, groups.length, draw))),
      h('p', { class: 'total' }, t('cartTotal'), ' ', h('strong', null, money(sumMoney(items.map((i) => i.price))))),
      cap.el,
      order,
      err,
    );
  };
  clear(root, h('h1', null, t('navCart')), out, body);
  draw();
}

function groupView(g: CartItem[], i: number, n: number, redraw: () => void): HTMLElement {
  const sellers = new Set(g.map((x) => x.seller)).size;
  return h(
    'li',
    { class: 'card group', 'data-group': i + 1 },
    h('h2', null, fmt('groupTitle', { n: i + 1, of: n })),
    h('p', { class: 'muted' }, fmt('groupFacts', { domains: g.length, sellers, total: money(sumMoney(g.map((x) => x.price))) })),
    h('ul', { class: 'plain' }, g.map((item) =>
      h('li', { class: 'row', 'data-domain': item.domain },
        h('span', { class: 'domain' }, item.domain_unicode),
        h('span', { class: 'muted small' }, `${t('seller')}: ${item.seller}`),
        h('span', { class: 'price' }, money(item.price)),
        button(t('remove'), () => { removeFromCart([item.domain]); redraw(); }, { class: 'ghost', 'aria-label': `${t('remove')} ${item.domain_unicode}` }),
      ))),
  );
}

export function showPlaced(out: HTMLElement, placed: Placed): void {
  clear(
    out,
    placed.orders.length ? h('section', { class: 'card', id: 'placed' },
      h('h2', null, t('ordersPlaced')),
      h('p', null, t('payWithin')),
      h('ul', { class: 'plain' }, placed.orders.map((o) =>
        h('li', { class: 'row', 'data-order': o.id },
          h('a', { href: `#/order/${encodeURIComponent(o.id)}` }, `${t('order')} ${o.id}`),
          status(o.status),
          h('span', { class: 'price' }, money(o.total)),
          h('span', null, t('payBy'), ' ', countdown(o.pay_by, 'windowClosed')),
        ))),
    ) : null,
    placed.rejected.length ? h('section', { class: 'card', id: 'rejected' }, h('h2', null, t('rejectedTitle')), refusals(placed.rejected)) : null,
  );
}

