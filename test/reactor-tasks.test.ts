// asyncio's task helpers on the reactor, on every backend, under run() and
// under attach(): gather (results in order, the first failure, cancelling
// the gather cancels its children, an empty list) and withTimeout (in time,
// ERR_TIMEOUT with the child cancelled where it waits, no timer left behind).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CancelledError, type Coroutine, Deferred, type Future, gather, Reactor, type Task, withTimeout } from '../lib/index.js';
import { BACKENDS, thrown, track } from './helpers.js';

type Mode = 'run' | 'attach';
const MODES: Mode[] = ['run', 'attach'];

/** Drives `r` until `until` is done (observing it, so that its failure is
 * not reported as one nobody waited for): run() (which returns once nothing
 * is left to wait for), or attach() and an await, then detach(). */
async function drive(r: Reactor, mode: Mode, until: Future<unknown>): Promise<void> {
  const done = new Promise<void>((resolve) => until.addDoneCallback(() => resolve()));
  if (mode === 'run') {
    r.run();
    expect(until.done).toBe(true);
    return;
  }
  r.attach();
  try {
    await done;
  } finally {
    r.detach();
  }
}

/** Whether `r` has nothing left (no timer, callback or handler): run()
 * returns at once rather than waiting for a timer 60 s away. */
function idle(r: Reactor): boolean {
  const start = r.time();
  r.run();
  return r.time() - start < 30_000;
}

const code = (err: unknown) => (err as { code?: string }).code;

