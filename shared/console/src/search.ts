// The market's search query as the console keeps it: in the page's address, so that a search
// can be bookmarked and shared (`#/market?q=xiao&charset=pinyin&syllables=2`).
import type { SearchQuery } from './api';

/** The filters the search page offers, in the order of the address. */
export const SEARCH_KEYS = [
  'q', 'tld', 'charset', 'syllables', 'min_len', 'max_len', 'starts_with', 'ends_with', 'contains', 'excludes',
  'min_price', 'max_price', 'expires_after', 'expires_before', 'sort',
] as const;
export type SearchKey = (typeof SEARCH_KEYS)[number];
export type Filters = Partial<Record<SearchKey, string>>;

/** The filters in an address's `#/market?…` part (unknown keys and blanks left out). */
export function filtersFromHash(hash: string): Filters {
  const at = hash.indexOf('?');
  const params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  const out: Filters = {};
  for (const k of SEARCH_KEYS) {
    const v = params.get(k)?.trim();
    if (v) out[k] = v;
  }
  return out;
}

/** The address of a search: `#/market` and the filters given. */
export function hashOf(filters: Filters): string {
  const params = new URLSearchParams();
  for (const k of SEARCH_KEYS) {
    const v = filters[k]?.trim();
    if (v) params.set(k, v);
  }
  const q = params.toString();
  return q ? `#/market?${q}` : '#/market';
}

/** The request of a search (syllables only with pinyin: the API refuses them otherwise). */
export function queryOf(filters: Filters): SearchQuery {
  const out: SearchQuery = {};
  for (const k of SEARCH_KEYS) {
    const v = filters[k]?.trim();
    if (v) out[k] = v;
  }
  if (out.charset !== 'pinyin') delete out.syllables;
  return out;
}

/** Whole days from `nowMs` to an ISO time (negative when past). */
export function daysUntil(iso: string, nowMs: number): number {
  return Math.floor((Date.parse(iso) - nowMs) / 86_400_000);
}
