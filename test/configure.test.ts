// native/configure.mjs, the feature tests binding.gyp asks for: a compiler
// that cannot be started, or that cannot build an empty program, must stop
// the build with a clear message, never make every feature test "fail" and
// quietly leave out backends. CC is read as make reads it (a program and its
// arguments). Each case runs a copy of configure.mjs in a folder of its own,
// so that the real build/native-config.json is never written.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'node-selectors-configure-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh folder holding a copy of native/ and binding.gyp (no build/). */
function copyOfTree(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  cpSync(join(root, 'native'), join(dir, 'native'), { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
  return dir;
}

/** The environment of a normal build with CC set: none of the build variants. */
function envWith(cc: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CC: cc };
  delete env['NODE_SELECTORS_PORTABLE'];
  delete env['LIBKQUEUE_DIR'];
  return env;
}

/** A compiler that starts but refuses everything, as one given a wrong
 * --sysroot does. */
function brokenCompiler(dir: string): string {
  const cc = join(dir, 'broken-cc');
  writeFileSync(cc, '#!/bin/sh\necho "broken-cc: error: no such sysroot" >&2\nexit 1\n', { mode: 0o755 });
  return cc;
}

function configure(dir: string, cc: string, list = 'defines') {
  return spawnSync(process.execPath, [join(dir, 'native', 'configure.mjs'), list], {
    cwd: dir,
    env: envWith(cc),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('native/configure.mjs', () => {
  it('stops with the reason when CC cannot be started, and caches nothing', () => {
    const realCache = join(root, 'build', 'native-config.json');
    const before = existsSync(realCache) ? readFileSync(realCache, 'utf8') : null;
    for (const cc of ['/nonexistent/node-selectors-cc', 'node-selectors-no-such-cc -target aarch64-macos']) {
      const dir = copyOfTree(`missing-${cc.length}`);
      const r = configure(dir, cc);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const program = cc.split(' ')[0]!;
      expect(r.stderr).toBe(
        `node-selectors configure: error: cannot start the C compiler ${program} (CC="${cc}"): no such program; ` +
          'set CC to a C compiler (a program and its arguments)\n',
      );
      expect(existsSync(join(dir, 'build', 'native-config.json'))).toBe(false);
    }
    expect(existsSync(realCache) ? readFileSync(realCache, 'utf8') : null).toBe(before);
  });

  it('stops with the compiler\'s own words when it cannot build an empty program', () => {
    const dir = copyOfTree('broken');
    const cc = brokenCompiler(dir);
    const r = configure(dir, cc);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the C compiler CC="${cc}" cannot build an empty program, so no feature test can be trusted`);
    expect(r.stderr).toContain('broken-cc: error: no such sysroot');
    expect(existsSync(join(dir, 'build', 'native-config.json'))).toBe(false);
  });

  it('reads CC as a program and its arguments: "cc -O0" finds what "cc" finds', () => {
    const plain = configure(copyOfTree('plain'), 'cc');
    const withArgs = configure(copyOfTree('with-args'), ' cc   -O0 ');
    expect(plain.status, plain.stderr).toBe(0);
    expect(withArgs.status, withArgs.stderr).toBe(0);
    // poll and select need no test; a C compiler on a POSIX system finds at
    // least one optional call (on Linux all of them, on macOS SO_NOSIGPIPE).
    expect(plain.stdout.trim()).toMatch(/^NS_HAVE_\w+=1/);
    expect(withArgs.stdout).toBe(plain.stdout);
  }, 120_000);

  it('makes node-gyp stop with that message instead of building without backends', () => {
    // gyp runs CC itself first (for its predefines) and only warns when that
    // fails; a cross compiler with a wrong sysroot gets that far.
    const dir = copyOfTree('gyp');
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const cc = brokenCompiler(dir);
    const prefix = resolve(process.execPath, '../..');
    const nodedir = existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
    const r = spawnSync(
      process.execPath,
      [join(root, 'node_modules/node-gyp/bin/node-gyp.js'), 'configure', ...nodedir],
      { cwd: dir, env: envWith(cc), encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`node-selectors configure: error: the C compiler CC="${cc}" cannot build an empty program`);
    expect(existsSync(join(dir, 'build', 'Makefile'))).toBe(false);
  });
});
