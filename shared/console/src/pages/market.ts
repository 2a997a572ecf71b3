// Market: the search page (Q1: keyword, TLDs, length, character class and pinyin syllables,
// prefix, suffix, contains, excluded characters, price and expiry ranges, sorts), with the
// counts per TLD, length and class, and the query kept in the address (shareable); a
// listing's page with its price, the domain's expiry, the cool-down countdown (L4) and
// "add to cart".
import { api, type FacetCount, type Listing, type SearchItem } from '../api';
import { addToCart, inCart } from '../cart';
import { serverNow } from '../clock';
import { normalizeTld } from '../domain';
import { fmt, t, type Key } from '../i18n';
import { daysUntil, filtersFromHash, hashOf, queryOf, type Filters, type SearchKey } from '../search';
import { accountId } from '../session';
import { h, clear, field, load, money, countdown, when, button, status } from '../ui';

function cooling(l: Listing): boolean {
  return Date.parse(l.buyable_at) > serverNow();
}

function cartButton(l: Listing): HTMLButtonElement {
  const b = button(inCart(l.domain) ? t('inCart') : t('addToCart'), () => {
    addToCart({ listing_id: l.id, domain: l.domain, domain_unicode: l.domain_unicode, seller: l.seller, price: l.price });
    b.textContent = t('inCart');
  }, { class: 'primary', 'data-action': 'add-to-cart', 'data-domain': l.domain });
  return b;
}

/** "Expires 1 Jan 2028 (in 389 days)": buyers check it before they buy (a trade does not renew it). */
function expiry(l: Listing): HTMLElement | null {
  if (!l.domain_expires_at) return null;
  const days = daysUntil(l.domain_expires_at, serverNow());
  return h('span', { class: 'muted small expiry', 'data-expires': l.domain_expires_at },
    fmt('domainExpiresIn', { date: when(l.domain_expires_at), days: String(days) }));
}

const CHARSETS: Array<[string, Key]> = [
  ['digits', 'csDigits'], ['letters', 'csLetters'], ['alnum', 'csAlnum'], ['hyphen', 'csHyphen'], ['idn', 'csIdn'], ['pinyin', 'csPinyin'],
];
const SORTS: Array<[string, Key]> = [
  ['newest', 'sortNewest'], ['relevance', 'sortRelevance'], ['price', 'sortPriceAsc'], ['-price', 'sortPriceDesc'],
  ['length', 'sortLength'], ['ending_soon', 'sortEndingSoon'], ['expiry', 'sortExpiry'],
];

function charsetLabel(value: string): string {
  const found = CHARSETS.find(([v]) => v === value);
  return found ? t(found[1]) : value;
}

function listingCard(l: SearchItem): HTMLElement {
  return h(
    'li',
    { class: 'listing', 'data-domain': l.domain },
    h('a', { href: `#/listing/${encodeURIComponent(l.id)}`, class: 'domain' }, l.domain_unicode),
    l.domain_unicode !== l.domain ? h('span', { class: 'muted small' }, l.domain) : null,
    h('span', { class: 'price' }, money(l.price)),
    h('span', { class: 'muted small traits' }, [fmt('lengthN', { n: String(l.length) }), charsetLabel(l.charset),
      l.pinyin_syllables ? fmt('syllablesN', { n: String(l.pinyin_syllables) }) : null].filter(Boolean).join(' · ')),
    expiry(l),
    cooling(l) ? h('span', { class: 'badge st-cooling' }, t('coolingDown'), ' ', countdown(l.buyable_at, 'buyableNow')) : null,
    cartButton(l),
  );
}

