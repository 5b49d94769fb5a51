// Timer and callSoon ordering, run() returning when idle, stop() and re-run.
import { describe, expect, it } from 'vitest';
import { Reactor } from '../lib/index.js';
import { TimerQueue } from '../lib/reactor/timers.js';

function reactor(): Reactor {
  return new Reactor();
}

describe('Reactor timers and callbacks', () => {
  it('runs callSoon callbacks in FIFO order, and those scheduled meanwhile on the next pass', () => {
    const r = reactor();
    const log: string[] = [];
    r.callSoon(() => {
      log.push('a');
      r.callSoon(() => log.push('c'));
    });
    r.callSoon(() => log.push('b'));
    r.run();
    expect(log).toEqual(['a', 'b', 'c']);
    r.close();
  });

  it('fires timers by deadline, ties in scheduling order, and skips cancelled ones', () => {
    const r = reactor();
    const log: number[] = [];
    const start = r.time(); // before scheduling: the 30 ms count from here at the latest
    r.callLater(30, () => log.push(30));
    for (let i = 0; i < 5; i++) r.callLater(10, () => log.push(i));
    const cancelled = r.callLater(20, () => log.push(20));
    r.callLater(0, () => log.push(-1));
    cancelled.cancel();
    r.run();
    expect(log).toEqual([-1, 0, 1, 2, 3, 4, 30]);
    expect(r.time() - start).toBeGreaterThanOrEqual(29);
    expect(cancelled.cancelled).toBe(true);
    r.close();
  });

  it('the timer queue keeps (deadline, scheduling order) through random inserts and cancels', () => {
    // The queue itself, with explicit deadlines: no clock involved. Delays
    // of 0..4 (lists appended out of order too).
    const heap = new TimerQueue();
    const timers = [];
    for (let i = 0; i < 500; i++) timers.push({ i, when: (i * 7919) % 37, t: heap.push((i * 7919) % 37, i % 5, () => {}) });
    for (const { i, t } of timers) if (i % 3 === 0) t.cancel();
    const popped: number[] = [];
    for (let t = heap.pop(); t !== undefined; t = heap.pop()) popped.push(t.seq);
    const expected = timers
      .filter(({ i }) => i % 3 !== 0)
      .sort((a, b) => a.when - b.when || a.i - b.i)
      .map(({ t }) => t.seq);
    expect(popped).toEqual(expected);
    expect(heap.size).toBe(0);
  });

  it('a zero-delay timer scheduled by a timer runs on a later pass', () => {
    const r = reactor();
    const log: string[] = [];
    r.callLater(0, () => {
      log.push('first');
      r.callLater(0, () => log.push('third'));
      r.callSoon(() => log.push('second'));
    });
    r.run();
    expect(log).toEqual(['first', 'second', 'third']);
    r.close();
  });

  it('run() returns at once when there is nothing to wait for, and can run again', () => {
    const r = reactor();
    r.run();
    let n = 0;
    r.callLater(5, () => n++);
    r.run();
    expect(n).toBe(1);
    r.callSoon(() => n++);
    r.run();
    expect(n).toBe(2);
    r.close();
  });

  it('stop() from a callback ends run() after the current pass; the rest runs next time', () => {
    const r = reactor();
    const log: string[] = [];
    r.callSoon(() => {
      log.push('a');
      r.stop();
    });
    r.callSoon(() => log.push('b'));
    r.callLater(10_000, () => log.push('late'));
    r.run();
    expect(log).toEqual(['a', 'b']);
    r.callSoon(() => r.close());
    r.run();
    expect(r.closed).toBe(true);
    expect(log).toEqual(['a', 'b']);
  });

  it('refresh() restarts a timer: it fires its delay after the refresh, once', () => {
    const r = reactor();
    const start = r.time();
    let refreshedAt = 0;
    const fired: number[] = [];
    const idle = r.callLater(30, () => fired.push(r.time()));
    r.callLater(15, () => {
      refreshedAt = r.time();
      expect(idle.refresh()).toBe(idle);
    });
    r.run();
    expect(fired).toHaveLength(1);
    expect(refreshedAt - start).toBeGreaterThanOrEqual(14);
    expect(fired[0]! - refreshedAt).toBeGreaterThanOrEqual(29);
    expect(idle.cancelled).toBe(false);
    r.close();
  });

  it('a refreshed timer fires after the timers of its delay armed before the refresh', () => {
    const r = reactor();
    const log: string[] = [];
    // Both due at the same instant of the clock the pass reads (far enough
    // apart in scheduling that a refresh reorders them): a, then b; after
    // a.refresh(), a is the later one of its list, and fires after b when
    // due together with it.
    const a = r.callLater(5, () => log.push('a'));
    const b = r.callLater(5, () => log.push('b'));
    a.refresh();
    const c = r.callLater(0, () => log.push('c'));
    r.run();
    expect(log).toEqual(['c', 'b', 'a']);
    expect([a.cancelled, b.cancelled, c.cancelled]).toEqual([false, false, false]);
    r.close();
  });

  it('refresh() re-arms a timer that fired, also from its own callback', () => {
    const r = reactor();
    let n = 0;
    const t = r.callLater(1, () => {
      if (++n < 3) t.refresh();
    });
    r.run();
    expect(n).toBe(3);
    t.refresh(); // fired three times: armed again
    r.run();
    expect(n).toBe(4);
    r.close();
  });

  it('a due timer restarted by one fired before it in the same pass waits for its new deadline', () => {
    const r = reactor();
    const log: string[] = [];
    let second: ReturnType<Reactor['callLater']> | undefined;
    // Due in the same pass (the busy first callback makes sure of it).
    const first = r.callLater(1, () => {
      log.push('first');
      second!.refresh();
    });
    second = r.callLater(1, () => log.push(`second after ${Math.round(r.time() - start)} ms`));
    const start = r.time();
    const spin = performance.now() + 3;
    while (performance.now() < spin); // both due before run() starts
    r.run();
    expect(log[0]).toBe('first');
    expect(log).toHaveLength(2);
    expect(Number(/after (\d+) ms/.exec(log[1]!)![1])).toBeGreaterThanOrEqual(3);
    expect(first.cancelled).toBe(false);
    r.close();
  });

  it('refresh() does nothing once the timer was cancelled or the reactor closed: state unchanged', () => {
    const r = reactor();
    let n = 0;
    const t = r.callLater(1, () => n++);
    t.cancel();
    expect(t.refresh()).toBe(t);
    expect(t.cancelled).toBe(true);
    r.run(); // nothing waits: returns at once
    expect(n).toBe(0);
    const u = r.callLater(1, () => n++);
    r.close();
    expect(u.cancelled).toBe(true);
    expect(u.refresh()).toBe(u);
    expect(u.cancelled).toBe(true);
    expect(n).toBe(0);
  });

  it('refresh() of an attached reactor\'s only timer, after it fired, fires it again from Node\'s loop', async () => {
    const r = reactor();
    let n = 0;
    const t = r.callLater(1, () => n++);
    r.attach();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(n).toBe(1);
    t.refresh(); // outside any pass: the attachment must be told
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(n).toBe(2);
    r.close();
  });

  it('a timer armed between two run() calls waits its delay, not the time that passed outside run() on top of it', () => {
    const r = reactor();
    const far = r.callLater(10_000, () => {});
    r.callSoon(() => r.stop()); // the last pass reads the clock for the far timer
    r.run();
    const spin = performance.now() + 300;
    while (performance.now() < spin); // outside run(): the loop's last reading grows old
    const armed = r.time();
    let firedAfter = -1;
    r.callLater(20, () => {
      firedAfter = r.time() - armed;
      far.cancel();
    });
    r.run();
    expect(firedAfter).toBeGreaterThanOrEqual(19);
    expect(firedAfter).toBeLessThan(250); // not 20 ms after the stale reading's 300 ms
    r.close();
  });

  it('rejects bad arguments with coded errors', () => {
    const r = reactor();
    expect(() => r.callLater(Number.NaN, () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => r.callSoon(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    r.close();
    expect(() => r.callSoon(() => {})).toThrow(expect.objectContaining({ code: 'ERR_REACTOR_CLOSED' }));
    expect(() => r.run()).toThrow(expect.objectContaining({ code: 'ERR_REACTOR_CLOSED' }));
  });

  it('reports a throwing callback to the error listener and keeps going', () => {
    const r = reactor();
    const errors: unknown[] = [];
    r.on('error', (err) => errors.push(err));
    const log: string[] = [];
    r.callSoon(() => {
      throw new Error('boom');
    });
    r.callLater(1, () => {
      throw new TypeError('bang');
    });
    r.callLater(2, () => log.push('after'));
    r.run();
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'bang']);
    expect(log).toEqual(['after']);
    r.close();
  });
});
