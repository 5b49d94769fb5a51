// Resource bounds: no fd and no memory leak over many operations.
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE } from '../lib/index.js';
import { BACKENDS, openFds, fdsChangedSince, socketpair } from './helpers.js';

/** RSS after a full collection (tests run with --expose-gc), so that heap
 * sizing and garbage are not taken for a leak. */
function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

// Under AddressSanitizer (npm run test:asan) freed memory waits in its
// quarantine, up to 256 MB, so RSS growth says nothing there; the fd check
// still holds, and scripts/valgrind.sh looks for native leaks instead.
const UNDER_ASAN = (process.env['LD_PRELOAD'] ?? '').includes('libasan');

describe.each(BACKENDS.filter((b) => b.name !== 'DefaultSelector'))('$name', ({ backend, create }) => {
  it('1,000,000 register/unregister cycles leak no fd and keep RSS flat', async () => {
    const [a, b] = socketpair();
    const fdsBefore = openFds();
    const sel = create();
    const cycle = (n: number) => {
      for (let i = 0; i < n; i++) {
        sel.register(a, EVENT_READ, i);
        sel.unregister(a);
      }
    };
    // Warm up (JIT, heap sizing) with the whole API, checking it still works.
    for (let i = 0; i < 100_000; i++) {
      sel.register(a, EVENT_READ, i);
      sel.modify(a, EVENT_WRITE);
      if (sel.selectRaw(0) !== 1) throw new Error('the socket should be writable');
      sel.unregister(a);
    }
    const rssBefore = rssMb();
    cycle(1_000_000);
    const growth = rssMb() - rssBefore;
    sel.register(b, EVENT_READ);
    sel.close();
    expect(await fdsChangedSince(fdsBefore)).toEqual([]);
    if (!UNDER_ASAN) expect(growth).toBeLessThan(10);
  }, 120_000);

  it('10,000 selectors created and closed leak no fd', async () => {
    const before = openFds();
    for (let i = 0; i < 10_000; i++) create().close();
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});
