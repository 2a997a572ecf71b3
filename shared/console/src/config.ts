// Runtime configuration, read at start from config.json beside index.html.
// Local runner: {"api_base": "", "sign_in": "dev"}.
// Cloud: {"api_base": "/api", "sign_in": "cognito", "cognito": {"domain", "client_id"},
//         "captcha_site_key"?: "...", "captcha_script"?: "https://..."}.
export interface CognitoConfig {
  domain: string;
  client_id: string;
  /** Which token the API's JWT authorizer takes: "access" (default) or "id". */
  token_use?: 'access' | 'id';
  scope?: string;
}

export interface Config {
  api_base: string;
  sign_in: 'dev' | 'cognito';
  cognito?: CognitoConfig;
  captcha_site_key?: string;
  /** The widget script (default: Cloudflare Turnstile's, explicit render). */
  captcha_script?: string;
}

let current: Config = { api_base: '', sign_in: 'dev' };

export function config(): Config {
  return current;
}

export function setConfig(c: Config): void {
  current = c;
}

export async function loadConfig(): Promise<Config> {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (res.ok) {
      const c = (await res.json()) as Partial<Config>;
      current = {
        api_base: (c.api_base ?? '').replace(/\/$/, ''),
        sign_in: c.sign_in === 'cognito' ? 'cognito' : 'dev',
        cognito: c.cognito,
        captcha_site_key: c.captcha_site_key,
        captcha_script: c.captcha_script,
      };
    }
  } catch {
    // No config.json: local defaults.
  }
  return current;
}
