// The one API client: every call goes through `call`, which adds the bearer token, counts calls
// in flight (the header spinner), keeps the server clock (Date header) and turns problem+json
// answers into ApiError with the stable `code`.
import { config } from './config';
import { syncServerClock } from './clock';
import { setToken, token } from './session';

export type Money = string;

export interface Listing {
  id: string;
  domain: string;
  domain_unicode: string;
  seller: string;
  price: Money;
  fee_rate: string;
  status: 'active' | 'sold' | 'ended';
  end_reason?: string | null;
  buyable_at: string;
  ends_at: string;
  description: string;
  created_at: string;
  updated_at: string;
  source?: string;
  /** The domain's expiry (a trade does not renew it); null on old listings. */
  domain_expires_at?: string | null;
  takedown?: { reason: string; taken_down_at: string } | null;
}

/** A listing found by the market's search (Q1). */
export interface SearchItem extends Listing {
  length: number;
  charset: 'digits' | 'letters' | 'alnum' | 'hyphen' | 'idn';
  pinyin_syllables?: number;
}

export interface FacetCount {
  value: string | number;
  count: number;
}

export interface SearchPage extends Page<SearchItem> {
  total: number;
  total_is_lower_bound: boolean;
  facets?: Record<string, FacetCount[]>;
}

/** The parameters of GET /listings (API.md "Search"), as the console sends them. */
export type SearchQuery = Partial<Record<
  'q' | 'tld' | 'min_len' | 'max_len' | 'charset' | 'syllables' | 'starts_with' | 'ends_with' | 'contains' | 'excludes'
  | 'min_price' | 'max_price' | 'expires_after' | 'expires_before' | 'sort' | 'facets' | 'cursor', string>> & { limit?: number };

export interface OrderItem {
  domain: string;
  domain_unicode: string;
  listing_id: string;
  seller: string;
  price: Money;
  status: 'pending' | 'completed' | 'failed';
  failure?: string | null;
  refund?: Money | null;
}

export type OrderStatus = 'awaiting_payment' | 'processing' | 'paid' | 'completed' | 'failed' | 'expired' | 'cancelled';

export interface Order {
  id: string;
  buyer: string;
  status: OrderStatus;
  total: Money;
  items: OrderItem[];
  pay_by: string;
  created_at: string;
  paid_at?: string | null;
  completed_at?: string | null;
  payment_failure_reason?: string | null;
}

export interface DomainRefusal {
  domain?: string | null;
  code: string;
  detail: string;
  buyable_at?: string | null;
}

export interface Placed {
  orders: Order[];
  rejected: DomainRefusal[];
}

export interface Payment {
  payment_id: string;
  out_trade_no: string;
  amount: Money;
  pay_url: string;
  expires_at: string;
}

export type PushStatus = 'pending' | 'accepted' | 'awaiting_seller_confirmation' | 'completed' | 'withdrawn' | 'rejected' | 'expired' | 'failed' | 'taken_down';

export interface Push {
  id: string;
  seller: string;
  buyer: string;
  domains: string[];
  domains_unicode: string[];
  price: Money;
  transfer_fee: Money;
  amount_due: Money;
  lock_60d: boolean;
  status: PushStatus;
  expires_at: string;
  created_at: string;
  message?: string | null;
  buyer_email?: string | null;
  confirm_by?: string | null;
  transfer_lock_until?: string | null;
  end_reason?: string | null;
  payment?: Payment | null;
  payment_failure_reason?: string | null;
}

export interface Domain {
  domain: string;
  domain_unicode: string;
  owner: string;
  registered_at: string;
  expires_at: string;
  in_trade: boolean;
  transfer_lock_until?: string | null;
  transfer_out_locked: boolean;
  transfer_out_locked_reason: string | null;
}

export interface Notification {
  id: string;
  kind: string;
  subject: string;
  body: string;
  created_at: string;
  read_at: string | null;
  order_id?: string | null;
  push_id?: string | null;
  payout_id?: string | null;
}

