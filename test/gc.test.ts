// A selector garbage-collected without close() releases its kernel object.
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../lib/index.js';
import { runNode } from './helpers.js';

const withKernelFd = availableBackends().filter((b) => b === 'epoll' || b === 'kqueue' || b === 'io_uring');

describe.each(withKernelFd)('%s', (backend) => {
  it('releases its fd when collected without close()', () => {
    const out = runNode(
      `
      import { existsSync } from 'node:fs';
      import { SELECTOR_CLASSES } from ${JSON.stringify(new URL('../dist/lib/backends.js', import.meta.url).pathname)};
      let sel = new SELECTOR_CLASSES[${JSON.stringify(backend)}]();
      const fd = sel.fileno();
      const before = existsSync('/proc/self/fd/' + fd);
      sel = null;
      for (let i = 0; i < 20 && existsSync('/proc/self/fd/' + fd); i++) {
        globalThis.gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      console.log(JSON.stringify({ before, after: existsSync('/proc/self/fd/' + fd) }));
      `,
      ['--expose-gc'],
    );
    expect(JSON.parse(out)).toEqual({ before: true, after: false });
  });
});
