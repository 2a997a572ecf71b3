// Seller: my domains with trade and lock state (GET /me/domains), publish / change / delist a
// listing (the rule that refused it explained by its code), and proceeds: balances (frozen /
// available, S4), payouts (S6) and the ledger (S1).
import { api, type Domain, type Listing } from '../api';
import { t, tOr, fmt } from '../i18n';
import { h, clear, busy, button, load, pagedList, money, countdown, status, when, field, section } from '../ui';
import { serverNow } from '../clock';

export function sellerPage(root: HTMLElement): void {
  const domains = h('div');
  const listings = h('div');
  const form = h('div');
  const reload = (): void => {
    void pagedList(domains, (cursor) => api.myDomains(cursor), (d) => domainRow(d, (dom) => listForm(form, dom, reload)), 'noDomains');
    void pagedList(listings, (cursor) => api.myListings(cursor), (l) => listingRow(l, reload), 'noMyListings');
  };
  clear(
    root,
    h('h1', null, t('navSeller')),
    section(t('myDomains'), h('div', { id: 'my-domains' }, domains)),
    h('div', { id: 'listing-form' }, form),
    section(t('myListings'), h('div', { id: 'my-listings' }, listings)),
  );
  listForm(form, '', reload);
  reload();
}

function domainRow(d: Domain, onList: (domain: string) => void): HTMLElement {
  return h(
    'li',
    { class: 'row domain-row', 'data-domain': d.domain },
    h('span', { class: 'domain' }, d.domain_unicode),
    h('span', { class: 'muted small' }, t('expires'), ' ', when(d.expires_at)),
    d.in_trade ? h('span', { class: 'badge st-trade' }, t('inTrade')) : h('span', { class: 'badge' }, t('notInTrade')),
    d.transfer_lock_until && Date.parse(d.transfer_lock_until) > serverNow()
      ? h('span', { class: 'badge st-locked' }, t('lockedUntil'), ' ', when(d.transfer_lock_until)) : null,
    d.transfer_out_locked ? h('span', { class: 'muted small' }, t('transferOutLocked'), d.transfer_out_locked_reason ? `: ${tOr(`lock_${d.transfer_out_locked_reason}`, d.transfer_out_locked_reason)}` : '') : null,
    !d.in_trade ? button(t('listForSale'), () => onList(d.domain), { 'data-action': 'list', 'aria-label': `${t('listForSale')} ${d.domain_unicode}` }) : null,
  );
}

function listForm(box: HTMLElement, domain: string, done: () => void, existing?: Listing): void {
  const out = h('div', { 'aria-live': 'polite' });
  const dom = h('input', { name: 'domain', value: existing?.domain_unicode ?? domain, required: true, disabled: Boolean(existing), autocomplete: 'off' });
  const price = h('input', { name: 'price', inputmode: 'decimal', required: true, value: existing?.price ?? '', placeholder: '1999.00' });
  // A datetime-local field is in the browser's time zone; ends_at is UTC.
  const localOf = (iso: string): string => {
    const d = new Date(iso);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  };
  const shownEnd = existing?.ends_at ? localOf(existing.ends_at) : '';
  const ends = h('input', { name: 'ends_at', type: 'datetime-local', value: shownEnd });
  const desc = h('textarea', { name: 'description', maxlength: '500', rows: '2' }, existing?.description ?? '');
  const submit = h('button', { type: 'submit', class: 'primary', id: 'publish-listing' }, existing ? t('saveChanges') : t('publishListing'));
  const form = h('form', { class: 'form' },
    field(t('domain'), dom),
    field(t('price'), price, t('feeNote')),
    field(t('endsAt'), ends, t('endsAtHint')),
    field(t('description'), desc),
    h('p', { class: 'muted small' }, existing ? t('changeRestartsCoolDown') : t('coolDownExplained')),
    h('div', { class: 'actions' }, submit, existing ? button(t('cancel'), () => listForm(box, '', done), { class: 'ghost' }) : null),
    out,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => {
      // Sent only when set and changed: an edit of the price keeps the end as it was.
      const endsAt = ends.value && ends.value !== shownEnd ? new Date(ends.value).toISOString() : undefined;
      const l = existing
        ? await api.changeListing(existing.id, { price: price.value.trim(), ends_at: endsAt, description: desc.value.trim() || undefined })
        : await api.publishListing({ domain: dom.value.trim(), price: price.value.trim(), ends_at: endsAt, description: desc.value.trim() || undefined });
      clear(out, h('div', { class: 'success', role: 'status', id: 'listing-published', 'data-listing': l.id },
        fmt(existing ? 'listingChanged' : 'listingPublished', { domain: l.domain_unicode, price: money(l.price) }), ' ',
        t('buyableIn'), ' ', countdown(l.buyable_at, 'buyableNow'), ' ',
        h('a', { href: `#/listing/${encodeURIComponent(l.id)}` }, t('viewListing'))));
      done();
    });
  });
  clear(box, section(existing ? fmt('editListing', { domain: existing.domain_unicode }) : t('newListing'), form));
  if (domain || existing) price.focus();
}

