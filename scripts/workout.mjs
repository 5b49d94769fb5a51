// Exercises every native entry point of the addon for a memory checker:
// selectors on each backend (register, modify, select, errors, close, GC'd
// without close) and the sys calls. Usage: node scripts/workout.mjs [cycles]
import { availableBackends, EVENT_READ, EVENT_WRITE, sys } from '../dist/lib/index.js';
import { SELECTOR_CLASSES } from '../dist/lib/backends.js';

const cycles = Number(process.argv[2] ?? 10000);
const buf = new Uint8Array(64);
for (const name of availableBackends()) {
  const sel = new SELECTOR_CLASSES[name]();
  const pairs = Array.from({ length: 100 }, () => sys.socketpair());
  for (const [a] of pairs) sel.register(a, EVENT_READ, a);
  for (let i = 0; i < cycles; i++) {
    const [a, b] = pairs[i % pairs.length];
    sys.write(b, buf, 0, 8);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    if (sel.select(0).length === 0) throw new Error('nothing ready');
    sys.read(a, buf);
    sel.modify(a, EVENT_READ);
    try {
      sel.register(999_999, EVENT_READ); // EBADF (or ERR_FD_OUT_OF_RANGE): the error path
    } catch {}
  }
  for (const [a] of pairs) sel.unregister(a);
  sel.close();
  for (const [a, b] of pairs) {
    sys.close(a);
    sys.close(b);
  }
  new SELECTOR_CLASSES[name](); // dropped without close(): the finalizer frees it
}
try {
  sys.read(999_999, buf);
} catch {}
console.log('workout done');