export interface Payout {
  id: string;
  amount: Money;
  status: 'pending' | 'succeeded' | 'failed';
  payout_account: string;
  created_at: string;
  updated_at: string;
  failure_reason?: string | null;
}

export interface Ledger {
  items: Array<Record<string, unknown>>;
  next_cursor: string | null;
  balances: { available?: Money; frozen?: Money; paying_out?: Money };
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public detail: string,
    public errors: DomainRefusal[] = [],
    public buyable_at: string | null = null,
    public extra: Record<string, unknown> = {},
  ) {
    super(`${code}: ${detail}`);
  }
}

type Listener = (inFlight: number) => void;
let inFlight = 0;
const listeners = new Set<Listener>();
export function onInFlight(l: Listener): void {
  listeners.add(l);
}
function bump(d: number): void {
  inFlight += d;
  listeners.forEach((l) => l(inFlight));
}

export interface CallOptions {
  /** Send an Idempotency-Key (POSTs that create something). */
  idempotent?: boolean;
  auth?: boolean;
}

/** How long a call may take before it counts as unanswered (a stalled connection). */
export const CALL_TIMEOUT_MS = 20_000;

export async function call<T>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const t = token();
  if (t && opts.auth !== false) headers.Authorization = `Bearer ${t}`;
  const key = opts.idempotent ? crypto.randomUUID() : null;
  if (key) headers['Idempotency-Key'] = key;
  bump(1);
  let res: Response | undefined;
  try {
    // A creating request whose answer was lost (no answer, or none in time) is sent once
    // more with the same key: the server answers it as it did the first time, so a payout
    // or an order is never made twice by the retry.
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await fetch(config().api_base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        });
      } catch (e) {
        if (!key || attempt >= 1) throw new ApiError(0, 'NETWORK', String(e));
      }
    }
  } finally {
    bump(-1);
  }
  syncServerClock(res.headers.get('Date'));
  // A token the server no longer takes (expired, bad signature): signed out.
  if (res.status === 401 && headers.Authorization) setToken(null);
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const p = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
    throw new ApiError(
      res.status,
      typeof p.code === 'string' ? p.code : 'UNKNOWN',
      typeof p.detail === 'string' ? p.detail : res.statusText,
      Array.isArray(p.errors) ? (p.errors as DomainRefusal[]) : [],
      typeof p.buyable_at === 'string' ? p.buyable_at : null,
      p,
    );
  }
  return data as T;
}

const qs = (params: Record<string, string | number | boolean | undefined | null>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};
const enc = encodeURIComponent;

