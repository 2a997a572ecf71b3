// The API client: base from config, bearer token, Idempotency-Key, problem+json → ApiError,
// the server clock from the Date header, the in-flight count behind the spinner.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

describe('api client', () => {
  let calls: Array<{ url: string; init: RequestInit }> = [];
  let answer: () => Response;
  beforeEach(() => {
    vi.resetModules();
    vi.stubGlobal('localStorage', new MemStorage());
    calls = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answer();
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('sends a creating request whose answer was lost once more, with the same key', async () => {
    const { setConfig } = await import('../src/config');
    const { api } = await import('../src/api');
    setConfig({ api_base: '', sign_in: 'dev' });
    let tries = 0;
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      tries += 1;
      if (tries === 1) throw new TypeError('network error'); // committed, answer lost
      return new Response(JSON.stringify({ id: 'po_1', amount: '10.00', status: 'succeeded' }), { status: 202 });
    });
    const payout = await api.requestPayout('10.00');
    expect(payout.id).toBe('po_1');
    expect(calls).toHaveLength(2);
    const keys = calls.map((c) => (c.init.headers as Record<string, string>)['Idempotency-Key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('does not resend a reading request, and says the network failed', async () => {
    const { setConfig } = await import('../src/config');
    const { api, ApiError } = await import('../src/api');
    setConfig({ api_base: '', sign_in: 'dev' });
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      throw new TypeError('network error');
    });
    const failed = await api.payouts().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ApiError);
    expect((failed as InstanceType<typeof ApiError>).code).toBe('NETWORK');
    expect(calls).toHaveLength(1);
  });

  it('sends the token, the base and an idempotency key; parses the answer', async () => {
    const { setConfig } = await import('../src/config');
    const { setToken } = await import('../src/session');
    const { api } = await import('../src/api');
    setConfig({ api_base: '/api', sign_in: 'cognito' });
    setToken('tok');
    answer = () => new Response(JSON.stringify({ orders: [], rejected: [] }), { status: 201, headers: { Date: 'Thu, 26 Nov 2026 08:00:00 GMT' } });
    const placed = await api.placeOrder(['example.com'], 'pass');
    expect(placed).toEqual({ orders: [], rejected: [] });
    expect(calls[0].url).toBe('/api/orders');
    const h = calls[0].init.headers as Record<string, string>;
    expect(h.Authorization).toBe('Bearer tok');
    expect(h['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ domains: ['example.com'], captcha_token: 'pass' });
    const { serverNow } = await import('../src/clock');
    expect(Math.abs(serverNow() - Date.parse('2026-11-26T08:00:00.500Z'))).toBeLessThan(1000);
  });

  it('turns a problem into ApiError with code, errors and buyable_at', async () => {
    const { api, ApiError } = await import('../src/api');
    const problem = {
      type: 'https://market.example/problems/cooling-down', title: 'Listing cooling down', status: 409,
      detail: 'example.com can be ordered from …', code: 'COOLING_DOWN', buyable_at: '2026-11-26T08:03:00Z',
      errors: [{ domain: 'example.com', code: 'COOLING_DOWN', detail: '…', buyable_at: '2026-11-26T08:03:00Z' }],
    };
    answer = () => new Response(JSON.stringify(problem), { status: 409, headers: { 'Content-Type': 'application/problem+json' } });
    const e = await api.placeOrder(['example.com'], 'pass').catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(409);
    expect(e.code).toBe('COOLING_DOWN');
    expect(e.buyable_at).toBe('2026-11-26T08:03:00Z');
    expect(e.errors[0].domain).toBe('example.com');
  });

  it('answers NETWORK when the server cannot be reached, and counts calls in flight', async () => {
    const { api, onInFlight } = await import('../src/api');
    const seen: number[] = [];
    onInFlight((n) => seen.push(n));
    vi.stubGlobal('fetch', async () => { throw new TypeError('Failed to fetch'); });
    const e = await api.listings({}).catch((x) => x);
    expect(e.code).toBe('NETWORK');
    expect(seen).toEqual([1, 0]);
  });

  it('builds browse queries without empty filters and handles 204', async () => {
    const { api } = await import('../src/api');
    answer = () => new Response(JSON.stringify({ items: [], next_cursor: null }), { status: 200 });
    await api.listings({ tld: 'com', min_price: '', q: 'ex', sort: '-price' });
    expect(calls[0].url).toBe('/listings?tld=com&q=ex&sort=-price');
    answer = () => new Response(null, { status: 204 });
    await expect(api.setSecurityPassword('12345678')).resolves.toBeNull();
  });
});