export function marketPage(root: HTMLElement): void {
  const filters: Filters = filtersFromHash(location.hash);
  const input = (name: SearchKey, attrs: Record<string, string> = {}) =>
    h('input', { name, value: filters[name] ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs });
  const results = h('div', { class: 'results' });
  const facetBox = h('aside', { class: 'facets', 'aria-label': t('facets') });
  // Any TLD, typed with or without the dot, in Unicode or punycode; common ones suggested.
  const tld = input('tld', { list: 'tld-list', placeholder: t('anyTld') });
  const tlds = h('datalist', { id: 'tld-list' }, ['com', 'cn', 'net', 'org', '中国', '公司', '网络'].map((v) => h('option', { value: v })));
  const q = input('q', { type: 'search', placeholder: t('keywordHint') });
  const charset = h('select', { name: 'charset' }, h('option', { value: '' }, t('anyCharset')),
    CHARSETS.map(([v, k]) => h('option', { value: v }, t(k))));
  charset.value = filters.charset ?? '';
  const syllables = h('select', { name: 'syllables' }, h('option', { value: '' }, t('anySyllables')),
    h('option', { value: '1' }, t('syl1')), h('option', { value: '2' }, t('syl2')), h('option', { value: '3' }, t('syl3')));
  syllables.value = filters.syllables ?? '';
  const pinyinOnly = () => { syllables.disabled = charset.value !== 'pinyin'; };
  charset.addEventListener('change', pinyinOnly);
  pinyinOnly();
  const minLen = input('min_len', { inputmode: 'numeric', placeholder: '1' });
  const maxLen = input('max_len', { inputmode: 'numeric', placeholder: '63' });
  const startsWith = input('starts_with');
  const endsWith = input('ends_with');
  const contains = input('contains');
  const excludes = input('excludes', { placeholder: '4' });
  const min = input('min_price', { inputmode: 'decimal', placeholder: '0.00' });
  const max = input('max_price', { inputmode: 'decimal', placeholder: '100000.00' });
  const expiresAfter = input('expires_after', { type: 'date' });
  const expiresBefore = input('expires_before', { type: 'date' });
  const sort = h('select', { name: 'sort' }, SORTS.map(([v, k]) => h('option', { value: v }, t(k))));
  sort.value = filters.sort ?? (filters.q ? 'relevance' : 'newest');
  const more = h('details', { class: 'more-filters' }, h('summary', null, t('moreFilters')),
    h('div', { class: 'filters' },
      field(t('minLen'), minLen), field(t('maxLen'), maxLen), field(t('startsWith'), startsWith), field(t('endsWith'), endsWith),
      field(t('contains'), contains), field(t('excludes'), excludes),
      field(t('expiresAfter'), expiresAfter), field(t('expiresBefore'), expiresBefore)));
  if (['min_len', 'max_len', 'starts_with', 'ends_with', 'contains', 'excludes', 'expires_after', 'expires_before'].some((k) => filters[k as SearchKey])) {
    more.open = true;
  }
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('keyword'), q), field(t('tld'), tld), tlds, field(t('charset'), charset), field(t('syllables'), syllables),
    field(t('minPrice'), min), field(t('maxPrice'), max), field(t('sort'), sort),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary', id: 'search' }, t('search'))),
    more,
  );
  const read = (): Filters => ({
    q: q.value, tld: normalizeTld(tld.value), charset: charset.value, syllables: syllables.disabled ? '' : syllables.value,
    min_len: minLen.value, max_len: maxLen.value, starts_with: startsWith.value, ends_with: endsWith.value,
    contains: contains.value, excludes: excludes.value, min_price: min.value, max_price: max.value,
    expires_after: expiresAfter.value, expires_before: expiresBefore.value, sort: sort.value,
  });
  // A facet value narrows the search to it.
  const narrow = (key: 'tld' | 'charset' | 'length', value: string) => {
    if (key === 'tld') tld.value = value;
    if (key === 'length') { minLen.value = value; maxLen.value = value; }
    if (key === 'charset') { charset.value = value; pinyinOnly(); }
    form.requestSubmit();
  };
  const facetList = (key: 'tld' | 'length' | 'charset', title: string, counts: FacetCount[] | undefined) =>
    counts && counts.length
      ? h('div', { class: 'facet', 'data-facet': key }, h('h3', null, title), h('ul', null, counts.slice(0, 12).map((c) =>
        h('li', null, button(`${key === 'charset' ? charsetLabel(String(c.value)) : String(c.value)} (${c.count.toLocaleString()})`,
          () => narrow(key, String(c.value)), { class: 'link', 'data-value': String(c.value) })))))
      : null;
  const run = (current: Filters, cursor?: string, append = false): Promise<void> => {
    const target = append ? h('div') : results;
    if (append) results.append(target);
    return load(target, async () => {
      const page = await api.listings({ ...queryOf(current), cursor, limit: 50, facets: append ? undefined : 'tld,length,charset' });
      if (!append) {
        clear(facetBox,
          facetList('tld', t('tld'), page.facets?.tld),
          facetList('length', t('facetLength'), page.facets?.length),
          facetList('charset', t('charset'), page.facets?.charset));
      }
      const total = h('p', { class: 'muted total', 'data-total': String(page.total) },
        page.total === 1 && !page.total_is_lower_bound
          ? t('matchesOne')
          : fmt(page.total_is_lower_bound ? 'matchesMore' : 'matches', { n: page.total.toLocaleString() }));
      const next = page.next_cursor
        ? button(t('loadMore'), (b) => { b.hidden = true; void run(current, page.next_cursor!, true).then(() => b.remove()); })
        : null;
      if (!page.items.length && !append) return h('p', { class: 'empty' }, t('noListings'));
      return [append ? null : total, h('ul', { class: 'listings' }, page.items.map(listingCard)), next];
    });
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const current = read();
    // The address keeps the query (no re-render: replaceState fires no hashchange).
    history.replaceState(null, '', location.pathname + location.search + hashOf(current));
    void run(current);
  });
  clear(root, h('h1', null, t('navMarket')), form, h('div', { class: 'market' }, facetBox, results));
  void run(filters);
}

export async function listingPage(root: HTMLElement, id: string): Promise<void> {
  const box = h('div');
  clear(root, h('p', null, h('a', { href: '#/market' }, '← ', t('backToMarket'))), box);
  await load(box, async () => {
    const l = await api.listing(id);
    const own = accountId() === l.seller;
    return h(
      'article',
      { class: 'card listing-detail', 'data-domain': l.domain },
      h('h1', { class: 'domain' }, l.domain_unicode),
      l.domain_unicode !== l.domain ? h('p', { class: 'muted' }, l.domain) : null,
      h('p', { class: 'big-price' }, money(l.price)),
      h('dl', { class: 'facts' },
        h('dt', null, t('status')), h('dd', null, status(l.status)),
        h('dt', null, t('seller')), h('dd', null, l.seller),
        h('dt', null, t('buyableAt')), h('dd', { id: 'buyable' }, when(l.buyable_at), ' ',
          cooling(l) ? h('span', { class: 'cooldown' }, t('coolingDown'), ' ', countdown(l.buyable_at, 'buyableNow')) : h('span', { class: 'badge st-active' }, t('buyableNow'))),
        h('dt', null, t('endsAt')), h('dd', null, when(l.ends_at)),
        l.domain_expires_at ? [h('dt', null, t('domainExpires')), h('dd', null, expiry(l))] : null,
        l.description ? [h('dt', null, t('description')), h('dd', null, l.description)] : null,
      ),
      cooling(l) ? h('p', { class: 'note' }, t('coolDownExplained')) : null,
      own ? h('p', { class: 'note' }, t('ownListing')) : null,
      l.status === 'active' ? h('p', null, cartButton(l), ' ', h('a', { href: '#/cart', class: 'button-link' }, t('goToCart'))) : null,
    );
  });
}
