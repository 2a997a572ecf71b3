// Market: browse active listings (GET /listings) with TLD, price, keyword and sort filters;
// a listing's page with its price, the cool-down countdown (L4) and "add to cart".
import { api, type Listing } from '../api';
import { addToCart, inCart } from '../cart';
import { serverNow } from '../clock';
import { normalizeTld } from '../domain';
import { t } from '../i18n';
import { accountId } from '../session';
import { h, clear, field, load, money, countdown, when, button, status } from '../ui';

const filters = { tld: '', min_price: '', max_price: '', q: '', sort: 'newest' };

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

function listingCard(l: Listing): HTMLElement {
  return h(
    'li',
    { class: 'listing', 'data-domain': l.domain },
    h('a', { href: `#/listing/${encodeURIComponent(l.id)}`, class: 'domain' }, l.domain_unicode),
    l.domain_unicode !== l.domain ? h('span', { class: 'muted small' }, l.domain) : null,
    h('span', { class: 'price' }, money(l.price)),
    cooling(l) ? h('span', { class: 'badge st-cooling' }, t('coolingDown'), ' ', countdown(l.buyable_at, 'buyableNow')) : null,
    cartButton(l),
  );
}

export function marketPage(root: HTMLElement): void {
  const results = h('div', { class: 'results' });
  // Any TLD, typed with or without the dot, in Unicode or punycode; common ones suggested.
  const tld = h('input', { name: 'tld', list: 'tld-list', value: filters.tld, placeholder: t('anyTld'), autocomplete: 'off', spellcheck: 'false' });
  const tlds = h('datalist', { id: 'tld-list' }, ['com', 'cn', 'net', 'org', '中国', '公司', '网络'].map((v) => h('option', { value: v })));
  const min = h('input', { name: 'min_price', inputmode: 'decimal', placeholder: '0.00', value: filters.min_price, autocomplete: 'off' });
  const max = h('input', { name: 'max_price', inputmode: 'decimal', placeholder: '100000.00', value: filters.max_price, autocomplete: 'off' });
  const q = h('input', { name: 'q', type: 'search', value: filters.q, placeholder: t('keywordHint'), autocomplete: 'off' });
  const sort = h('select', { name: 'sort' },
    h('option', { value: 'newest' }, t('sortNewest')),
    h('option', { value: 'price' }, t('sortPriceAsc')),
    h('option', { value: '-price' }, t('sortPriceDesc')),
  );
  sort.value = filters.sort;
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('tld'), tld), tlds, field(t('minPrice'), min), field(t('maxPrice'), max), field(t('keyword'), q), field(t('sort'), sort),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary', id: 'search' }, t('search'))),
  );
  const run = (cursor?: string, append = false): Promise<void> => {
    const target = append ? h('div') : results;
    if (append) results.append(target);
    return load(target, async () => {
      const page = await api.listings({ ...filters, tld: normalizeTld(filters.tld), cursor, limit: 50 });
      // A page may be short, even empty, with more behind it (API: lists): only a page
      // without a cursor ends the results.
      const more = page.next_cursor
        ? button(t('loadMore'), (b) => { b.hidden = true; void run(page.next_cursor!, true).then(() => b.remove()); })
        : null;
      if (!page.items.length && !append && !more) return h('p', { class: 'empty' }, t('noListings'));
      return [h('ul', { class: 'listings' }, page.items.map(listingCard)), more];
    });
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    Object.assign(filters, { tld: normalizeTld(tld.value), min_price: min.value.trim(), max_price: max.value.trim(), q: q.value.trim(), sort: sort.value });
    void run();
  });
  clear(root, h('h1', null, t('navMarket')), form, results);
  void run();
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
        l.description ? [h('dt', null, t('description')), h('dd', null, l.description)] : null,
      ),
      cooling(l) ? h('p', { class: 'note' }, t('coolDownExplained')) : null,
      own ? h('p', { class: 'note' }, t('ownListing')) : null,
      l.status === 'active' ? h('p', null, cartButton(l), ' ', h('a', { href: '#/cart', class: 'button-link' }, t('goToCart'))) : null,
    );
  });
}
