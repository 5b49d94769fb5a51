// Sub-millisecond timeouts: every Linux backend waits with nanosecond
// precision (epoll_pwait2, ppoll, pselect, io_uring's timespec wait) instead
// of rounding up to whole milliseconds.
import { describe, expect, it } from 'vitest';
import { EVENT_READ } from '../lib/index.js';
import { BACKENDS, socketpair, track } from './helpers.js';

const RUNS = 21;

describe.each(BACKENDS)('$name', ({ create }) => {
  it('select(0.25) waits at least 0.25 ms, and far less than a whole millisecond', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    const waits: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      expect(sel.select(0.25)).toEqual([]);
      waits.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    // The lower bound holds for every call: a wait never ends early.
    for (const ms of waits) expect(ms).toBeGreaterThanOrEqual(0.25);
    // The upper bound is loose (a shared, noisy machine): the median stays
    // well below the 1 ms that rounding up to whole milliseconds would give.
    const median = waits.sort((x, y) => x - y)[RUNS >> 1]!;
    expect(median).toBeLessThan(0.9);
  });
});
