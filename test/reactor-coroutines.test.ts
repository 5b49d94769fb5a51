// Generator coroutines: waits on fds, delays and tasks; yield* with return
// values and exceptions through three levels; cancellation.
import { describe, expect, it } from 'vitest';
import { CancelledError, type Coroutine, EVENT_READ, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, kqueueLimit, socketpair, track } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe.each(BACKENDS)('coroutines on $name', ({ backend, create }) => {
  function reactor(): Reactor {
    return new Reactor({ selector: track(create()) });
  }

  it('waits for readability, reads, and returns a value through three levels of yield*', () => {
    const r = reactor();
    const [a, b] = socketpair();
    function* readSome(fd: number): Coroutine<string> {
      const events: number = yield r.readable(fd);
      expect(events).toBe(EVENT_READ);
      const buf = new Uint8Array(64);
      const n = sys.read(fd, buf);
      return dec(buf.subarray(0, n));
    }
    function* middle(fd: number): Coroutine<string> {
      const s = yield* readSome(fd);
      return `<${s}>`;
    }
    function* top(): Coroutine<string> {
      const first = yield* middle(a);
      // The second write only once the first was read, so they never merge.
      r.callLater(5, () => sys.write(b, enc('two')));
      const second = yield* middle(a);
      return first + second;
    }
    const task = r.spawn(top);
    expect(task.done).toBe(false);
    r.callLater(5, () => sys.write(b, enc('one')));
    r.run();
    expect(task.result()).toBe('<one><two>');
    expect(r.selector.getMap().size).toBe(0);
    r.close();
  });

  it('propagates exceptions up through three levels, and into them with throw', () => {
    const r = reactor();
    const log: string[] = [];
    function* inner(): Coroutine<number> {
      yield r.sleep(1);
      throw new RangeError('deep');
    }
    function* middle(): Coroutine<number> {
      try {
        return yield* inner();
      } finally {
        log.push('middle finally');
      }
    }
    function* outer(): Coroutine<string> {
      try {
        yield* middle();
        return 'no';
      } catch (err) {
        return `caught ${(err as Error).message}`;
      }
    }
    const t = r.spawn(outer);
    // An uncaught one fails the task, and its awaiting task gets it.
    const failing = r.spawn(function* () {
      yield* inner();
    });
    const waiter = r.spawn(function* (): Coroutine<string> {
      try {
        yield failing;
        return 'no';
      } catch (err) {
        return (err as Error).message;
      }
    });
    r.run();
    expect(t.result()).toBe('caught deep');
    expect(log).toEqual(['middle finally']);
    expect(() => failing.result()).toThrow('deep');
    expect(waiter.result()).toBe('deep');
    r.close();
  });

  it('a task waits for another task and gets its result', () => {
    const r = reactor();
    const child = r.spawn(function* (): Coroutine<number> {
      yield r.sleep(5);
      return 42;
    });
    const parent = r.spawn(function* (): Coroutine<number> {
      const v: number = yield child;
      const again: number = yield child; // already done: no wait
      return v + again;
    });
    r.run();
    expect(parent.result()).toBe(84);
    r.close();
  });

  it('cancel() throws CancelledError at the yield point and unregisters the fd', () => {
    const r = reactor();
    const [a] = socketpair();
    const log: string[] = [];
    const task = r.spawn(function* () {
      try {
        yield r.readable(a);
        log.push('resumed');
      } catch (err) {
        log.push(err instanceof CancelledError ? 'cancelled' : 'other');
        throw err;
      }
    });
    expect(r.selector.getMap().has(a)).toBe(true);
    expect(task.cancel()).toBe(true);
    expect(log).toEqual(['cancelled']);
    expect(r.selector.getMap().has(a)).toBe(false);
    expect(task.cancelled).toBe(true);
    expect(() => task.result()).toThrow(CancelledError);
    expect(task.cancel()).toBe(false);
    r.run(); // nothing left: returns at once
    r.close();
  });

  it('cancelling a sleeping task cancels its timer, so run() returns at once', () => {
    const r = reactor();
    const task = r.spawn(function* () {
      yield r.sleep(60_000);
    });
    r.callSoon(() => task.cancel());
    const start = Date.now();
    r.run();
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(task.cancelled).toBe(true);
    r.close();
  });

  it('a cancelled task may catch the error and go on', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const task = r.spawn(function* (): Coroutine<string> {
      try {
        yield r.sleep(60_000);
      } catch {
        /* cancelled: fall back to reading */
      }
      yield r.readable(a);
      return 'read after cancel';
    });
    task.cancel();
    sys.write(b, enc('x'));
    r.run();
    expect(task.result()).toBe('read after cancel');
    r.close();
  });

  // Adding the writer's filter beside the reader's re-adds it: libkqueue's R1.
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('one reader and one writer may wait on the same fd; a second reader is refused', () => {
    const r = reactor();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    const [a, b] = socketpair();
    const log: string[] = [];
    r.spawn(function* () {
      yield r.readable(a);
      log.push('read');
    });
    r.spawn(function* () {
      yield r.writable(a);
      log.push('write');
      sys.write(b, enc('go'));
    });
    const second = r.spawn(function* () {
      yield r.readable(a);
    });
    expect(() => second.result()).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_WAITING' }));
    r.run();
    expect(log).toEqual(['write', 'read']);
    expect(errors).toEqual([second.exception]);
    r.close();
  });

  it('a failed task that nobody waits for is reported to the error listener', () => {
    const r = reactor();
    const errors: Error[] = [];
    r.on('error', (e: Error) => errors.push(e));
    r.spawn(function* () {
      yield r.sleep(1);
      throw new Error('lost?');
    });
    r.run();
    expect(errors.map((e) => e.message)).toEqual(['lost?']);
    r.close();
  });

  it('yielding something that is not a wait throws into the coroutine', () => {
    const r = reactor();
    const t = r.spawn(function* (): Coroutine<string> {
      try {
        yield 42;
      } catch (err) {
        return (err as { code: string }).code;
      }
      return 'no';
    });
    expect(t.result()).toBe('ERR_INVALID_YIELD');
    r.close();
  });
});
