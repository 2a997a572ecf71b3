// Operator pages (role admin): accounts, domains and their events, fees, takedowns.
// The API has write routes only for these (PUT /admin/accounts/{id}, PUT /admin/domains/{d},
// POST .../events, PUT /admin/fees, POST .../takedown) plus GET .../transfer-out, so each form
// shows what the server answered rather than a list.
import { api } from '../api';
import { t } from '../i18n';
import { h, clear, busy, field, section } from '../ui';

function result(out: HTMLElement, data: unknown): void {
  const rows = data && typeof data === 'object'
    ? Object.entries(data as Record<string, unknown>).map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v))])
    : [h('dd', null, String(data))];
  clear(out, h('div', { class: 'success', role: 'status' }, h('p', null, t('done')), h('dl', { class: 'kv' }, rows)));
}

function form(title: string, fields: HTMLElement[], submitLabel: string, action: (out: HTMLElement) => Promise<unknown>, id: string): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const f = h('form', { class: 'form', id }, fields, submit, out);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => result(out, await action(out)));
  });
  return section(title, f);
}

const input = (name: string, attrs: Record<string, unknown> = {}) => h('input', { name, autocomplete: 'off', ...attrs });
const check = (name: string) => h('input', { type: 'checkbox', name });
const label = (box: HTMLInputElement, text: string) => h('label', { class: 'choice' }, box, ' ', text);
const iso = (v: string): string | undefined => (v ? new Date(v).toISOString() : undefined);

export function adminPage(root: HTMLElement): void {
  // Accounts
  const accId = input('account_id', { required: true });
  const verified = check('real_name_verified');
  const realName = input('real_name');
  const payout = input('payout_account');
  const email = input('email', { type: 'email' });
  const enterprise = check('enterprise');
  const locale = h('select', { name: 'locale' }, h('option', { value: '' }, '—'), h('option', { value: 'zh-CN' }, '中文 (zh-CN)'), h('option', { value: 'en' }, 'English (en)'));
  // Domains
  const dom = input('domain', { required: true });
  const owner = input('owner', { required: true });
  const reg = input('registered_at', { type: 'datetime-local', required: true });
  const exp = input('expires_at', { type: 'datetime-local', required: true });
  const flagNames = ['transfer_prohibited', 'pending_operation', 'restricted', 'special_product', 'blacklisted'];
  const flags = flagNames.map((n) => check(n));
  // Events
  const evDom = input('event_domain', { required: true });
  const evType = h('select', { name: 'type' }, ['renewed', 'deleted', 'transfer_out_started', 'owner_changed', 'auth_code_issued', 'blacklisted', 'restricted', 'transfer_prohibited'].map((x) => h('option', { value: x }, x)));
  const evExp = input('event_expires_at', { type: 'datetime-local' });
  const evOwner = input('event_owner');
  // Fees
  const feeKind = h('select', { name: 'kind' }, h('option', { value: 'fixed_price' }, t('feeFixed')), h('option', { value: 'push' }, t('feePush')));
  const rate = input('rate', { required: true, placeholder: '0.01', inputmode: 'decimal' });
  const from = input('from', { type: 'datetime-local' });
  const until = input('until', { type: 'datetime-local' });
  // Takedowns
  const tdKind = h('select', { name: 'what' }, h('option', { value: 'listing' }, t('listing')), h('option', { value: 'push' }, t('push')));
  const tdId = input('id', { required: true });
  const tdReason = h('textarea', { name: 'reason', required: true, maxlength: '500', rows: '2' });
  // Transfer-out check
  const toDom = input('transfer_out_domain', { required: true });

  clear(
    root,
    h('h1', null, t('navAdmin')),
    h('div', { class: 'grid' },
      form(t('adminAccounts'), [field(t('accountId'), accId), label(verified, t('realNameVerified')), field(t('realName'), realName), field(t('payoutAccount'), payout), field(t('email'), email), label(enterprise, t('enterprise')), field(t('locale'), locale)], t('save'),
        () => api.adminPutAccount(accId.value.trim(), {
          real_name_verified: verified.checked,
          real_name: realName.value.trim() || undefined,
          payout_account: payout.value.trim() || undefined,
          email: email.value.trim() || undefined,
          enterprise: enterprise.checked,
          locale: locale.value || undefined,
        }), 'admin-account'),
      form(t('adminDomains'), [field(t('domain'), dom), field(t('owner'), owner), field(t('registeredAt'), reg), field(t('expiresAt'), exp),
        h('fieldset', null, h('legend', null, t('flags')), flags.map((f, i) => label(f, flagNames[i])))], t('save'),
        () => api.adminPutDomain(dom.value.trim(), {
          owner: owner.value.trim(), registered_at: iso(reg.value), expires_at: iso(exp.value),
          flags: Object.fromEntries(flagNames.map((n, i) => [n, flags[i].checked])),
        }), 'admin-domain'),
      form(t('adminEvents'), [field(t('domain'), evDom), field(t('eventType'), evType), field(t('expiresAt'), evExp, t('forRenewed')), field(t('owner'), evOwner, t('forOwnerChanged'))], t('send'),
        () => api.adminDomainEvent(evDom.value.trim(), { type: evType.value, expires_at: iso(evExp.value), owner: evOwner.value.trim() || undefined }), 'admin-event'),
      form(t('adminTransferOut'), [field(t('domain'), toDom)], t('check'), () => api.adminTransferOut(toDom.value.trim()), 'admin-transfer-out'),
      form(t('adminFees'), [field(t('feeKind'), feeKind), field(t('rate'), rate, t('rateHint')), field(t('from'), from), field(t('until'), until)], t('save'),
        () => api.adminPutFees({ kind: feeKind.value, rate: rate.value.trim(), from: iso(from.value), until: iso(until.value) }), 'admin-fees'),
      form(t('adminTakedowns'), [field(t('what'), tdKind), field('ID', tdId), field(t('reason'), tdReason, t('reasonShownToSeller'))], t('takeDown'),
        () => (tdKind.value === 'push' ? api.adminTakedownPush(tdId.value.trim(), tdReason.value.trim()) : api.adminTakedownListing(tdId.value.trim(), tdReason.value.trim())), 'admin-takedown'),
    ),
  );
}
