// The cart, kept in localStorage: listings the buyer means to order.
export interface CartItem {
  listing_id: string;
  domain: string;
  domain_unicode: string;
  seller: string;
  price: string;
}

const KEY = 'market.cart';
type Listener = () => void;
const listeners = new Set<Listener>();

export function cart(): CartItem[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? (v as CartItem[]) : [];
  } catch {
    return [];
  }
}

function save(items: CartItem[]): void {
  localStorage.setItem(KEY, JSON.stringify(items));
  listeners.forEach((l) => l());
}

export function addToCart(item: CartItem): void {
  const items = cart().filter((i) => i.domain !== item.domain);
  items.push(item);
  save(items);
}

export function removeFromCart(domains: string[]): void {
  save(cart().filter((i) => !domains.includes(i.domain)));
}

export function inCart(domain: string): boolean {
  return cart().some((i) => i.domain === domain);
}

export function onCartChange(l: Listener): void {
  listeners.add(l);
}