function listingRow(l: Listing, reload: () => void): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const active = l.status === 'active';
  const cooling = Date.parse(l.buyable_at) > serverNow();
  return h(
    'li',
    { class: 'card listing-row', 'data-listing': l.id, 'data-domain': l.domain },
    h('div', { class: 'row' },
      h('a', { href: `#/listing/${encodeURIComponent(l.id)}`, class: 'domain' }, l.domain_unicode),
      h('span', { class: 'price' }, money(l.price)),
      status(l.status),
      active && cooling ? h('span', { class: 'badge st-cooling' }, t('coolingDown'), ' ', countdown(l.buyable_at, 'buyableNow')) : null,
      l.end_reason ? h('span', { class: 'muted small' }, `${t('endReason')}: ${tOr(`end_${l.end_reason}`, l.end_reason)}`) : null,
    ),
    l.takedown ? h('p', { class: 'note' }, t('takenDownReason'), ' ', l.takedown.reason) : null,
    active ? h('div', { class: 'actions' },
      button(t('edit'), () => {
        const box = document.querySelector<HTMLElement>('#listing-form > div');
        if (box) { listForm(box, '', reload, l); box.scrollIntoView(); }
      }, { 'data-action': 'edit' }),
      button(t('delist'), (b) => void busy(b, out, async () => {
        if (!confirm(t('confirmDelist'))) return;
        await api.delist(l.id);
        reload();
      }), { class: 'danger', 'data-action': 'delist' }),
    ) : null,
    out,
  );
}

export function proceedsPage(root: HTMLElement): void {
  const balances = h('div');
  const payouts = h('div');
  const ledger = h('div');
  const out = h('div', { 'aria-live': 'polite' });
  const amount = h('input', { name: 'amount', inputmode: 'decimal', placeholder: t('allAvailable') });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('requestPayout'));
  const form = h('form', { class: 'form inline' }, field(t('amount'), amount, t('payoutHint')), submit, out);
  const reload = (): void => {
    void load(balances, async () => {
      // The seller's balances are the ledger's (S4); /me/balance is the buyer's prepaid one.
      const led = await api.ledger();
      return h('dl', { class: 'facts balances', id: 'balances' },
        h('dt', null, t('available')), h('dd', { 'data-balance': 'available' }, money(led.balances.available ?? '0.00')),
        h('dt', null, t('frozen')), h('dd', { 'data-balance': 'frozen' }, money(led.balances.frozen ?? '0.00')),
        led.balances.paying_out && led.balances.paying_out !== '0.00' ? [h('dt', null, t('payingOut')), h('dd', null, money(led.balances.paying_out))] : null,
      );
    });
    void pagedList(payouts, (cursor) => api.payouts(cursor), (p) =>
      h('li', { class: 'row', 'data-payout': p.id }, h('span', null, when(p.created_at)), h('span', { class: 'price' }, money(p.amount)), status(p.status),
        h('span', { class: 'muted small' }, p.payout_account), p.failure_reason ? h('span', { class: 'muted' }, p.failure_reason) : null), 'noPayouts');
    void load(ledger, async () => {
      // Oldest first: every page is read, so the newest entries are shown too.
      const items: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.ledger(cursor);
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      if (!items.length) return h('p', { class: 'empty' }, t('noLedger'));
      return h('ul', { class: 'plain ledger' }, items.map((e) => {
        const s = (k: string): string => (e[k] == null ? '' : String(e[k]));
        return h('li', { class: 'row' },
          h('span', null, when(s('at') || s('created_at'))),
          h('span', null, tOr(`ledger_${s('kind')}`, s('kind'))),
          h('span', { class: 'price' }, money(s('amount'))),
          s('order_id') ? h('span', { class: 'muted small' }, s('order_id')) : null,
          s('push_id') ? h('span', { class: 'muted small' }, s('push_id')) : null);
      }));
    });
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => {
      const p = await api.requestPayout(amount.value.trim() || undefined);
      clear(out, h('p', { class: 'success', role: 'status' }, fmt('payoutRequested', { amount: money(p.amount) })));
      reload();
    });
  });
  clear(
    root,
    h('h1', null, t('navProceeds')),
    section(t('balances'), h('p', { class: 'muted' }, t('s4Explained')), balances),
    section(t('payouts'), form, payouts),
    section(t('ledger'), ledger),
  );
  reload();
}
