// Cognito hosted UI sign-in: OAuth 2.0 authorization-code flow with PKCE (RFC 7636).
// GET {domain}/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state
//     &code_challenge_method=S256&code_challenge
// POST {domain}/oauth2/token (form) grant_type=authorization_code&client_id&code
//     &redirect_uri&code_verifier
import type { CognitoConfig } from './config';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** A code verifier of `length` (43..128) unreserved characters, from a CSPRNG. */
export function makeVerifier(length = 64, random: (n: number) => Uint8Array = randomBytes): string {
  if (length < 43 || length > 128) throw new Error('verifier length must be 43..128');
  const bytes = random(length);
  let out = '';
  // 66 symbols: reject bytes >= 198 (3*66) to avoid modulo bias.
  let i = 0;
  let pool = bytes;
  while (out.length < length) {
    if (i >= pool.length) {
      pool = random(length);
      i = 0;
    }
    const b = pool[i++];
    if (b < 198) out += UNRESERVED[b % 66];
  }
  return out;
}

export function randomBytes(n: number): Uint8Array {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return a;
}

export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** S256 challenge: BASE64URL(SHA-256(ASCII(verifier))). */
export async function challengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function domainBase(c: CognitoConfig): string {
  const d = c.domain.replace(/\/+$/, '');
  return /^https?:\/\//.test(d) ? d : `https://${d}`;
}

export function authorizeUrl(c: CognitoConfig, redirectUri: string, state: string, challenge: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: c.client_id,
    redirect_uri: redirectUri,
    scope: c.scope ?? 'openid email profile',
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
  });
  return `${domainBase(c)}/oauth2/authorize?${q.toString()}`;
}

export function tokenRequest(c: CognitoConfig, code: string, redirectUri: string, verifier: string): { url: string; init: RequestInit } {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: c.client_id,
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  return {
    url: `${domainBase(c)}/oauth2/token`,
    init: {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    },
  };
}

export function logoutUrl(c: CognitoConfig, logoutUri: string): string {
  const q = new URLSearchParams({ client_id: c.client_id, logout_uri: logoutUri });
  return `${domainBase(c)}/logout?${q.toString()}`;
}

/** The redirect URI registered with the app client: this page without query or hash. */
export function redirectUriOf(loc: { origin: string; pathname: string }): string {
  return loc.origin + loc.pathname;
}

const PKCE_KEY = 'market.pkce';

export async function startCognitoSignIn(c: CognitoConfig, storage: Storage = sessionStorage, loc: Location = location): Promise<string> {
  const verifier = makeVerifier();
  const state = base64url(randomBytes(16));
  storage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, back: loc.hash || '#/market' }));
  return authorizeUrl(c, redirectUriOf(loc), state, await challengeS256(verifier));
}

export interface TokenSet {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
}

/**
 * Completes the flow when the hosted UI redirected back with `?code=&state=`. Returns the token
 * and the hash route to go back to, or null when the URL carries no code.
 */
export async function finishCognitoSignIn(
  c: CognitoConfig,
  search: string,
  storage: Storage = sessionStorage,
  loc: { origin: string; pathname: string } = location,
  fetcher: typeof fetch = fetch,
): Promise<{ token: string; back: string } | null> {
  const q = new URLSearchParams(search);
  const code = q.get('code');
  if (!code) return null;
  const saved = storage.getItem(PKCE_KEY);
  storage.removeItem(PKCE_KEY);
  if (!saved) throw new Error('sign-in was not started here');
  const { verifier, state, back } = JSON.parse(saved) as { verifier: string; state: string; back: string };
  if (q.get('state') !== state) throw new Error('sign-in state mismatch');
  const { url, init } = tokenRequest(c, code, redirectUriOf(loc), verifier);
  const res = await fetcher(url, init);
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const tokens = (await res.json()) as TokenSet;
  const token = c.token_use === 'id' ? tokens.id_token ?? '' : tokens.access_token;
  return { token, back };
}
