import { describe, expect, it } from 'vitest';
import de from './de.json';
import en from './en.json';

function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function placeholders(obj: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object') walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else out[`${prefix}${k}`] = [...String(v).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!).sort();
    }
  };
  walk(obj, '');
  return out;
}

describe('translation catalogues', () => {
  it('English and German have the same keys', () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
  });
  it('every German string uses the same placeholders as the English one, and none is empty', () => {
    expect(placeholders(de)).toEqual(placeholders(en));
    for (const [k, v] of Object.entries(placeholders(en))) expect(v, k).toBeDefined();
    expect(keys(de).length).toBeGreaterThan(100);
  });
});
