// reactor.callEvery(ms, fn): a periodic callback on every backend, under
// run() and attach(). Timing bounds are loose lower bounds, plus one upper
// bound far from what a drifting schedule could meet; nothing measures speed.
import { describe, expect, it } from 'vitest';
import { Deferred, type Handle, Reactor } from '../lib/index.js';
import { BACKENDS, thrown, track } from './helpers.js';

type Mode = 'run' | 'attach';
const MODES: Mode[] = ['run', 'attach'];

/** run() until nothing is left, or attach() until `until` is done, then detach(). */
async function drive(r: Reactor, mode: Mode, until: Deferred<void>): Promise<void> {
  if (mode === 'run') {
    r.run();
    expect(until.done).toBe(true);
    return;
  }
  r.attach();
  try {
    await until;
  } finally {
    r.detach();
  }
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const code = (err: unknown) => (err as { code?: string }).code;

describe.each(BACKENDS)('callEvery on $name', ({ create }) => {
  describe.each(MODES)('under %s()', (mode) => {
    function reactor(): Reactor {
      return new Reactor({ selector: track(create()) });
    }

    /** Calls `fn` every `ms` until it returns true; the times of the calls, from just before callEvery. */
    async function periodic(r: Reactor, ms: number, fn: (call: number, handle: Handle) => boolean | void): Promise<{ start: number; times: number[]; handle: Handle }> {
      const times: number[] = [];
      const stopped = new Deferred<void>();
      const start = r.time();
      const handle: Handle = r.callEvery(ms, () => {
        times.push(r.time());
        if (fn(times.length, handle) === true) {
          handle.cancel();
          stopped.resolve();
        }
      });
      await drive(r, mode, stopped);
      return { start, times, handle };
    }

    // The grid slot a call fell in: call k is planned at start + k * ms and
    // never runs before its time.
    const slots = (start: number, ms: number, times: number[]) => times.map((t) => Math.floor((t - start) / ms));

    it('calls fn every ms, never early, never twice in one period; cancel() inside fn ends it and run() returns', async () => {
      const r = reactor();
      const { start, times, handle } = await periodic(r, 10, (call) => call === 5);
      expect(times).toHaveLength(5);
      times.forEach((t, i) => expect(t - start).toBeGreaterThanOrEqual((i + 1) * 10));
      const s = slots(start, 10, times);
      s.slice(1).forEach((slot, i) => expect(slot).toBeGreaterThan(s[i]!));
      expect(handle.cancelled).toBe(true);
      // Nothing left: no timer of the periodic callback.
      const before = r.time();
      r.run();
      expect(r.time() - before).toBeLessThan(1_000);
      r.close();
    });

    it('keeps to the grid: the time a call takes does not push the next one back', async () => {
      const r = reactor();
      // Each call takes 25 ms of a 40 ms period. Planned from the end of each
      // call, calls would be 65 ms apart or more; on the grid they are 40
      // apart (80 when the machine made one miss its slot).
      const { times } = await periodic(r, 40, (call) => {
        busy(25);
        return call === 6;
      });
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.min(...gaps)).toBeLessThan(65);
      r.close();
    });

    it('skips the ticks a long call ran past instead of running them in a burst', async () => {
      const r = reactor();
      // The second call takes 3.5 periods: the ticks it covers are skipped,
      // so no two calls ever fall in the same period, and the next one comes
      // on the first grid point after it ended.
      let longEnd = 0;
      const { start, times } = await periodic(r, 20, (call) => {
        if (call === 2) {
          busy(70);
          longEnd = r.time();
        }
        return call === 5;
      });
      const s = slots(start, 20, times);
      s.slice(1).forEach((slot, i) => expect(slot).toBeGreaterThan(s[i]!));
      expect(times[2]!).toBeGreaterThanOrEqual(longEnd);
      expect(s[2]! - s[1]!).toBeGreaterThanOrEqual(4);
      r.close();
    });

    it('an exception in fn is reported like a callback error, and the calls go on', async () => {
      const r = reactor();
      const errors: Error[] = [];
      r.on('error', (e: Error) => errors.push(e));
      const { times } = await periodic(r, 5, (call) => {
        if (call <= 2) throw new Error(`call ${call}`);
        return call === 4;
      });
      expect(times).toHaveLength(4);
      expect(errors.map((e) => e.message)).toEqual(['call 1', 'call 2']);
      r.close();
    });

    it('cancel() from outside stops it; cancel() is harmless twice; close() cancels it', async () => {
      const r = reactor();
      let calls = 0;
      const handle = r.callEvery(5, () => calls++);
      expect(handle.cancelled).toBe(false);
      const stopped = new Deferred<void>();
      r.callLater(23, () => {
        handle.cancel();
        handle.cancel();
        stopped.resolve();
      });
      await drive(r, mode, stopped);
      const seen = calls;
      expect(seen).toBeGreaterThanOrEqual(1);
      expect(seen).toBeLessThanOrEqual(4);
      expect(handle.cancelled).toBe(true);
      const again = new Deferred<void>();
      r.callLater(20, () => again.resolve());
      await drive(r, mode, again);
      expect(calls).toBe(seen);

      const other = r.callEvery(1_000, () => {});
      r.close();
      expect(other.cancelled).toBe(true);
    });

    it('fn may close the reactor: the calls end without an error', async () => {
      const r = reactor();
      const errors: unknown[] = [];
      r.on('error', (e) => errors.push(e));
      let calls = 0;
      const closed = new Deferred<void>();
      const handle = r.callEvery(2, () => {
        if (++calls === 2) {
          r.close();
          closed.resolve();
        }
      });
      if (mode === 'run') r.run();
      else {
        r.attach();
        await closed;
      }
      expect(calls).toBe(2);
      expect(handle.cancelled).toBe(true);
      expect(errors).toEqual([]);
    });
  });

  it('bad input: coded errors, and nothing scheduled', () => {
    const r = new Reactor({ selector: track(create()) });
    const fn = () => {};
    expect(thrown(() => r.callEvery('10' as never, fn))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    expect(thrown(() => r.callEvery(Number.NaN, fn))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
    for (const ms of [0, -5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(thrown(() => r.callEvery(ms, fn)), String(ms)).toMatchObject({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    }
    expect(thrown(() => r.callEvery(10, 'fn' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    // Nothing was scheduled: run() returns at once.
    const start = r.time();
    r.run();
    expect(r.time() - start).toBeLessThan(1_000);
    r.close();
    expect(code(thrown(() => r.callEvery(10, fn)))).toBe('ERR_REACTOR_CLOSED');
  });
});
