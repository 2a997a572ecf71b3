// O2: a cart splits into payment groups of at most 500 domains, from at most 40 sellers, with
// at most 50 domains of one seller. The same first-fit the server uses
// (shared/core/src/order.rs `group_cart`): sellers in order of first appearance; each seller's
// domains in chunks of `maxPerSeller`; each chunk goes to the first group that does not yet
// hold that seller, has fewer than `maxSellers` sellers and room for the chunk; else a new group.
export interface GroupLimits {
  maxDomains: number;
  maxSellers: number;
  maxPerSeller: number;
}

export const O2_LIMITS: GroupLimits = { maxDomains: 500, maxSellers: 40, maxPerSeller: 50 };

export function groupCart<T extends { seller: string }>(cart: T[], limits: GroupLimits = O2_LIMITS): T[][] {
  const bySeller = new Map<string, T[]>();
  for (const item of cart) {
    const list = bySeller.get(item.seller);
    if (list) list.push(item);
    else bySeller.set(item.seller, [item]);
  }
  const groups: T[][] = [];
  const groupSellers: string[][] = [];
  for (const [seller, items] of bySeller) {
    for (let start = 0; start < items.length; start += limits.maxPerSeller) {
      const chunk = items.slice(start, start + limits.maxPerSeller);
      let slot = groups.findIndex(
        (g, i) =>
          !groupSellers[i].includes(seller) &&
          groupSellers[i].length < limits.maxSellers &&
          g.length + chunk.length <= limits.maxDomains,
      );
      if (slot < 0) {
        groups.push([]);
        groupSellers.push([]);
        slot = groups.length - 1;
      }
      groupSellers[slot].push(seller);
      groups[slot].push(...chunk);
    }
  }
  return groups;
}

/** Sum of decimal money strings, exact (in cents), back to "1234.50". */
export function sumMoney(values: string[]): string {
  let cents = 0n;
  for (const v of values) cents += toCents(v);
  return fromCents(cents);
}

export function toCents(v: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(v.trim());
  if (!m) throw new Error(`not money: ${v}`);
  const c = BigInt(m[2]) * 100n + BigInt((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -c : c;
}

export function fromCents(c: bigint): string {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}
