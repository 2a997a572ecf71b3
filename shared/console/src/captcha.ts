// The human check before ordering or accepting a push (O7).
// Local sandbox (sign_in "dev"): a checkbox "I am human" whose token is `pass`, the one the
// sandbox captcha accepts. In the cloud: the captcha service's widget (Cloudflare Turnstile
// by default, the service the stack's siteverify checks), loaded on first use from
// `captcha_script` with the site key `captcha_site_key` of config.json; its token is what
// the API verifies. It cannot be exercised locally (it needs the service).
import { config } from './config';
import { h } from './ui';
import { t } from './i18n';

export interface Captcha {
  el: HTMLElement;
  token(): string | null;
  reset(): void;
}

/** Turnstile's explicit-render API (the part used here). */
interface Widgets {
  render(el: HTMLElement, options: Record<string, unknown>): string;
  reset(id: string): void;
}

export const DEFAULT_CAPTCHA_SCRIPT = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';

let loading: Promise<Widgets> | null = null;

/** Loads the widget script once. */
function widgets(src: string): Promise<Widgets> {
  loading ??= new Promise<Widgets>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = () => {
      const api = (window as unknown as { turnstile?: Widgets }).turnstile;
      if (api) resolve(api);
      else reject(new Error('the captcha script defined no widget API'));
    };
    script.onerror = () => reject(new Error('the captcha script did not load'));
    document.head.append(script);
  }).catch((e: unknown) => {
    loading = null; // a later form tries again
    throw e;
  });
  return loading;
}

export function captcha(): Captcha {
  if (config().sign_in === 'dev') {
    const box = h('input', { type: 'checkbox', class: 'captcha-box' });
    const el = h('div', { class: 'captcha' }, h('label', null, box, ' ', t('iAmHuman')), h('small', { class: 'muted' }, t('captchaSandbox')));
    return { el, token: () => (box.checked ? 'pass' : null), reset: () => (box.checked = false) };
  }
  let token: string | null = null;
  let widget: { api: Widgets; id: string } | null = null;
  const mount = h('div', { class: 'captcha-widget' });
  const note = h('small', { class: 'muted' }, t('captchaCloud'));
  const el = h('div', { class: 'captcha' }, mount, note);
  const siteKey = config().captcha_site_key;
  if (siteKey) {
    widgets(config().captcha_script ?? DEFAULT_CAPTCHA_SCRIPT).then(
      (api) => {
        const id = api.render(mount, {
          sitekey: siteKey,
          callback: (value: string) => (token = value),
          'expired-callback': () => (token = null),
          'error-callback': () => (token = null),
        });
        widget = { api, id };
      },
      () => (note.textContent = t('captchaUnavailable')),
    );
  } else {
    note.textContent = t('captchaUnavailable');
  }
  return {
    el,
    token: () => token,
    reset: () => {
      token = null;
      if (widget) widget.api.reset(widget.id);
    },
  };
}
