import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, track } from './helpers.js';

describe.each(BACKENDS)('$name', ({ create }) => {
  it('reports a socketpair end readable after the peer writes', () => {
    const sel = track(create<string>());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ, 'a');
    expect(sel.select(0)).toEqual([]);
    expect(sys.write(b, enc('x'))).toBe(1);
    const ready = sel.select(1000);
    expect(ready.map(([k, ev]) => [k.fd, k.data, ev])).toEqual([[a, 'a', EVENT_READ]]);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    expect(sel.select(0)[0]?.[1]).toBe(EVENT_READ | EVENT_WRITE);
  });
});
