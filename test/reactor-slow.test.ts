// new Reactor({ slowCallbackMs }): asyncio's debug mode, on every backend,
// under run() and attach(). A handler, callback, timer, periodic callback or
// task step that runs at least that long emits 'slow' with its name and
// duration; the innermost unit takes the blame; nothing under the threshold,
// nothing at all by default. The calls that run long busy-wait: the
// durations asserted are lower bounds only.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Coroutine, Deferred, EVENT_READ, Reactor, type SlowCallback, sys } from '../lib/index.js';
import { BACKENDS, busy, driveUntil, enc, fdsChangedSince, openFds, socketpair, thrown, track } from './helpers.js';

type Mode = 'run' | 'attach';
const MODES: Mode[] = ['run', 'attach'];

/** A Deferred resolved by the n-th call of the function returned with it. */
function countdown(n: number): [Deferred<void>, () => void] {
  const all = new Deferred<void>();
  return [all, () => --n === 0 && all.resolve()];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(BACKENDS)('slow callbacks on $name', ({ create }) => {
  describe.each(MODES)('under %s()', (mode) => {
    function reactor(slowCallbackMs?: number): Reactor {
      return new Reactor({ selector: track(create()), slowCallbackMs });
    }

    it('each kind of unit that runs long emits slow with its name and duration; the innermost unit takes the blame', async () => {
      // Far above what a quick unit takes even when the machine preempts it.
      const THRESHOLD = 40;
      const LONG = 50;
      const r = reactor(THRESHOLD);
      const slow: SlowCallback[] = [];
      r.on('slow', (s: SlowCallback) => slow.push(s));
      const [all, done] = countdown(8);
      const [a, b] = socketpair();
      const [c, d] = socketpair();
      const [e, f] = socketpair();
      sys.write(b, enc('x'));
      sys.write(d, enc('x'));
      r.addHandler(
        a,
        function onReadable(fd: number) {
          r.removeHandler(fd);
          busy(LONG);
          done();
        },
        EVENT_READ,
      );
      r.addHandler(
        c,
        (fd: number) => {
          r.removeHandler(fd);
          busy(LONG);
          done();
        },
        EVENT_READ,
      );
      r.callSoon(() => {
        busy(LONG);
        done();
      });
      r.callLater(2, function lateOne() {
        busy(LONG);
        done();
      });
      const every = r.callEvery(3, () => {
        every.cancel();
        busy(LONG);
        done();
      });
      r.spawn(function* crunch(): Coroutine<void> {
        yield r.sleep(1); // resumed by a timer: the step is to blame, not the timer
        busy(LONG);
        done();
      });
      r.spawn(function* reader(): Coroutine<void> {
        yield r.readable(e); // resumed by the fd's handler: the step is to blame
        busy(LONG);
        done();
      });
      r.callLater(5, () => sys.write(f, enc('x')));
      // An unnamed generator object: the step is named for want of a name.
      r.spawn(
        (function* (): Coroutine<void> {
          yield r.sleep(1);
          busy(LONG);
          done();
        })(),
      );
      await driveUntil(r, mode, all);
      const names = slow.map((s) => s.name);
      expect(names).toEqual(
        expect.arrayContaining([
          `onReadable (handler for fd ${a})`,
          `handler for fd ${c}`,
          'callSoon callback',
          'lateOne',
          'callEvery callback',
          'task step of crunch',
          'task step of reader',
          'task step of a coroutine',
        ]),
      );
      for (const s of slow) expect(s.durationMs, s.name).toBeGreaterThanOrEqual(THRESHOLD);
      // Each long unit once; the timer and the fd handler that resumed the tasks not at all.
      expect(names.filter((n) => n === 'task step of crunch')).toHaveLength(1); // its first step was quick
      expect(names.filter((n) => n.includes(`for fd ${e}`) || n === 'callLater callback')).toEqual([]);
      r.close();
    });

    it('nothing under the threshold', async () => {
      const r = reactor(250);
      const slow: SlowCallback[] = [];
      r.on('slow', (s: SlowCallback) => slow.push(s));
      const [all, done] = countdown(4);
      const [a, b] = socketpair();
      sys.write(b, enc('x'));
      r.addHandler(
        a,
        (fd) => {
          r.removeHandler(fd);
          busy(2);
          done();
        },
        EVENT_READ,
      );
      r.callSoon(() => (busy(2), done()));
      const every = r.callEvery(1, () => (every.cancel(), busy(2), done()));
      r.spawn(function* quick(): Coroutine<void> {
        yield r.sleep(1);
        busy(2);
        done();
      });
      await driveUntil(r, mode, all);
      expect(slow).toEqual([]);
      r.close();
    });

    it('off by default: no slow event and nothing on stderr, however long a callback runs', async () => {
      const warn = vi.spyOn(console, 'warn');
      const r = reactor();
      const slow: SlowCallback[] = [];
      r.on('slow', (s: SlowCallback) => slow.push(s));
      const [all, done] = countdown(2);
      r.callSoon(() => (busy(30), done()));
      r.spawn(function* long(): Coroutine<void> {
        yield r.sleep(1);
        busy(30);
        done();
      });
      await driveUntil(r, mode, all);
      expect(slow).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
      r.close();
    });

    it("without a 'slow' listener, a line on stderr; a listener that throws is the loop's error", async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const r = reactor(5);
      const [first, done] = countdown(1);
      r.callSoon(function grind() {
        busy(10);
        done();
      });
      await driveUntil(r, mode, first);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/^node-selectors: grind took \d+\.\d ms \(slowCallbackMs: 5\)$/);

      const errors: Error[] = [];
      r.on('error', (err: Error) => errors.push(err));
      r.on('slow', () => {
        throw new Error('from the slow listener');
      });
      const [second, done2] = countdown(2);
      r.callSoon(() => (busy(10), done2()));
      r.callLater(1, () => done2()); // the loop went on
      await driveUntil(r, mode, second);
      expect(errors.length).toBeGreaterThanOrEqual(1); // more if a quick unit was preempted for 5 ms
      expect(new Set(errors.map((err) => err.message))).toEqual(new Set(['from the slow listener']));
      expect(warn).toHaveBeenCalledTimes(1);
      r.close();
    });
  });

  it('slowCallbackMs 0 reports every unit', () => {
    const r = new Reactor({ selector: track(create()), slowCallbackMs: 0 });
    const slow: SlowCallback[] = [];
    r.on('slow', (s: SlowCallback) => slow.push(s));
    r.callSoon(function tiny() {});
    r.run();
    expect(slow.map((s) => s.name)).toEqual(['tiny']);
    expect(slow[0]!.durationMs).toBeGreaterThanOrEqual(0);
    r.close();
  });
});

describe('slowCallbackMs: bad values', () => {
  it('coded errors, thrown before the default selector is opened (no fd left behind)', async () => {
    const before = openFds();
    expect(thrown(() => new Reactor({ slowCallbackMs: '10' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    expect(thrown(() => new Reactor({ slowCallbackMs: Number.NaN }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
    for (const ms of [-1, Number.POSITIVE_INFINITY]) {
      expect(thrown(() => new Reactor({ slowCallbackMs: ms })), String(ms)).toMatchObject({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    }
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});
