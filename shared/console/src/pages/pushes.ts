// Priced pushes (P1-P12): received (accept with the human check and, where the account has
// one, the security password; reject), sent (withdraw, confirm), a new push with the 60-day
// lock choice explained, the transfer fee shown before acceptance, payment like an order.
import { api, type Push } from '../api';
import { captcha } from '../captcha';
import { t, fmt } from '../i18n';
import { h, clear, busy, button, pagedList, money, countdown, status, when, field, section } from '../ui';
import { goPay } from './orders';
import { remainingMs } from '../clock';

type Tab = 'received' | 'sent' | 'new' | 'security';

export function pushesPage(root: HTMLElement, arg: string): void {
  const tab: Tab = (['received', 'sent', 'new', 'security'] as const).find((x) => x === arg) ?? 'received';
  const body = h('div');
  clear(
    root,
    h('h1', null, t('navPushes')),
    h('nav', { class: 'tabs', 'aria-label': t('navPushes') },
      (['received', 'sent', 'new', 'security'] as const).map((x) =>
        h('a', { href: `#/pushes/${x}`, class: 'tab', 'aria-current': x === tab ? 'page' : null, id: `tab-${x}` }, t(`pushTab_${x}`)))),
    body,
  );
  if (tab === 'new') newPush(body);
  else if (tab === 'security') securityPassword(body);
  else void pagedList(body, (cursor) => api.myPushes(tab, cursor), (p) => pushCard(p, tab), 'noPushes');
}

function lockText(p: Push): string {
  return p.lock_60d ? t('lockYes') : t('lockNo');
}

function pushCard(p0: Push, role: 'received' | 'sent'): HTMLElement {
  const card = h('li', { class: 'card push', 'data-push': p0.id });
  const draw = (p: Push): void => {
    const out = h('div', { 'aria-live': 'polite' });
    card.dataset.status = p.status;
    const acts: Node[] = [];
    if (role === 'received' && p.status === 'pending') {
      const cap = captcha();
      const pw = h('input', { type: 'password', autocomplete: 'current-password', name: 'security_password' });
      acts.push(
        h('div', { class: 'accept-box' },
          h('p', null, fmt('acceptWillPay', { amount: money(p.amount_due), price: money(p.price), fee: money(p.transfer_fee) })),
          field(t('securityPassword'), pw, t('securityPasswordHint')),
          cap.el,
          h('div', { class: 'actions' },
            button(t('accept'), (b) => void busy(b, out, async () => {
              const tok = cap.token();
              if (!tok) {
                out.replaceChildren(h('p', { class: 'problem', role: 'alert' }, t('captchaFirst')));
                return;
              }
              try {
                const res = await api.acceptPush(p.id, { captcha_token: tok, security_password: pw.value || undefined });
                draw(res);
              } finally {
                cap.reset();
              }
            }), { class: 'primary', 'data-action': 'accept' }),
            button(t('reject'), (b) => void busy(b, out, async () => draw(await api.rejectPush(p.id))), { class: 'danger', 'data-action': 'reject' }),
          )),
      );
    }
    if (role === 'received' && p.status === 'accepted') {
      acts.push(h('div', { class: 'actions' },
        button(fmt('payAmount', { amount: money(p.amount_due) }), (b) => void busy(b, out, async () => {
          goPay(p.payment && remainingMs(p.payment.expires_at) > 0 ? p.payment : await api.payPush(p.id));
        }), { class: 'primary', 'data-action': 'pay' }),
        button(t('refresh'), (b) => void busy(b, out, async () => draw(await api.refreshPush(p.id))), { 'data-action': 'refresh' }),
      ));
    }
    if (role === 'received' && p.status === 'awaiting_seller_confirmation') {
      acts.push(h('p', { class: 'note' }, t('forceExplained')),
        h('div', { class: 'actions' }, button(t('forceChange'), (b) => void busy(b, out, async () => {
          if (!confirm(t('forceExplained'))) return;
          draw(await api.forcePush(p.id));
        }), { 'data-action': 'force' })));
    }
    if (role === 'sent' && p.status === 'pending') {
      acts.push(h('div', { class: 'actions' }, button(t('withdraw'), (b) => void busy(b, out, async () => draw(await api.withdrawPush(p.id))), { class: 'danger', 'data-action': 'withdraw' })));
    }
    if (role === 'sent' && p.status === 'awaiting_seller_confirmation') {
      acts.push(h('p', { class: 'note' }, t('confirmExplained')),
        h('div', { class: 'actions' }, button(t('confirmChange'), (b) => void busy(b, out, async () => draw(await api.confirmPush(p.id))), { class: 'primary', 'data-action': 'confirm' })));
    }
    clear(
      card,
      h('div', { class: 'row' }, h('strong', null, p.domains_unicode.join(', ')), status(p.status)),
      h('dl', { class: 'facts' },
        h('dt', null, role === 'received' ? t('from') : t('to')), h('dd', null, role === 'received' ? p.seller : p.buyer),
        h('dt', null, t('price')), h('dd', { class: 'price' }, money(p.price)),
        h('dt', null, t('transferFee')), h('dd', { class: 'fee' }, money(p.transfer_fee)),
        h('dt', null, role === 'received' ? t('amountDue') : t('buyerPays')), h('dd', null, h('strong', null, money(p.amount_due))),
        h('dt', null, t('lock60')), h('dd', null, lockText(p)),
        p.status === 'pending' ? [h('dt', null, t('expiresIn')), h('dd', null, countdown(p.expires_at, 'expired', '[data-action="accept"],[data-action="reject"]'))] : null,
        p.confirm_by && p.status === 'awaiting_seller_confirmation' ? [h('dt', null, t('confirmBy')), h('dd', null, when(p.confirm_by), ' (', countdown(p.confirm_by, 'timeUp'), ')')] : null,
        p.transfer_lock_until ? [h('dt', null, t('lockedUntil')), h('dd', null, when(p.transfer_lock_until))] : null,
        p.message ? [h('dt', null, t('message')), h('dd', null, p.message)] : null,
        p.end_reason ? [h('dt', null, t('endReason')), h('dd', null, p.end_reason)] : null,
        p.payment_failure_reason ? [h('dt', null, t('paymentFailed')), h('dd', null, p.payment_failure_reason)] : null,
      ),
      acts,
      out,
    );
  };
  draw(p0);
  return card;
}

