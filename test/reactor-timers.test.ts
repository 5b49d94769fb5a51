// Timer and callSoon ordering, run() returning when idle, stop() and re-run.
import { describe, expect, it } from 'vitest';
import { Reactor } from '../lib/index.js';

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
    r.callLater(30, () => log.push(30));
    for (let i = 0; i < 5; i++) r.callLater(10, () => log.push(i));
    const cancelled = r.callLater(20, () => log.push(20));
    r.callLater(0, () => log.push(-1));
    cancelled.cancel();
    const start = r.time();
    r.run();
    expect(log).toEqual([-1, 0, 1, 2, 3, 4, 30]);
    expect(r.time() - start).toBeGreaterThanOrEqual(29);
    expect(cancelled.cancelled).toBe(true);
    r.close();
  });

  it('keeps heap order through many random inserts and cancels', () => {
    const r = reactor();
    const fired: number[] = [];
    const handles = [];
    for (let i = 0; i < 200; i++) {
      const delay = ((i * 7919) % 23) * 5; // spaced so scheduling time cannot reorder them
      handles.push({ delay, i, h: r.callLater(delay, () => fired.push(i)) });
    }
    const kept = handles.filter(({ i }) => i % 3 !== 0);
    for (const { i, h } of handles) if (i % 3 === 0) h.cancel();
    r.run();
    const expected = [...kept].sort((a, b) => a.delay - b.delay || a.i - b.i).map(({ i }) => i);
    expect(fired).toEqual(expected);
    r.close();
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
