import { describe, expect, it } from 'vitest';
import { normalizeTld } from '../src/domain';

describe('normalizeTld (A4)', () => {
  it('drops the dot and lower-cases', () => {
    expect(normalizeTld('.COM')).toBe('com');
    expect(normalizeTld(' cn ')).toBe('cn');
  });
  it('turns a Unicode TLD into punycode', () => {
    expect(normalizeTld('中国')).toBe('xn--fiqs8s');
    expect(normalizeTld('.中国')).toBe('xn--fiqs8s');
    expect(normalizeTld('xn--fiqs8s')).toBe('xn--fiqs8s');
  });
  it('leaves empty empty', () => {
    expect(normalizeTld('')).toBe('');
    expect(normalizeTld(' . ')).toBe('');
  });
});