function newPush(body: HTMLElement, flash: HTMLElement | null = null): void {
  const out = h('div', { 'aria-live': 'polite' });
  const domains = h('fieldset', { class: 'domains-pick' }, h('legend', null, t('domainsToPush')), h('p', { class: 'muted' }, t('loading')));
  const extra = h('input', { name: 'domains_extra', placeholder: 'example.com, 例子.中国', autocomplete: 'off' });
  const buyer = h('input', { name: 'buyer', required: true, autocomplete: 'off' });
  const price = h('input', { name: 'price', inputmode: 'decimal', required: true, placeholder: '0.00' });
  const lockYes = h('input', { type: 'radio', name: 'lock_60d', value: 'yes', checked: true });
  const lockNo = h('input', { type: 'radio', name: 'lock_60d', value: 'no' });
  const email = h('input', { name: 'buyer_email', type: 'email', autocomplete: 'off' });
  const message = h('textarea', { name: 'message', maxlength: '500', rows: '2' });
  const pw = h('input', { type: 'password', name: 'security_password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'publish-push' }, t('publishPush'));
  const form = h('form', { class: 'card form' },
    domains,
    field(t('moreDomains'), extra, t('moreDomainsHint')),
    field(t('buyerAccount'), buyer),
    field(t('askingPrice'), price, t('pushPriceHint')),
    h('fieldset', null, h('legend', null, t('lock60')),
      h('label', { class: 'choice' }, lockYes, ' ', h('span', null, h('strong', null, t('lockYesShort')), ' — ', t('lockYes'))),
      h('label', { class: 'choice' }, lockNo, ' ', h('span', null, h('strong', null, t('lockNoShort')), ' — ', t('lockNo')))),
    field(t('buyerEmail'), email),
    field(t('message'), message),
    field(t('securityPassword'), pw, t('securityPasswordHint')),
    h('p', { class: 'muted small' }, t('pushFeeNote')),
    submit, out,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => {
      const picked = [...domains.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((c) => c.value);
      const more = extra.value.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);
      const p = await api.publishPush({
        domains: [...picked, ...more],
        buyer: buyer.value.trim(),
        price: price.value.trim(),
        lock_60d: lockYes.checked,
        buyer_email: email.value.trim() || undefined,
        message: message.value.trim() || undefined,
        security_password: pw.value || undefined,
      });
      // A fresh form (the pushed domains are in a trade now), the confirmation above it.
      newPush(body, h('div', { class: 'success', role: 'status', id: 'push-created', 'data-push': p.id },
        fmt('pushCreated', { id: p.id, buyer: p.buyer }), ' ', h('a', { href: '#/pushes/sent' }, t('pushTab_sent'))));
    });
  });
  clear(body, flash, form);
  void api.myDomains().then(
    (page) => {
      const free = page.items.filter((d) => !d.in_trade);
      clear(domains, h('legend', null, t('domainsToPush')),
        free.length ? free.map((d) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: d.domain, name: 'domain' }), ' ', d.domain_unicode))
          : h('p', { class: 'muted' }, t('noFreeDomains')));
    },
    () => clear(domains, h('legend', null, t('domainsToPush'))),
  );
}

function securityPassword(body: HTMLElement): void {
  const out = h('div', { 'aria-live': 'polite' });
  const cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: '8', maxlength: '64', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('save'));
  const form = h('form', { class: 'card form' },
    h('p', { class: 'muted' }, t('securityExplained')),
    field(t('currentPassword'), cur, t('currentPasswordHint')),
    field(t('newPassword'), pw, t('passwordLength')),
    submit, out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => {
      await api.setSecurityPassword(pw.value, cur.value || undefined);
      clear(out, h('p', { class: 'success', role: 'status' }, t('saved')));
      form.reset();
    });
  });
  clear(body, section(t('pushTab_security'), form));
}

