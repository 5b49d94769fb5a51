// Readiness on real socketpairs and pipes, on every backend.
import { describe, expect, it } from 'vitest';
import { EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys } from '../lib/index.js';
import { BACKENDS, enc, pipe, socketpair, track } from './helpers.js';

const summary = (ready: Array<[{ fd: number }, number]>) =>
  ready.map(([k, ev]) => [k.fd, ev] as [number, number]).sort((x, y) => x[0] - y[0]);

describe.each(BACKENDS)('$name', ({ create }) => {
  it('a socketpair end becomes readable when the peer writes, and stops after draining', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    sys.write(b, enc('hello'));
    expect(summary(sel.select(1000))).toEqual([[a, EVENT_READ]]);
    // Level-triggered: still readable until drained.
    expect(summary(sel.select(0))).toEqual([[a, EVENT_READ]]);
    const buf = new Uint8Array(16);
    expect(sys.read(a, buf)).toBe(5);
    expect(sel.select(0)).toEqual([]);
  });

  it('a socket is writable while its send buffer has room', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_WRITE);
    expect(summary(sel.select(0))).toEqual([[a, EVENT_WRITE]]);
  });

  it('reports read and write in one entry when both are ready', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ | EVENT_WRITE);
    sys.write(b, enc('x'));
    const ready = sel.select(1000);
    expect(summary(ready)).toEqual([[a, EVENT_READ | EVENT_WRITE]]);
  });

  it('pipes: the read end is readable after a write, the write end writable', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ);
    sel.register(w, EVENT_WRITE);
    expect(summary(sel.select(0))).toEqual([[w, EVENT_WRITE]]);
    sys.write(w, enc('abc'));
    expect(summary(sel.select(0))).toEqual([[r, EVENT_READ], [w, EVENT_WRITE]].sort((x, y) => x[0]! - y[0]!));
  });

  it('a pipe whose write end was closed is readable and read returns 0', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ);
    sys.close(w);
    expect(summary(sel.select(1000))).toEqual([[r, EVENT_READ]]);
    expect(sys.read(r, new Uint8Array(8))).toBe(0);
  });

  it('a socket whose peer closed is readable and read returns 0', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ);
    sys.close(b);
    expect(summary(sel.select(1000))).toEqual([[a, EVENT_READ]]);
    expect(sys.read(a, new Uint8Array(8))).toBe(0);
  });

  it('hang-up is reported only within the key\'s interest', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    // Priority too where the backend can watch it (not FreeBSD's kqueue).
    sel.register(a, EVENT_READ | (sel.supportedEvents & EVENT_PRIORITY));
    sys.close(b);
    for (const [key, events] of sel.select(1000)) {
      expect(events & ~key.events).toBe(0);
      expect(events & EVENT_READ).toBe(EVENT_READ);
    }
  });

  it('reported events are a subset of the key\'s events, each fd at most once', () => {
    const sel = track(create());
    const fds: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [a, b] = socketpair();
      // Every fd is both readable and writable; ask for varied subsets.
      sys.write(b, enc('x'));
      sel.register(a, i % 3 === 0 ? EVENT_READ : i % 3 === 1 ? EVENT_WRITE : EVENT_READ | EVENT_WRITE);
      fds.push(a);
    }
    const ready = sel.select(1000);
    const seen = new Set<number>();
    for (const [key, events] of ready) {
      expect(seen.has(key.fd)).toBe(false);
      seen.add(key.fd);
      expect(events).not.toBe(0);
      expect(events & ~key.events).toBe(0);
      expect(events).toBe(key.events); // all of them are ready
    }
    expect([...seen].sort()).toEqual([...fds].sort());
  });

  it('selectRaw fills readyEvents with (fd, events) pairs without allocating keys', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ);
    sys.write(b, enc('x'));
    const n = sel.selectRaw(1000);
    expect(n).toBe(1);
    expect([sel.readyEvents[0], sel.readyEvents[1]]).toEqual([a, EVENT_READ]);
  });

  it('reports every ready fd even when there are more than the initial ready buffer holds', () => {
    const sel = track(create());
    const fds = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const [a] = socketpair();
      sel.register(a, EVENT_WRITE);
      fds.add(a);
    }
    const ready = sel.select(0);
    expect(new Set(ready.map(([k]) => k.fd))).toEqual(fds);
  });
});
