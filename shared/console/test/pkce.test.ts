// Cognito hosted UI: authorization code with PKCE (RFC 7636), URL and token request building.
import { describe, expect, it } from 'vitest';
import { authorizeUrl, base64url, challengeS256, finishCognitoSignIn, logoutUrl, makeVerifier, redirectUriOf, startCognitoSignIn, tokenRequest } from '../src/pkce';

const cfg = { domain: 'https://xxx.auth.eu-west-1.amazoncognito.com/', client_id: 'client123' };

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

describe('PKCE', () => {
  it('computes the RFC 7636 appendix B challenge', async () => {
    expect(await challengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
  it('makes verifiers of unreserved characters, 43..128 long', () => {
    const v = makeVerifier();
    expect(v).toMatch(/^[A-Za-z0-9\-._~]{64}$/);
    expect(makeVerifier(43)).toHaveLength(43);
    expect(() => makeVerifier(42)).toThrow();
    expect(makeVerifier()).not.toBe(v);
  });
  it('base64url has no padding or +/', () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe('-_-_');
  });
  it('builds the authorize URL', () => {
    const u = new URL(authorizeUrl(cfg, 'https://console.example/', 'st8', 'chal'));
    expect(u.origin + u.pathname).toBe('https://xxx.auth.eu-west-1.amazoncognito.com/oauth2/authorize');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      response_type: 'code', client_id: 'client123', redirect_uri: 'https://console.example/', scope: 'openid email profile',
      state: 'st8', code_challenge_method: 'S256', code_challenge: 'chal',
    });
  });
  it('accepts a domain without scheme', () => {
    expect(authorizeUrl({ domain: 'auth.example.com', client_id: 'c' }, 'r', 's', 'x')).toMatch(/^https:\/\/auth\.example\.com\/oauth2\/authorize\?/);
  });
  it('builds the token request', () => {
    const { url, init } = tokenRequest(cfg, 'the-code', 'https://console.example/', 'verif');
    expect(url).toBe('https://xxx.auth.eu-west-1.amazoncognito.com/oauth2/token');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(String(init.body)))).toEqual({
      grant_type: 'authorization_code', client_id: 'client123', code: 'the-code', redirect_uri: 'https://console.example/', code_verifier: 'verif',
    });
  });
  it('builds the logout URL and the redirect URI', () => {
    expect(logoutUrl(cfg, 'https://console.example/')).toBe('https://xxx.auth.eu-west-1.amazoncognito.com/logout?client_id=client123&logout_uri=https%3A%2F%2Fconsole.example%2F');
    expect(redirectUriOf({ origin: 'https://c.example', pathname: '/app/' })).toBe('https://c.example/app/');
  });
  it('round-trips: start stores verifier and state, finish checks state and exchanges the code', async () => {
    const store = new MemStorage() as unknown as Storage;
    const loc = { origin: 'https://c.example', pathname: '/', hash: '#/orders' } as Location;
    const url = new URL(await startCognitoSignIn(cfg, store, loc));
    const state = url.searchParams.get('state')!;
    const saved = JSON.parse(store.getItem('market.pkce')!);
    expect(url.searchParams.get('code_challenge')).toBe(await challengeS256(saved.verifier));
    let sent: URLSearchParams | null = null;
    const fetcher = (async (_u: string, init: RequestInit) => {
      sent = new URLSearchParams(String(init.body));
      return new Response(JSON.stringify({ access_token: 'AT', id_token: 'IT' }), { status: 200 });
    }) as unknown as typeof fetch;
    const done = await finishCognitoSignIn(cfg, `?code=abc&state=${state}`, store, loc, fetcher);
    expect(done).toEqual({ token: 'AT', back: '#/orders' });
    expect(sent!.get('code_verifier')).toBe(saved.verifier);
    expect(store.getItem('market.pkce')).toBeNull();
  });
  it('refuses a state mismatch', async () => {
    const store = new MemStorage() as unknown as Storage;
    const loc = { origin: 'https://c.example', pathname: '/', hash: '' } as Location;
    await startCognitoSignIn(cfg, store, loc);
    await expect(finishCognitoSignIn(cfg, '?code=abc&state=forged', store, loc)).rejects.toThrow(/state/);
  });
  it('does nothing without a code', async () => {
    expect(await finishCognitoSignIn(cfg, '', new MemStorage() as unknown as Storage, { origin: 'https://c.example', pathname: '/' })).toBeNull();
  });
});
