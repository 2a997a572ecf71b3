// Notifications inbox (N1): unread / all, mark read.
import { api, type Notification } from '../api';
import { t } from '../i18n';
import { h, clear, busy, button, pagedList, when } from '../ui';

export function notificationsPage(root: HTMLElement): void {
  let unreadOnly = false;
  const list = h('div');
  const tabs = h('div', { class: 'tabs', role: 'group' });
  const draw = (): void => {
    clear(tabs,
      button(t('all'), () => { unreadOnly = false; draw(); }, { 'aria-pressed': String(!unreadOnly) }),
      button(t('unread'), () => { unreadOnly = true; draw(); }, { 'aria-pressed': String(unreadOnly) }));
    void pagedList(list, (cursor) => api.notifications(unreadOnly ? true : undefined, cursor), item, 'noNotifications');
  };
  clear(root, h('h1', null, t('navNotifications')), tabs, list);
  draw();
}

function item(n0: Notification): HTMLElement {
  const li = h('li', { class: 'card notice', 'data-notification': n0.id });
  const draw = (n: Notification): void => {
    const out = h('div');
    li.classList.toggle('unread', !n.read_at);
    const link = n.order_id ? h('a', { href: `#/order/${encodeURIComponent(n.order_id)}` }, t('order'))
      : n.push_id ? h('a', { href: '#/pushes/received' }, t('navPushes'))
      : n.payout_id ? h('a', { href: '#/proceeds' }, t('navProceeds')) : null;
    clear(li,
      h('div', { class: 'row' }, h('strong', null, n.subject), h('span', { class: 'muted small' }, when(n.created_at)), !n.read_at ? h('span', { class: 'badge st-unread' }, t('unread')) : null),
      h('p', { class: 'body' }, n.body),
      h('div', { class: 'actions' }, link,
        !n.read_at ? button(t('markRead'), (b) => void busy(b, out, async () => draw(await api.markRead(n.id))), { 'data-action': 'read' }) : null),
      out);
  };
  draw(n0);
  return li;
}
