// A selector garbage-collected without close() releases its kernel object.
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../lib/index.js';
import { LIST_OPEN_FDS } from './fds.js';
import { runNode } from './helpers.js';

const withKernelFd = availableBackends().filter((b) => b === 'epoll' || b === 'kqueue' || b === 'io_uring');

describe.each(withKernelFd)('%s', (backend) => {
  it('releases its fd when collected without close()', () => {
    const out = runNode(
      `
      ${LIST_OPEN_FDS}
      import { selectorClass } from ${JSON.stringify(new URL('../dist/lib/index.js', import.meta.url).pathname)};
      let sel = new (selectorClass(${JSON.stringify(backend)}))();
      const fd = sel.fileno();
      const before = isOpen(fd);
      sel = null;
      for (let i = 0; i < 20 && isOpen(fd); i++) {
        globalThis.gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      console.log(JSON.stringify({ before, after: isOpen(fd) }));
      `,
      ['--expose-gc'],
    );
    expect(JSON.parse(out)).toEqual({ before: true, after: false });
  });
});

describe('slots', () => {
  it('a collected selector frees its slot for the next one, and live ones keep theirs', () => {
    const out = runNode(
      `
      import { createRequire } from 'node:module';
      const binding = createRequire(import.meta.url)(${JSON.stringify(new URL('../build/Release/selectors.node', import.meta.url).pathname)});
      const name = binding.backends[0];
      const keep = new binding.Selector(name);
      keep.setBuffer(new Int32Array(2));
      const kept = keep.slot();
      let slots = new Set();
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 100; i++) slots.add(new binding.Selector(name).slot());
        for (let i = 0; i < 5; i++) {
          globalThis.gc();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      console.log(JSON.stringify({ distinct: slots.size, keptIsOurs: !slots.has(kept), stillWaits: binding.wait(kept, 0) }));
      `,
      ['--expose-gc'],
    );
    const result = JSON.parse(out) as { distinct: number; keptIsOurs: boolean; stillWaits: number };
    // 500 selectors made and dropped in rounds of 100 share far fewer slots.
    expect(result.distinct).toBeLessThan(500);
    expect(result.keptIsOurs).toBe(true);
    expect(result.stillWaits).toBe(0);
  });
});
