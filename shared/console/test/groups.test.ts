// O2: the same split as shared/core/src/order.rs group_cart.
import { describe, expect, it } from 'vitest';
import { groupCart, sumMoney, O2_LIMITS } from '../src/groups';

const cartOf = (spec: Array<[string, number]>) =>
  spec.flatMap(([seller, n]) => Array.from({ length: n }, (_, i) => ({ seller, domain: `${seller}-${i}.com` })));

describe('O2 payment groups', () => {
  it('one seller up to 50 domains is one group', () => {
    expect(groupCart(cartOf([['a', 50]])).map((g) => g.length)).toEqual([50]);
  });
  it('51 domains of one seller make two groups (50 + 1)', () => {
    expect(groupCart(cartOf([['a', 51]])).map((g) => g.length)).toEqual([50, 1]);
  });
  it('at most 40 sellers per group', () => {
    const sellers = Array.from({ length: 41 }, (_, i) => [`s${i}`, 1] as [string, number]);
    const groups = groupCart(cartOf(sellers));
    expect(groups.map((g) => new Set(g.map((x) => x.seller)).size)).toEqual([40, 1]);
  });
  it('at most 500 domains per group, first fit', () => {
    const sellers = Array.from({ length: 11 }, (_, i) => [`s${i}`, 50] as [string, number]);
    const groups = groupCart(cartOf(sellers));
    expect(groups.map((g) => g.length)).toEqual([500, 50]);
  });
  it("a seller's second chunk goes to a later group, not beside its first", () => {
    const groups = groupCart(cartOf([['a', 60], ['b', 5]]));
    expect(groups.map((g) => g.map((x) => x.seller).join('').replace(/(.)\1+/g, '$1'))).toEqual(['ab', 'a']);
    expect(groups.map((g) => g.length)).toEqual([55, 10]);
  });
  it('keeps the input order within a seller and respects every limit', () => {
    const cart = cartOf([['a', 120], ['b', 3], ['c', 77]]);
    const groups = groupCart(cart);
    expect(groups.flat().length).toBe(cart.length);
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(O2_LIMITS.maxDomains);
      const per = new Map<string, number>();
      for (const x of g) per.set(x.seller, (per.get(x.seller) ?? 0) + 1);
      expect(per.size).toBeLessThanOrEqual(O2_LIMITS.maxSellers);
      for (const n of per.values()) expect(n).toBeLessThanOrEqual(O2_LIMITS.maxPerSeller);
    }
    expect(groups[0].filter((x) => x.seller === 'a').map((x) => x.domain).slice(0, 2)).toEqual(['a-0.com', 'a-1.com']);
  });
  it('an empty cart has no group', () => {
    expect(groupCart([])).toEqual([]);
  });
  it('sums money exactly', () => {
    expect(sumMoney(['1999.00', '0.1', '0.20'])).toBe('1999.30');
    expect(sumMoney([])).toBe('0.00');
  });
});
