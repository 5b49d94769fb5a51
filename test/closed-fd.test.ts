// An fd closed while registered must not crash or hang any backend.
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys } from '../lib/index.js';
import { BACKENDS, owned, socketpair, track } from './helpers.js';

describe.each(BACKENDS)('$name', ({ create }) => {
  it('select neither throws nor hangs; unregister returns the key; the number can be reused', () => {
    const sel = track(create<string>());
    const [a, b] = sys.socketpair();
    const [c, d] = socketpair();
    const key = sel.register(a, EVENT_READ | EVENT_WRITE, 'closed');
    sel.register(c, EVENT_READ, 'live');
    sys.close(a);
    sys.close(b);
    // Whatever the backend reports for the dead fd, the call returns, reports
    // each fd at most once and keeps working for the live one.
    const start = Date.now();
    const ready = sel.select(100);
    expect(Date.now() - start).toBeLessThan(5000);
    for (const [k, events] of ready) expect(events & ~k.events).toBe(0);
    sys.write(d, new Uint8Array([1]));
    expect(sel.select(1000).some(([k]) => k.fd === c)).toBe(true);

    expect(sel.unregister(a)).toBe(key);
    // A new fd that reuses the number registers as a fresh fd. dup2 gives
    // the number back for certain: the lowest free number need not be `a`
    // (libkqueue closes fds of earlier kqueues late, R5).
    const [e] = socketpair();
    expect(owned(sys.dup2(e, a))).toBe(a);
    const fresh = sel.register(a, EVENT_WRITE, 'fresh');
    expect(fresh.data).toBe('fresh');
    expect(sel.select(0).some(([k, ev]) => k.fd === a && ev === EVENT_WRITE)).toBe(true);
  });

  it('a fileobj whose fileno() fails after close is still found by identity', () => {
    const sel = track(create());
    const [a] = sys.socketpair();
    let open = true;
    const sock = { fileno: () => (open ? a : -1) };
    const key = sel.register(sock, EVENT_READ);
    sys.close(a);
    open = false;
    expect(sel.getKey(sock)).toBe(key);
    expect(sel.unregister(sock)).toBe(key);
    expect(sel.getMap().size).toBe(0);
  });
});
