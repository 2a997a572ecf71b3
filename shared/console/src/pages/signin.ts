// Sign-in. Local runner (sign_in "dev"): pick a demo account or type an id → POST /dev/token.
// Cloud (sign_in "cognito"): the Cognito hosted UI, authorization code with PKCE (pkce.ts).
import { api } from '../api';
import { config } from '../config';
import { t } from '../i18n';
import { startCognitoSignIn } from '../pkce';
import { accountId, setToken } from '../session';
import { h, clear, busy, button, field, section } from '../ui';

const DEMO: Array<{ id: string; roles?: string[]; what: 'demoSeller' | 'demoBuyer' | 'demoUnverified' | 'demoOperator' }> = [
  { id: 'alice', what: 'demoSeller' },
  { id: 'bob', what: 'demoBuyer' },
  { id: 'carol', what: 'demoUnverified' },
  { id: 'ops', roles: ['admin'], what: 'demoOperator' },
];

export function signInPage(root: HTMLElement): void {
  const out = h('div', { 'aria-live': 'polite' });
  const who = accountId();
  const done = (tok: string): void => {
    setToken(tok);
    location.hash = '#/market';
  };
  if (config().sign_in === 'cognito' && config().cognito) {
    clear(root, h('h1', null, t('signIn')),
      who ? h('p', null, t('signedInAs'), ' ', h('strong', null, who)) : null,
      section(t('signIn'), h('p', null, t('cognitoExplained')),
        button(t('signInCognito'), (b) => void busy(b, out, async () => location.assign(await startCognitoSignIn(config().cognito!))), { class: 'primary' }), out));
    return;
  }
  const id = h('input', { name: 'account', required: true, autocomplete: 'username' });
  const admin = h('input', { type: 'checkbox', name: 'admin' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signIn'));
  const form = h('form', { class: 'form' }, field(t('accountId'), id), h('label', { class: 'choice' }, admin, ' ', t('asOperator')), submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(submit, out, async () => done((await api.devToken(id.value.trim(), admin.checked ? ['admin'] : undefined)).token));
  });
  clear(
    root,
    h('h1', null, t('signIn')),
    who ? h('p', null, t('signedInAs'), ' ', h('strong', null, who)) : null,
    section(t('devSignIn'),
      h('p', { class: 'muted' }, t('devExplained')),
      h('div', { class: 'demo-accounts' }, DEMO.map((d) =>
        button(`${d.id} — ${t(d.what)}`, (b) => void busy(b, out, async () => done((await api.devToken(d.id, d.roles)).token)), { 'data-account': d.id }))),
      form,
      out),
  );
}
