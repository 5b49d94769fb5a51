// The kqueue backend cannot run on Linux; its translation logic
// (native/kqueue_translate.h) can. This compiles the C++ unit test with the
// system compiler and checks its TAP output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kqueue-translate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kqueue translation (native/kqueue_translate.h)', () => {
  it('passes every case of test/native/kqueue_translate_test.cc', () => {
    const binary = join(dir, 'kqueue_translate_test');
    const cxx = process.env['CXX'] ?? 'g++';
    const build = spawnSync(
      cxx,
      ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-fsanitize=address,undefined', '-g', '-I', join(root, 'native'),
        join(root, 'test/native/kqueue_translate_test.cc'), '-o', binary],
      { encoding: 'utf8' },
    );
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const run = spawnSync(binary, [], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    const lines = run.stdout.trim().split('\n');
    const failed = lines.filter((l) => l.startsWith('not ok'));
    expect(failed).toEqual([]);
    expect(run.status).toBe(0);
    const plan = /^1\.\.(\d+)$/.exec(lines.at(-1) ?? '');
    expect(Number(plan?.[1])).toBe(lines.filter((l) => l.startsWith('ok ')).length);
    expect(Number(plan?.[1])).toBeGreaterThanOrEqual(15);
  }, 60_000);
});
