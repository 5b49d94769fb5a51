// Selectors and reactors collected without close() are reported, once per
// process, as Python's `ResourceWarning: unclosed selector`; out of fds, a
// new selector's error says how many selectors the thread holds.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BACKENDS, DIST_INDEX, runNodeOutput } from './helpers.js';

// The child makes `n` objects with `make`, closes them or not, drops them and
// collects until the addon has finalized them, then creates one more
// selector, which is where the warning is due.
const dropAndCollect = (make: string, n: number, closeThem: boolean) => `
  import * as lib from LIB;
  let kept = [];
  for (let i = 0; i < ${n}; i++) kept.push(${make});
  ${closeThem ? 'for (const o of kept) o.close();' : ''}
  kept = null;
  for (let i = 0; i < 20; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
  new lib.DefaultSelector().close();
  await new Promise((r) => setImmediate(r));
  console.log('done');
`;

const count = (text: string, what: string) => text.split(what).length - 1;

describe.each(BACKENDS.filter((b) => b.name !== 'DefaultSelector'))('$name', ({ backend, create }) => {
  const selector = `new (lib.selectorClass(${JSON.stringify(backend)}))()`;
  // A reactor's own selector is a DefaultSelector, which this variable picks.
  const env = { NODE_SELECTORS_BACKEND: backend };

  it('50 selectors collected without close() give one ResourceWarning naming close()', () => {
    const { stdout, stderr } = runNodeOutput(dropAndCollect(selector, 50, false), ['--expose-gc']);
    expect(stdout).toBe('done');
    expect(count(stderr, 'ResourceWarning: unclosed selector')).toBe(1);
    expect(stderr).toMatch(/Call selector\.close\(\)/);
    expect(stderr).not.toMatch(/unclosed reactor/);
  });

  it('closed selectors and closed reactors give no warning', () => {
    for (const make of [selector, 'new lib.Reactor()']) {
      const { stdout, stderr } = runNodeOutput(dropAndCollect(make, 50, true), ['--expose-gc'], env);
      expect(stdout).toBe('done');
      expect(stderr).not.toMatch(/ResourceWarning/);
    }
  });

  it("reactors collected without close() give one warning, the reactor's, not their selectors'", () => {
    const { stdout, stderr } = runNodeOutput(dropAndCollect('new lib.Reactor()', 20, false), ['--expose-gc'], env);
    expect(stdout).toBe('done');
    expect(count(stderr, 'ResourceWarning: unclosed reactor')).toBe(1);
    expect(stderr).toMatch(/Call reactor\.close\(\)/);
    expect(stderr).not.toMatch(/unclosed selector/);
  });

  it('a reactor driving a selector it was given leaves the warning to that selector', () => {
    const make = `new lib.Reactor({ selector: ${selector} })`;
    const { stdout, stderr } = runNodeOutput(dropAndCollect(make, 10, false), ['--expose-gc']);
    expect(stdout).toBe('done');
    expect(count(stderr, 'ResourceWarning: unclosed selector')).toBe(1);
    expect(stderr).not.toMatch(/unclosed reactor/);
  });

  const probe = create();
  const takesFd = 'fileno' in probe && (probe as unknown as { fileno(): number }).fileno() >= 0;
  probe.close();

  // Only a selector with a kernel object (fileno() >= 0) takes an fd when made.
  it.skipIf(!takesFd)('out of fds, a new selector fails with EMFILE and says how many selectors are open', () => {
    const code = `
      import * as lib from ${JSON.stringify(DIST_INDEX)};
      const kept = [];
      let forgotten = [];
      let error;
      for (let i = 0; i < 10; i++) forgotten.push(${selector});
      forgotten = null;
      for (let i = 0; i < 10; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
      for (let i = 0; i < 200 && error === undefined; i++) {
        try { kept.push(${selector}); } catch (e) { error = e; }
      }
      console.log(JSON.stringify({ made: kept.length, code: error?.code, message: error?.message,
        stackTop: error?.stack.split('\\n')[0] }));
    `;
    // 128: room for the ten forgotten selectors with a margin, where one
    // selector takes several fds (libkqueue: an epoll fd, an eventfd and
    // pipes per kqueue), and still a limit that 200 epoll selectors reach.
    const r = spawnSync('bash', ['-c', `ulimit -n 128 && exec "$0" --expose-gc --input-type=module -e "$1"`, process.execPath, code], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { made: number; code: string; message: string; stackTop: string };
    expect(out.code).toBe('EMFILE');
    expect(out.made).toBeGreaterThan(0);
    const hint = `(${out.made} selectors are open in this thread; 10 were collected without close() and held fds until then; close() the ones no longer needed)`;
    expect(out.message).toContain(hint);
    expect(out.message).toMatch(/^EMFILE: too many open files, \w+ \(/);
    expect(out.stackTop).toBe(`Error: ${out.message}`);
  });
});
