// fd handlers on every backend: dispatch, stop from a handler, mutation
// while a pass dispatches, and errors reaching the 'error' listener.
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, kqueueLimit, socketpair, track } from './helpers.js';

describe.each(BACKENDS)('Reactor handlers on $name', ({ backend, create }) => {
  function reactor(): Reactor {
    return new Reactor({ selector: track(create()) });
  }

  it('calls a handler with its fd and ready events, and returns once handlers are gone', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const seen: Array<[number, number]> = [];
    r.addHandler(
      a,
      (fd, events) => {
        seen.push([fd, events]);
        const buf = new Uint8Array(16);
        expect(sys.read(fd, buf)).toBe(4);
        r.removeHandler(fd);
      },
      EVENT_READ,
    );
    sys.write(b, enc('ping'));
    r.run();
    expect(seen).toEqual([[a, EVENT_READ]]);
    expect(r.hasHandler(a)).toBe(false);
    r.close();
  });

  it('stop() inside a handler ends run() after the pass, and run() resumes later', () => {
    const r = reactor();
    const [a, b] = socketpair();
    let calls = 0;
    r.addHandler(
      b,
      () => {
        calls++;
        r.stop();
      },
      EVENT_WRITE,
    );
    r.run();
    expect(calls).toBe(1);
    r.run();
    expect(calls).toBe(2);
    void a;
    r.close();
  });

  // Adding READ beside the kept WRITE filter re-adds it: libkqueue's R1.
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('updateHandler changes the events a handler receives', () => {
    const r = reactor();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    const [a] = socketpair();
    const seen: number[] = [];
    r.addHandler(
      a,
      (fd, events) => {
        seen.push(events);
        if (seen.length === 1) r.updateHandler(fd, EVENT_READ | EVENT_WRITE);
        else r.removeHandler(fd);
      },
      EVENT_WRITE,
    );
    r.run();
    expect(seen).toEqual([EVENT_WRITE, EVENT_WRITE]);
    expect(errors).toEqual([]);
    r.close();
  });

  it('a handler removed by an earlier handler of the same pass gets no stale event', () => {
    const r = reactor();
    const [a1, a2] = socketpair();
    const [b1, b2] = socketpair();
    const calls: number[] = [];
    // Both fds are writable, so one wait reports both; whichever runs first
    // removes the other, which must then not be called.
    const handler = (fd: number) => {
      calls.push(fd);
      const other = fd === a1 ? b1 : a1;
      r.removeHandler(other);
      r.removeHandler(fd);
    };
    r.addHandler(a1, handler, EVENT_WRITE);
    r.addHandler(b1, handler, EVENT_WRITE);
    r.run();
    expect(calls.length).toBe(1);
    void a2;
    void b2;
    r.close();
  });

  it('a handler replaced during a pass (same fd number) never gets that wait\'s event', () => {
    const r = reactor();
    const [x1, x2] = socketpair();
    const [y1, y2] = socketpair();
    sys.write(x2, enc('x'));
    sys.write(y2, enc('y'));
    // x1 and y1 are readable in the same wait. Whichever handler runs first
    // replaces the other's; callSoon marks the start of the next pass, so a
    // replacement called before the mark got a stale event.
    let nextPass = false;
    const log: string[] = [];
    const replacement = (fd: number) => {
      log.push(nextPass ? 'new, next wait' : 'new, same wait');
      sys.read(fd, new Uint8Array(8));
      r.removeHandler(fd);
    };
    const original = (fd: number) => {
      log.push('original');
      sys.read(fd, new Uint8Array(8));
      r.removeHandler(fd);
      const other = fd === x1 ? y1 : x1;
      if (r.removeHandler(other)) {
        r.addHandler(other, replacement, EVENT_READ);
        r.callSoon(() => (nextPass = true));
      }
    };
    r.addHandler(x1, original, EVENT_READ);
    r.addHandler(y1, original, EVENT_READ);
    r.run();
    expect(log).toEqual(['original', 'new, next wait']);
    r.close();
  });

  // Dropping WRITE keeps the READ filter, which is re-added: libkqueue's R1,
  // whose stale errno makes the outcome vary from run to run.
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('a handler that modifies its own interest is not given events it dropped', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const log: number[] = [];
    sys.write(b, enc('z'));
    // Readable and writable in one wait; the first delivery drops WRITE.
    r.addHandler(
      a,
      (fd, events) => {
        log.push(events);
        if (log.length === 1) {
          r.updateHandler(fd, EVENT_READ);
          r.callSoon(() => r.removeHandler(fd));
        }
      },
      EVENT_READ | EVENT_WRITE,
    );
    r.run();
    expect(log[0]).toBe(EVENT_READ | EVENT_WRITE);
    for (const ev of log.slice(1)) expect(ev).toBe(EVENT_READ);
    r.close();
  });

  it('a handler exception reaches the error listener and the loop continues', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const errors: Error[] = [];
    r.on('error', (err: Error) => errors.push(err));
    let reads = 0;
    r.addHandler(
      a,
      (fd) => {
        const n = sys.read(fd, new Uint8Array(1));
        reads++;
        if (n === 1 && reads === 1) throw new Error('handler failed');
        if (reads === 3) r.removeHandler(fd);
      },
      EVENT_READ,
    );
    sys.write(b, enc('abc'));
    r.run();
    expect(errors.map((e) => e.message)).toEqual(['handler failed']);
    expect(reads).toBe(3);
    r.close();
  });

  it('rejects a second handler for an fd and removal of none', () => {
    const r = reactor();
    const [a] = socketpair();
    r.addHandler(a, () => {}, EVENT_READ);
    expect(() => r.addHandler(a, () => {}, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_REGISTERED' }));
    expect(() => r.updateHandler(a + 1000, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
    expect(() => r.addHandler(a + 1, () => {}, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_EVENTS' }));
    expect(r.removeHandler(a)).toBe(true);
    expect(r.removeHandler(a)).toBe(false);
    r.close();
  });
});
