// wakeup(): a blocked select() returns early with no events, woken from the
// same thread, from a worker thread, or on a signal; the wakeup channel is
// invisible and leaks nothing.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys, wakeupSelector } from '../lib/index.js';
import { BACKENDS, openFds, fdsChangedSince, socketpair, track } from './helpers.js';
import { nextMessage, worker } from './worker-helpers.js';

const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

describe.each(BACKENDS)('$name', ({ create }) => {
  it('a wakeup before select makes it return at once with no events; repeated wakeups coalesce', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    sel.wakeup();
    sel.wakeup();
    sel.wakeup();
    let start = process.hrtime.bigint();
    expect(sel.select(5000)).toEqual([]);
    expect(elapsedMs(start)).toBeLessThan(1000);
    // The three wakeups were one: the next select waits its whole timeout.
    start = process.hrtime.bigint();
    expect(sel.select(30)).toEqual([]);
    expect(elapsedMs(start)).toBeGreaterThanOrEqual(30);
  });

  it('the wakeup channel is never in getMap() nor in results, and ready fds are still reported with it', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_WRITE, 'a');
    const handle = sel.wakeupHandle();
    expect([...sel.getMap().keys()]).toEqual([a]);
    expect(wakeupSelector(handle)).toBe(true);
    expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['a', EVENT_WRITE]]);
    expect(sel.selectRaw(0)).toBe(1);
    expect([...sel.readyEvents.subarray(0, 2)]).toEqual([a, EVENT_WRITE]);
  });

  it('a worker thread wakes a select(null) blocked in this thread', async () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    // The worker waits until told the main thread is about to block, then
    // wakes it 100 ms later through the handle (a plain number it was sent).
    const w = worker(`post('ready'); parentPort.once('message', () => setTimeout(() => post(lib.wakeupSelector(data)), 100));`, sel.wakeupHandle());
    try {
      expect(await nextMessage(w)).toBe('ready');
      w.postMessage('go');
      const start = process.hrtime.bigint();
      // 20 s: a broken wakeup fails the test instead of hanging it.
      expect(sel.select(20_000)).toEqual([]);
      const ms = elapsedMs(start);
      expect(ms).toBeGreaterThanOrEqual(50);
      expect(ms).toBeLessThan(10_000);
      expect(await nextMessage(w)).toBe(true);
    } finally {
      await w.terminate();
    }
  });

  it('a handle outlives its selector harmlessly: waking a closed selector does nothing and returns false', () => {
    const sel = create();
    const handle = sel.wakeupHandle();
    sel.close();
    // The channel's fd number is free now and reused here; it is not written to.
    const fds = socketpair();
    expect(wakeupSelector(handle)).toBe(false);
    for (const fd of fds) expect(sys.read(fd, new Uint8Array(8))).toBe(-1);
  });
});

describe('wakeup', () => {
  it('on a signal: a signal listener in the main thread wakes a selector blocked in a worker', async () => {
    // Node runs signal listeners on the main thread's event loop, and only
    // there. A select blocking the main thread keeps its listeners from
    // running (the signal interrupts the wait, which resumes: EINTR is
    // retried), so the loop that must react to signals blocks in a worker,
    // and the main thread's listener wakes it.
    const w = worker(
      `const sel = new lib.DefaultSelector();
       const [r] = lib.sys.socketpair();
       sel.register(r, lib.EVENT_READ);
       post(sel.wakeupHandle());
       const start = Date.now();
       const ready = sel.select(20000);
       post({ ready: ready.length, ms: Date.now() - start });`,
      null,
    );
    let woken = 0;
    let handle = 0;
    const listener = () => {
      woken++;
      wakeupSelector(handle);
    };
    process.on('SIGUSR2', listener);
    try {
      handle = (await nextMessage(w)) as number;
      // A real signal from another process, sent a little after the worker blocked.
      spawn(process.execPath, ['-e', `setTimeout(() => process.kill(${process.pid}, 'SIGUSR2'), 200)`], { stdio: 'ignore' });
      const result = (await nextMessage(w)) as { ready: number; ms: number };
      expect(woken).toBe(1);
      expect(result.ready).toBe(0);
      expect(result.ms).toBeGreaterThanOrEqual(100);
      expect(result.ms).toBeLessThan(10_000);
    } finally {
      process.off('SIGUSR2', listener);
      await w.terminate();
    }
  });

  it('rejects a handle that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN, '1', null]) {
      expect(() => wakeupSelector(bad as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
  });

  it('no fd leaks: 1000 selectors with a wakeup channel, woken and closed', async () => {
    const before = openFds();
    for (const { create } of BACKENDS) {
      for (let i = 0; i < 250; i++) {
        const sel = create();
        sel.wakeup();
        wakeupSelector(sel.wakeupHandle());
        expect(sel.select(0)).toEqual([]);
        sel.close();
      }
    }
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});
