// Orders: unpaid ones (O4) with the live 10-minute countdown from the server's `pay_by` (O3),
// pay (to the provider's cashier and back), refresh (O6), cancel; and one order's per-domain
// results (O9).
import { api, type Order, type Payment } from '../api';
import { t } from '../i18n';
import { h, clear, busy, button, pagedList, loadingBlock, problem, money, countdown, status, when, section } from '../ui';

/** What the payment window's end closes (O3). */
const PAY_ACTIONS = '[data-action="pay"],[data-action="cancel"]';

export function goPay(p: Payment): void {
  // Only the local sandbox cashier takes a `return` address: a provider's pay_url is a
  // signed request, which an added parameter would break (its return address is the
  // provider's own setting).
  const url = new URL(p.pay_url, location.href);
  if (url.pathname.startsWith('/dev/payments/')) url.searchParams.set('return', location.href);
  location.assign(url.href);
}

function actions(o: Order, after: (o: Order) => void, out: HTMLElement, detailHref = true): HTMLElement {
  const open = o.status === 'awaiting_payment';
  return h(
    'div',
    { class: 'actions' },
    open ? button(t('pay'), (b) => void busy(b, out, async () => goPay(await api.payOrder(o.id))), { class: 'primary', 'data-action': 'pay' }) : null,
    ['awaiting_payment', 'processing', 'paid'].includes(o.status)
      ? button(t('refresh'), (b) => void busy(b, out, async () => after(await api.refreshOrder(o.id))), { 'data-action': 'refresh' })
      : null,
    open ? button(t('cancelOrder'), (b) => void busy(b, out, async () => {
      if (!confirm(t('confirmCancel'))) return;
      after(await api.cancelOrder(o.id));
    }), { class: 'danger', 'data-action': 'cancel' }) : null,
    detailHref ? h('a', { href: `#/order/${encodeURIComponent(o.id)}`, class: 'button-link' }, t('details')) : null,
  );
}

function orderCard(o: Order): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const card = h('li', { class: 'card order', 'data-order': o.id });
  const draw = (x: Order): void => {
    clear(
      card,
      h('div', { class: 'row' }, h('strong', null, `${t('order')} ${x.id}`), status(x.status), h('span', { class: 'price' }, money(x.total))),
      h('p', { class: 'muted small' }, x.items.map((i) => i.domain_unicode).join(', ')),
      x.status === 'awaiting_payment' ? h('p', null, t('payWithinLeft'), ' ', countdown(x.pay_by, 'windowClosed', PAY_ACTIONS)) : null,
      actions(x, draw, out),
      out,
    );
  };
  draw(o);
  return card;
}

export function ordersPage(root: HTMLElement): void {
  let which: 'unpaid' | 'all' = 'unpaid';
  const list = h('div');
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('filter') });
  const draw = (): void => {
    clear(tabs,
      button(t('unpaidOrders'), () => { which = 'unpaid'; draw(); }, { 'aria-pressed': String(which === 'unpaid'), id: 'tab-unpaid' }),
      button(t('allOrders'), () => { which = 'all'; draw(); }, { 'aria-pressed': String(which === 'all'), id: 'tab-all' }),
    );
    void pagedList(list, (cursor) => api.myOrders(which, cursor), orderCard, 'noOrders');
  };
  clear(root, h('h1', null, t('navOrders')), h('p', { class: 'muted' }, t('o3Explained')), tabs, list);
  draw();
}

export async function orderPage(root: HTMLElement, id: string): Promise<void> {
  const box = h('div');
  clear(root, h('p', null, h('a', { href: '#/orders' }, '← ', t('navOrders'))), box);
  let polls = 0;
  const draw = (o: Order): void => {
    const out = h('div', { 'aria-live': 'polite' });
    clear(
      box,
      h('h1', null, `${t('order')} ${o.id}`),
      h('div', { class: 'card', 'data-order': o.id, 'data-status': o.status },
        h('dl', { class: 'facts' },
          h('dt', null, t('status')), h('dd', { id: 'order-status' }, status(o.status)),
          h('dt', null, t('total')), h('dd', null, money(o.total)),
          h('dt', null, t('placedAt')), h('dd', null, when(o.created_at)),
          h('dt', null, t('payBy')), h('dd', null, when(o.pay_by)),
          o.paid_at ? [h('dt', null, t('paidAt')), h('dd', null, when(o.paid_at))] : null,
          o.payment_failure_reason ? [h('dt', null, t('paymentFailed')), h('dd', null, o.payment_failure_reason)] : null,
        ),
        o.status === 'awaiting_payment' ? h('p', { class: 'deadline' }, t('payWithinLeft'), ' ', countdown(o.pay_by, 'windowClosed', PAY_ACTIONS), h('small', { class: 'muted' }, ' ', t('o3Short'))) : null,
        actions(o, draw, out, false),
        out,
      ),
      section(t('perDomain'),
        h('ul', { class: 'plain' }, o.items.map((i) =>
          h('li', { class: 'row', 'data-domain': i.domain },
            h('span', { class: 'domain' }, i.domain_unicode),
            h('span', { class: 'price' }, money(i.price)),
            status(i.status),
            i.failure ? h('span', { class: 'muted' }, i.failure) : null,
            i.refund ? h('span', null, t('refund'), ' ', money(i.refund)) : null,
          ))),
        o.status === 'completed' ? h('p', null, h('a', { href: '#/seller' }, t('seeMyDomains'))) : null,
      ),
    );
    // After coming back from the cashier the payment is being confirmed: follow it a while.
    if (['processing', 'paid'].includes(o.status) && polls < 30) {
      polls++;
      setTimeout(() => {
        if (!box.isConnected) return;
        api.order(o.id).then(draw, () => undefined);
      }, 2000);
    }
  };
  box.replaceChildren(loadingBlock());
  try {
    draw(await api.order(id));
  } catch (e) {
    clear(box, problem(e));
  }
}
