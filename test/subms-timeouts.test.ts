// Sub-millisecond timeouts: every Linux backend waits with nanosecond
// precision (epoll_pwait2, ppoll, pselect, io_uring's timespec wait) instead
// of rounding up to whole milliseconds.
import { describe, expect, it } from 'vitest';
import { EVENT_READ } from '../lib/index.js';
import { BACKENDS, backendHas, socketpair, track } from './helpers.js';

const RUNS = 21;
const sanitized = /asan|ubsan/.test(process.env['LD_PRELOAD'] ?? '');

describe.each(BACKENDS)('$name', ({ backend, create }) => {
  // Where the wait takes whole milliseconds (poll() without ppoll), 0.25 ms
  // is rounded up to 1; the test after this one checks the rounding.
  it.skipIf(!backendHas(backend, 'subMsTimeouts'))('select(0.25) waits at least 0.25 ms, and far less than a whole millisecond', () => {
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
    waits.sort((x, y) => x - y);
    // Not rounded up to whole milliseconds: a rounded wait never returns
    // before 1 ms, so a single shorter one proves it, whatever the load.
    expect(waits[0]).toBeLessThan(0.9);
    // And typically far below it. A loose bound (a shared, noisy machine),
    // left out under a sanitizer, which slows every call several times.
    if (!sanitized) expect(waits[RUNS >> 1]).toBeLessThan(0.9);
  });

  it.skipIf(backendHas(backend, 'subMsTimeouts'))('where the wait takes whole milliseconds, select(0.25) is rounded up to 1 ms, never down to 0', () => {
    const sel = track(create());
    expect(sel.timeoutResolution).toBe(1);
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    for (let i = 0; i < 20; i++) {
      const start = process.hrtime.bigint();
      expect(sel.select(0.25)).toEqual([]);
      expect(Number(process.hrtime.bigint() - start) / 1e6).toBeGreaterThanOrEqual(1);
    }
  });
});