describe.each(BACKENDS)('task helpers on $name', ({ create }) => {
  describe.each(MODES)('under %s()', (mode) => {
    function reactor(): Reactor {
      return new Reactor({ selector: track(create()) });
    }

    function* after<T>(r: Reactor, ms: number, value: T): Coroutine<T> {
      yield r.sleep(ms);
      return value;
    }

    it('gather: results in the order given, whatever order they finish in; tasks, a Deferred and a generator', async () => {
      const r = reactor();
      const finished: string[] = [];
      const note = <T,>(name: string, t: Task<T>) => (t.addDoneCallback(() => finished.push(name)), t);
      const slow = note('slow', r.spawn(after(r, 30, 'a')));
      const middle = note('middle', r.spawn(after(r, 15, 2)));
      const quick = note('quick', r.spawn(after(r, 1, true)));
      const deferred = new Deferred<string>();
      r.callLater(5, () => deferred.resolve('d'));
      const g = gather(r, [slow, middle, quick, deferred, after(r, 10, null)]);
      expectTypeOf(g).toEqualTypeOf<Task<[string, number, boolean, string, null]>>();
      expect(g.done).toBe(false);
      await drive(r, mode, g);
      expect(g.result()).toEqual(['a', 2, true, 'd', null]);
      expect(finished).toEqual(['quick', 'middle', 'slow']);
      expect(idle(r)).toBe(true);
      r.close();
    });

    it('gather: an empty list gives [] at once', () => {
      const r = reactor();
      const g = gather(r, []);
      expect(g.done).toBe(true);
      expect(g.result()).toEqual([]);
      expect(r.gather([]).result()).toEqual([]);
      r.close();
    });

    it('gather: the first failure fails it at once; the others keep running, and a later failure is dropped', async () => {
      const r = reactor();
      const errors: unknown[] = [];
      r.on('error', (e) => errors.push(e));
      const log: string[] = [];
      const long = r.spawn(function* () {
        yield r.sleep(40);
        log.push('long ran to its end');
        return 'long';
      });
      const failing = r.spawn(function* () {
        yield r.sleep(5);
        throw new RangeError('first');
      });
      const laterFailing = r.spawn(function* () {
        yield r.sleep(20);
        throw new RangeError('second');
      });
      const g = r.gather([long, failing, laterFailing]);
      g.addDoneCallback(() => log.push(`gather done, long ${long.done ? 'done' : 'still running'}`));
      await drive(r, mode, long);
      if (mode === 'attach') {
        r.attach();
        await new Promise((resolve) => setTimeout(resolve, 10)); // the pass that would report
        r.detach();
      }
      expect(thrown(() => g.result())).toBe(failing.exception);
      expect(g.cancelled).toBe(false);
      expect(log).toEqual(['gather done, long still running', 'long ran to its end']);
      expect(long.result()).toBe('long');
      expect((laterFailing.exception as Error).message).toBe('second');
      expect(errors).toEqual([]); // the gather was observed; the second failure is dropped as asyncio drops it
      r.close();
    });

    it('gather: a child cancelled on its own fails the gather with its CancelledError; the others go on', async () => {
      const r = reactor();
      const victim = r.spawn(after(r, 60_000, 0));
      const other = r.spawn(after(r, 10, 'other'));
      const g = r.gather([victim, other]);
      r.callLater(1, () => victim.cancel('only this one'));
      await drive(r, mode, other);
      expect(thrown(() => g.result())).toBeInstanceOf(CancelledError);
      expect((g.exception as Error).message).toBe('only this one');
      expect(other.result()).toBe('other');
      r.close();
    });

    it('gather: cancelling it cancels every child not done (their finally blocks run); a Deferred is left alone', async () => {
      const r = reactor();
      const log: string[] = [];
      const done = r.spawn(function* () {
        return 'was done';
      });
      const sleeper = r.spawn(function* () {
        try {
          yield r.sleep(60_000);
        } finally {
          log.push('sleeper finally');
        }
      });
      const waiter = r.spawn(function* () {
        try {
          yield new Deferred<void>();
        } finally {
          log.push('waiter finally');
        }
      });
      const deferred = new Deferred<number>();
      const g = r.gather([done, sleeper, waiter, deferred]);
      r.callLater(5, () => g.cancel('stop them'));
      await drive(r, mode, g);
      expect(g.cancelled).toBe(true);
      expect(log).toEqual(['sleeper finally', 'waiter finally']);
      expect(sleeper.cancelled).toBe(true);
      expect((sleeper.exception as Error).message).toBe('stop them');
      expect(waiter.cancelled).toBe(true);
      expect(done.result()).toBe('was done');
      expect(deferred.done).toBe(false);
      expect(idle(r)).toBe(true); // the sleeper's 60 s timer went with it
      r.close();
    });

    it('gather: cancelled, it ends once a child that caught the cancellation has ended, and ends cancelled', async () => {
      const r = reactor();
      const stubborn = r.spawn(function* (): Coroutine<string> {
        try {
          yield r.sleep(60_000);
        } catch {
          yield r.sleep(20); // cleaning up
        }
        return 'cleaned up';
      });
      const g = r.gather([stubborn]);
      const seen: boolean[] = [];
      r.callLater(1, () => seen.push(g.cancel(), g.done, stubborn.done));
      await drive(r, mode, g);
      expect(seen).toEqual([true, false, false]); // cancel() took, but the gather waits for its child
      expect(stubborn.result()).toBe('cleaned up');
      expect(g.cancelled).toBe(true);
      r.close();
    });

    it('withTimeout: the result when the task ends in time, and no timer left behind', async () => {
      const r = reactor();
      const t = withTimeout(r, r.spawn(after(r, 5, 'in time')), 60_000);
      expectTypeOf(t).toEqualTypeOf<Task<string>>();
      const start = r.time();
      await drive(r, mode, t);
      expect(t.result()).toBe('in time');
      expect(r.time() - start).toBeLessThan(30_000); // run() did not wait for the 60 s limit
      expect(idle(r)).toBe(true);
      // A generator, spawned on the loop; a task already done, even with a 0 limit.
      const g = r.withTimeout(after(r, 1, 7), 60_000);
      await drive(r, mode, g);
      expect(g.result()).toBe(7);
      const already = r.spawn(function* () {
        return 'done';
      });
      expect(withTimeout(r, already, 0).result()).toBe('done');
      expect(idle(r)).toBe(true);
      r.close();
    });

    it('withTimeout: too slow, the task is cancelled where it waits (its finally runs) and it fails with ERR_TIMEOUT', async () => {
      const r = reactor();
      const log: string[] = [];
      const child = r.spawn(function* () {
        try {
          yield r.sleep(60_000);
          log.push('woke');
        } catch (err) {
          log.push(`caught ${(err as Error).name}`);
          throw err;
        } finally {
          log.push('finally');
        }
      });
      const start = r.time();
      const t = withTimeout(r, child, 10);
      await drive(r, mode, t);
      expect(r.time() - start).toBeGreaterThanOrEqual(10);
      expect(code(t.exception)).toBe('ERR_TIMEOUT');
      expect(t.exception).toBeInstanceOf(Error);
      expect(t.cancelled).toBe(false);
      expect(child.cancelled).toBe(true);
      expect(log).toEqual(['caught CancelledError', 'finally']);
      expect(idle(r)).toBe(true); // the child's 60 s sleep was withdrawn
      r.close();
    });

    it('withTimeout: a Deferred not settled in time fails it with ERR_TIMEOUT and stays pending', async () => {
      const r = reactor();
      const deferred = new Deferred<number>();
      const t = r.withTimeout(deferred, 5);
      await drive(r, mode, t);
      expect(code(t.exception)).toBe('ERR_TIMEOUT');
      expect(deferred.done).toBe(false);
      r.close();
    });

    it('withTimeout: a task that fails in time gives its own error, not ERR_TIMEOUT', async () => {
      const r = reactor();
      const t = withTimeout(
        r,
        r.spawn(function* () {
          yield r.sleep(2);
          throw new TypeError('own');
        }),
        60_000,
      );
      await drive(r, mode, t);
      expect(t.exception).toEqual(new TypeError('own'));
      expect(idle(r)).toBe(true);
      r.close();
    });

    it('withTimeout: a task that catches the cancellation and returns a value gives that value (as asyncio.wait_for)', async () => {
      const r = reactor();
      const child = r.spawn(function* (): Coroutine<string> {
        try {
          yield r.sleep(60_000);
          return 'woke';
        } catch {
          yield r.sleep(5);
          return 'late but there';
        }
      });
      const t = withTimeout(r, child, 5);
      await drive(r, mode, t);
      expect(t.result()).toBe('late but there');
      r.close();
    });

    it('withTimeout: cancelling it cancels the task', async () => {
      const r = reactor();
      const child = r.spawn(after(r, 60_000, 0));
      const t = withTimeout(r, child, 30_000);
      r.callLater(2, () => t.cancel());
      await drive(r, mode, t);
      expect(t.cancelled).toBe(true);
      expect(child.cancelled).toBe(true);
      expect(idle(r)).toBe(true);
      r.close();
    });
  });

  describe('bad input', () => {
    it('gather: coded errors, and nothing spawned', () => {
      const r = new Reactor({ selector: track(create()) });
      let started = false;
      function* marks(): Coroutine<void> {
        started = true;
      }
      const other = new Reactor({ selector: track(create()) });
      const foreign = other.spawn(function* () {
        yield other.sleep(1);
      });
      expect(code(thrown(() => gather(r, 'tasks' as never)))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(thrown(() => gather(r, [marks(), 42] as never)))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(thrown(() => gather(r, [marks(), Promise.resolve(1)] as never)))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(thrown(() => gather(r, [marks(), (() => marks) as never])))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(thrown(() => gather(r, [marks(), foreign])))).toBe('ERR_INVALID_ARG_VALUE');
      expect(code(thrown(() => gather({} as never, [])))).toBe('ERR_INVALID_ARG_TYPE');
      expect(started).toBe(false);
      r.close();
      expect(code(thrown(() => gather(r, [])))).toBe('ERR_REACTOR_CLOSED');
      other.close();
    });

    it('withTimeout: coded errors for the task and the limit, and nothing spawned', () => {
      const r = new Reactor({ selector: track(create()) });
      let started = false;
      function* marks(): Coroutine<void> {
        started = true;
      }
      expect(thrown(() => withTimeout(r, marks(), 'soon' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
      expect(thrown(() => withTimeout(r, marks(), Number.NaN))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      expect(thrown(() => withTimeout(r, marks(), -1))).toMatchObject({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
      expect(code(thrown(() => withTimeout(r, 42 as never, 10)))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(thrown(() => withTimeout(r, Promise.resolve(1) as never, 10)))).toBe('ERR_INVALID_ARG_TYPE');
      expect(started).toBe(false);
      expect(idle(r)).toBe(true);
      r.close();
      expect(code(thrown(() => withTimeout(r, marks(), 10)))).toBe('ERR_REACTOR_CLOSED');
    });
  });
});
