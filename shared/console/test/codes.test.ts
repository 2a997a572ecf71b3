// Every problem code that openapi.yaml names has a human message in both languages.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CODE_MESSAGES } from '../src/i18n/codes';
import { codeMessage } from '../src/i18n';

const spec = parse(readFileSync(fileURLToPath(new URL('../../../openapi.yaml', import.meta.url)), 'utf8'));
const CODE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b/g;

function openapiCodes(): string[] {
  const codes = new Set<string>(spec.components.schemas.Problem.properties.code.enum);
  // Codes named in error responses' descriptions ("409: ALREADY_IN_TRADE, ...").
  const errorDescriptions: string[] = [];
  for (const item of Object.values<Record<string, { responses?: Record<string, { description?: string }> }>>(spec.paths)) {
    for (const op of Object.values(item)) {
      for (const [st, r] of Object.entries(op.responses ?? {})) if (/^[45]/.test(st) && r.description) errorDescriptions.push(r.description);
    }
  }
  for (const r of Object.values<{ description?: string }>(spec.components.responses)) if (r.description) errorDescriptions.push(r.description);
  for (const d of errorDescriptions) for (const m of d.match(CODE) ?? []) if (!['HTTP', 'JSON', 'HTML'].includes(m)) codes.add(m);
  // EXIT_BLOCKED's reasons (schema Reason.code).
  for (const m of String(spec.components.schemas.Reason.properties.code.description).match(/`([A-Z_]+)`/g) ?? []) codes.add(m.replace(/`/g, ''));
  return [...codes].sort();
}

describe('problem codes', () => {
  const codes = openapiCodes();
  it('finds the codes in openapi.yaml', () => {
    expect(codes.length).toBeGreaterThan(60);
    expect(codes).toContain('COOLING_DOWN');
    expect(codes).toContain('OPEN_LISTINGS');
  });
  it.each(codes)('%s has an English and a Chinese message', (code) => {
    const m = CODE_MESSAGES[code];
    expect(m, `no message for ${code}`).toBeDefined();
    expect(m.en.trim().length).toBeGreaterThan(5);
    expect(m.zh.trim().length).toBeGreaterThan(3);
    expect(m.en).not.toEqual(m.zh);
    expect(/[\u4e00-\u9fff]/.test(m.zh)).toBe(true);
    expect(codeMessage(code, 'en')).toBe(m.en);
    expect(codeMessage(code, 'zh')).toBe(m.zh);
  });
  it('falls back to a generic message for an unknown code', () => {
    expect(codeMessage('SOMETHING_NEW', 'en')).toBe(CODE_MESSAGES.UNKNOWN.en);
  });
});
