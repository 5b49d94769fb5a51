// reactor.callEvery(ms, fn): a periodic callback on every backend, under
// run() and attach(). Timing bounds are lower bounds, plus one upper bound
// that a drifting schedule could never meet; nothing measures speed.
import { describe, expect, it } from 'vitest';
import { Deferred, type Handle, Reactor } from '../lib/index.js';
import { BACKENDS, busy, driveUntil, thrown, track } from './helpers.js';

type Mode = 'run' | 'attach';
const MODES: Mode[] = ['run', 'attach'];

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
      await driveUntil(r, mode, stopped);
      return { start, times, handle };
    }

    it('calls fn every ms, never before its time; cancel() inside fn ends it and run() returns', async () => {
      const r = reactor();
      const { start, times, handle } = await periodic(r, 10, (call) => call === 5);
      expect(times).toHaveLength(5);
      // Call k is planned at k * ms from callEvery, and never runs early.
      times.forEach((t, i) => expect(t - start).toBeGreaterThanOrEqual((i + 1) * 10));
      expect(handle.cancelled).toBe(true);
      // Nothing left: no timer of the periodic callback.
      const before = r.time();
      r.run();
      expect(r.time() - before).toBeLessThan(1_000);
      r.close();
    });

    it('keeps to the grid: the time a call takes does not push the next one back', async () => {
      const r = reactor();
      // Each call takes 20 ms of a 60 ms period. Planned from the end of each
      // call, calls would be 80 ms apart or more, always; on the grid they
      // are 60 apart, give or take how much later than the one before a
      // call starts (120 when one missed its slot). One gap of the seven
      // below 78 is enough.
      const { times } = await periodic(r, 60, (call) => {
        busy(20);
        return call === 8;
      });
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.min(...gaps)).toBeLessThan(78);
      r.close();
    });

    it('skips the ticks a long call ran past instead of running them in a burst', async () => {
      const r = reactor();
      // The second call takes 3.5 periods: the ticks it ran past are
      // skipped, so the next call comes at the first grid point after it
      // ended, and the one after a period later. Run in a burst, both would
      // come at once after the long call.
      let longEnd = 0;
      const { times } = await periodic(r, 20, (call) => {
        if (call === 2) {
          busy(70);
          longEnd = r.time();
        }
        return call === 4;
      });
      expect(times[2]!).toBeGreaterThan(longEnd);
      expect(times[3]! - longEnd).toBeGreaterThan(20);
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
      const stopped = new Deferred<void>();
      const handle = r.callEvery(5, () => {
        // Cancelled a little after the second call, from a timer.
        if (++calls === 2) {
          r.callLater(3, () => {
            handle.cancel();
            handle.cancel();
            stopped.resolve();
          });
        }
      });
      expect(handle.cancelled).toBe(false);
      await driveUntil(r, mode, stopped);
      const seen = calls;
      expect(seen).toBeGreaterThanOrEqual(2);
      expect(handle.cancelled).toBe(true);
      const again = new Deferred<void>();
      r.callLater(20, () => again.resolve());
      await driveUntil(r, mode, again);
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