export const api = {
  devToken: (account: string, roles?: string[]) =>
    call<{ token: string }>('POST', '/dev/token', roles && roles.length ? { account, roles } : { account }, { auth: false }),
  devSweep: () => call<unknown>('POST', '/dev/sweep'),

  listings: (p: SearchQuery) => call<SearchPage>('GET', `/listings${qs(p)}`),
  listing: (id: string) => call<Listing>('GET', `/listings/${enc(id)}`),
  publishListing: (b: { domain: string; price: string; ends_at?: string; description?: string }) =>
    call<Listing>('POST', '/listings', b, { idempotent: true }),
  changeListing: (id: string, b: { price?: string; ends_at?: string; description?: string }) =>
    call<Listing>('PATCH', `/listings/${enc(id)}`, b),
  delist: (id: string) => call<Listing>('DELETE', `/listings/${enc(id)}`),
  myListings: (cursor?: string) => call<Page<Listing>>('GET', `/me/listings${qs({ cursor })}`),

  placeOrder: (domains: string[], captcha_token: string) =>
    call<Placed>('POST', '/orders', { domains, captcha_token }, { idempotent: true }),
  order: (id: string) => call<Order>('GET', `/orders/${enc(id)}`),
  myOrders: (status: 'unpaid' | 'all', cursor?: string) => call<Page<Order>>('GET', `/me/orders${qs({ status, cursor })}`),
  payOrder: (id: string) => call<Payment>('POST', `/orders/${enc(id)}/pay`, { method: 'alipay' }, { idempotent: true }),
  refreshOrder: (id: string) => call<Order>('POST', `/orders/${enc(id)}/refresh`),
  cancelOrder: (id: string) => call<Order>('POST', `/orders/${enc(id)}/cancel`),

  myPushes: (role: 'sent' | 'received', cursor?: string) => call<Page<Push>>('GET', `/me/pushes${qs({ role, cursor })}`),
  push: (id: string) => call<Push>('GET', `/pushes/${enc(id)}`),
  publishPush: (b: { domains: string[]; buyer: string; price: string; lock_60d: boolean; buyer_email?: string; message?: string; security_password?: string }) =>
    call<Push>('POST', '/pushes', b, { idempotent: true }),
  acceptPush: (id: string, b: { captcha_token: string; security_password?: string }) =>
    call<Push>('POST', `/pushes/${enc(id)}/accept`, b, { idempotent: true }),
  rejectPush: (id: string) => call<Push>('POST', `/pushes/${enc(id)}/reject`),
  withdrawPush: (id: string) => call<Push>('POST', `/pushes/${enc(id)}/withdraw`),
  confirmPush: (id: string) => call<Push>('POST', `/pushes/${enc(id)}/confirm`),
  forcePush: (id: string) => call<Push>('POST', `/pushes/${enc(id)}/force`),
  payPush: (id: string) => call<Payment>('POST', `/pushes/${enc(id)}/pay`, { method: 'alipay' }, { idempotent: true }),
  refreshPush: (id: string) => call<Push>('POST', `/pushes/${enc(id)}/refresh`),
  setSecurityPassword: (password: string, current_password?: string) =>
    call<void>('PUT', '/me/security-password', current_password ? { password, current_password } : { password }),

  myDomains: (cursor?: string) => call<Page<Domain>>('GET', `/me/domains${qs({ cursor, limit: 200 })}`),
  ledger: (cursor?: string) => call<Ledger>('GET', `/me/ledger${qs({ cursor })}`),
  payouts: (cursor?: string) => call<Page<Payout>>('GET', `/me/payouts${qs({ cursor })}`),
  requestPayout: (amount?: string) => call<Payout>('POST', '/me/payouts', amount ? { amount } : {}, { idempotent: true }),

  notifications: (unread?: boolean, cursor?: string) => call<Page<Notification>>('GET', `/me/notifications${qs({ unread, cursor })}`),
  markRead: (id: string) => call<Notification>('POST', `/me/notifications/${enc(id)}/read`),

  adminPutAccount: (id: string, b: Record<string, unknown>) => call<Record<string, unknown>>('PUT', `/admin/accounts/${enc(id)}`, b),
  adminPutDomain: (d: string, b: Record<string, unknown>) => call<Record<string, unknown>>('PUT', `/admin/domains/${enc(d)}`, b),
  adminDomainEvent: (d: string, b: Record<string, unknown>) => call<Record<string, unknown>>('POST', `/admin/domains/${enc(d)}/events`, b),
  adminTransferOut: (d: string) => call<Record<string, unknown>>('GET', `/admin/domains/${enc(d)}/transfer-out`),
  adminPutFees: (b: Record<string, unknown>) => call<Record<string, unknown>>('PUT', '/admin/fees', b),
  adminTakedownListing: (id: string, reason: string) => call<Record<string, unknown>>('POST', `/admin/listings/${enc(id)}/takedown`, { reason }),
  adminTakedownPush: (id: string, reason: string) => call<Record<string, unknown>>('POST', `/admin/pushes/${enc(id)}/takedown`, { reason }),
};
