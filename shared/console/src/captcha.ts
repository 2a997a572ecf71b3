// The human check before ordering or accepting a push (O7).
// Local sandbox (sign_in "dev"): a checkbox "I am human" whose token is `pass`, the one the
// sandbox captcha accepts. In the cloud the site's siteverify widget belongs here: this is a
// placeholder that reads the site key from config.json (`captcha_site_key`) and takes the
// token the widget's script hands to `window.marketCaptchaDone(token)`; the real widget script
// is not bundled (it cannot be exercised locally).
import { config } from './config';
import { h } from './ui';
import { t } from './i18n';

export interface Captcha {
  el: HTMLElement;
  token(): string | null;
  reset(): void;
}

export function captcha(): Captcha {
  if (config().sign_in === 'dev') {
    const box = h('input', { type: 'checkbox', class: 'captcha-box' });
    const el = h('div', { class: 'captcha' }, h('label', null, box, ' ', t('iAmHuman')), h('small', { class: 'muted' }, t('captchaSandbox')));
    return { el, token: () => (box.checked ? 'pass' : null), reset: () => (box.checked = false) };
  }
  let tok: string | null = null;
  (window as unknown as { marketCaptchaDone?: (t: string) => void }).marketCaptchaDone = (t2: string) => (tok = t2);
  const el = h('div', { class: 'captcha', 'data-sitekey': config().captcha_site_key ?? '' }, h('small', { class: 'muted' }, t('captchaCloud')));
  return { el, token: () => tok, reset: () => (tok = null) };
}
