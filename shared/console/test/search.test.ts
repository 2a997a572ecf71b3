import { describe, expect, it } from 'vitest';
import { daysUntil, filtersFromHash, hashOf, queryOf } from '../src/search';

describe('search address', () => {
  it('keeps a search in the address and reads it back', () => {
    const hash = hashOf({ q: 'xiao', charset: 'pinyin', syllables: '2', sort: 'price', tld: '' });
    expect(hash).toBe('#/market?q=xiao&charset=pinyin&syllables=2&sort=price');
    expect(filtersFromHash(hash)).toEqual({ q: 'xiao', charset: 'pinyin', syllables: '2', sort: 'price' });
  });
  it('reads Unicode and leaves out unknown keys and blanks', () => {
    const back = filtersFromHash(hashOf({ q: '例子', tld: '中国' }) + '&colour=red&min_len=');
    expect(back).toEqual({ q: '例子', tld: '中国' });
    expect(filtersFromHash('#/market')).toEqual({});
  });
  it('sends syllables only with pinyin', () => {
    expect(queryOf({ charset: 'digits', syllables: '2' })).toEqual({ charset: 'digits' });
    expect(queryOf({ charset: 'pinyin', syllables: '2' })).toEqual({ charset: 'pinyin', syllables: '2' });
  });
  it('counts whole days to an expiry', () => {
    const now = Date.parse('2027-01-01T00:00:00Z');
    expect(daysUntil('2027-01-31T12:00:00Z', now)).toBe(30);
    expect(daysUntil('2026-12-31T00:00:00Z', now)).toBe(-1);
  });
});
