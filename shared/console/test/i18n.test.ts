import { describe, expect, it } from 'vitest';
import { DICTS, detectLang } from '../src/i18n';

describe('i18n', () => {
  it('has every key in both languages, none empty', () => {
    const en = Object.keys(DICTS.en).sort();
    expect(Object.keys(DICTS.zh).sort()).toEqual(en);
    for (const k of en) {
      expect(DICTS.en[k as keyof typeof DICTS.en].length, k).toBeGreaterThan(0);
      expect(DICTS.zh[k as keyof typeof DICTS.zh].length, k).toBeGreaterThan(0);
    }
  });
  it('keeps the same placeholders in both languages', () => {
    for (const k of Object.keys(DICTS.en) as Array<keyof typeof DICTS.en>) {
      const vars = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(vars(DICTS.zh[k]), k).toEqual(vars(DICTS.en[k]));
    }
  });
  it('defaults to the browser language, the stored choice first', () => {
    expect(detectLang(null, ['zh-CN', 'en'])).toBe('zh');
    expect(detectLang(null, ['en-US'])).toBe('en');
    expect(detectLang(null, ['fr-FR'])).toBe('en');
    expect(detectLang('zh', ['en-US'])).toBe('zh');
    expect(detectLang('en', ['zh-TW'])).toBe('en');
  });
});
