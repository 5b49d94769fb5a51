// One error vocabulary: every code thrown anywhere in lib/ or native/ is in
// ERROR_CODES, every code there is thrown somewhere, and the table of
// docs/errors.md is the one generated from it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, sys } from '../lib/index.js';
import { codedError, codedRangeError, codedTypeError } from '../lib/errors.js';
// @ts-expect-error: a plain .mjs script without types
import { currentErrorTable, renderErrorTable } from '../scripts/error-table.mjs';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string, exts: RegExp): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => exts.test(f))
    .map((f) => join(dir, f));
}

// Every 'ERR_...' string literal in the shipped sources, by file.
function codesUsed(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of [...sources('lib', /\.ts$/), ...sources('native', /\.(cc|h)$/)]) {
    let text = readFileSync(join(root, file), 'utf8');
    // errors.ts lists every code: only what it throws itself counts (the
    // error classes' codes), not the list or the deprecated unions.
    if (file === join('lib', 'errors.ts')) text = text.replace(/export const ERROR_CODES = \{[^]*?\} as const;/, '').replace(/Extract<[^>]*>;/g, '');
    for (const m of text.matchAll(/['"](ERR_[A-Z0-9_]+)['"]/g)) {
      used.set(m[1]!, [...(used.get(m[1]!) ?? []), file]);
    }
  }
  return used;
}

describe('error codes', () => {
  const known = new Set(Object.keys(ERROR_CODES));
  const used = codesUsed();

  it('every code the sources use is in ERROR_CODES', () => {
    const unknown = [...used].filter(([code]) => !known.has(code)).map(([code, files]) => `${code} (${files.join(', ')})`);
    expect(unknown).toEqual([]);
  });

  it('every code in ERROR_CODES is used by some source', () => {
    expect([...known].filter((code) => !used.has(code))).toEqual([]);
  });

  it("docs/errors.md's table is the one generated from ERROR_CODES (node scripts/error-table.mjs regenerates it)", () => {
    const page = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    expect(currentErrorTable(page)).toBe(renderErrorTable(ERROR_CODES));
  });

  it('each entry names the error class its code comes as', () => {
    for (const [code, text] of Object.entries(ERROR_CODES)) {
      expect(text, code).toMatch(/^(Error|TypeError|RangeError|[A-Za-z]+Error)(\/(TypeError|RangeError))?: \S/);
    }
  });

  it('the factories make the class they name, with the code', () => {
    const cases = [
      [codedError('ERR_NOT_REGISTERED', 'm'), Error],
      [codedTypeError('ERR_INVALID_ARG_TYPE', 'm'), TypeError],
      [codedRangeError('ERR_OUT_OF_RANGE', 'm'), RangeError],
    ] as const;
    for (const [err, Class] of cases) {
      expect(err).toBeInstanceOf(Class);
      expect(err.message).toBe('m');
    }
    expect(cases.map(([err]) => err.code)).toEqual(['ERR_NOT_REGISTERED', 'ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']);
  });

  it('a code thrown by the addon arrives as listed (ERR_INVALID_ARG_TYPE from a native sys call)', () => {
    // The TypeScript wrapper checks first; the addon's own check is reached
    // only through the binding. A string is not a buffer to either.
    expect(() => sys.read(0, 'x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
