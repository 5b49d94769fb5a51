// register / unregister / modify / getKey / getMap / close / using, on every backend.
import { describe, expect, it } from 'vitest';
import { EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, SelectorKey, sys } from '../lib/index.js';
import { BACKENDS, kqueueLimit, pipe, socketpair, track } from './helpers.js';

describe.each(BACKENDS)('$name', ({ backend, create }) => {
  it('fileno(), on the backends with a kernel object, is a close-on-exec fd (kqueue1, or kqueue then fcntl)', () => {
    const sel = track(create()) as ReturnType<typeof create> & { fileno?: () => number };
    if (typeof sel.fileno !== 'function') {
      expect(['select', 'poll']).toContain(backend);
      return;
    }
    expect(sys.getFdFlags(sel.fileno()).closeOnExec).toBe(true);
  });

  it('register returns the key and getKey finds it by fd or fileobj', () => {
    const sel = track(create<string>());
    const [a] = socketpair();
    const fileobj = { fileno: () => a };
    const key = sel.register(fileobj, EVENT_READ | EVENT_WRITE, 'data');
    expect(key).toBeInstanceOf(SelectorKey);
    expect(key).toMatchObject({ fileobj, fd: a, events: EVENT_READ | EVENT_WRITE, data: 'data', trigger: 'level' });
    expect(sel.getKey(a)).toBe(key);
    expect(sel.getKey(fileobj)).toBe(key);
  });

  it('register without data leaves data undefined', () => {
    const sel = track(create());
    const [a] = pipe();
    expect(sel.register(a, EVENT_READ).data).toBeUndefined();
  });

  it('unregister returns the registered key and forgets the fd', () => {
    const sel = track(create<number>());
    const [a, b] = socketpair();
    const key = sel.register(a, EVENT_READ, 1);
    sel.register(b, EVENT_WRITE, 2);
    expect(sel.unregister(a)).toBe(key);
    expect(() => sel.getKey(a)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
    expect([...sel.getMap().keys()]).toEqual([b]);
    // The fd can be registered again afterwards.
    expect(sel.register(a, EVENT_WRITE, 3).data).toBe(3);
  });

  it('modify changes events only, keeping the data', () => {
    const sel = track(create<string>());
    const [a] = socketpair();
    const key = sel.register(a, EVENT_READ, 'd');
    const changed = sel.modify(a, EVENT_WRITE);
    expect(changed).not.toBe(key);
    expect(changed).toMatchObject({ fd: a, events: EVENT_WRITE, data: 'd' });
    expect(sel.getKey(a)).toBe(changed);
    // The kernel sees the new interest: an idle socket is writable, not readable.
    expect(sel.select(0)).toEqual([[changed, EVENT_WRITE]]);
  });

  it('modify changes data only, and makes no new key when nothing changes', () => {
    const sel = track(create<string>());
    const [a] = socketpair();
    const key = sel.register(a, EVENT_WRITE, 'old');
    const changed = sel.modify(a, EVENT_WRITE, 'new');
    expect(changed).toMatchObject({ events: EVENT_WRITE, data: 'new' });
    expect(sel.modify(a, EVENT_WRITE, 'new')).toBe(changed);
    expect(sel.modify(a, EVENT_WRITE)).toBe(changed);
    expect(key.data).toBe('old'); // keys are immutable
    expect(sel.select(0)).toEqual([[changed, EVENT_WRITE]]);
  });

  // Adds a filter beside a kept one, which libkqueue cannot re-add (R1).
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('modify changes events and data together', () => {
    const sel = track(create<string>());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ, 'r');
    // Priority too where the backend can watch it (not FreeBSD's kqueue).
    const all = EVENT_READ | EVENT_WRITE | (sel.supportedEvents & EVENT_PRIORITY);
    const changed = sel.modify(a, all, 'rw');
    expect(changed).toMatchObject({ events: all, data: 'rw' });
    expect(sel.select(0)).toEqual([[changed, EVENT_WRITE]]);
    void b;
  });

  it('modify with explicit undefined data replaces the data', () => {
    const sel = track(create<string | undefined>());
    const [a] = socketpair();
    sel.register(a, EVENT_READ, 'x');
    expect(sel.modify(a, EVENT_READ, undefined).data).toBeUndefined();
  });

  it('getMap is a live read-only view keyed by fd', () => {
    const sel = track(create<string>());
    const [a, b] = socketpair();
    const map = sel.getMap();
    expect(map.size).toBe(0);
    const ka = sel.register(a, EVENT_READ, 'a');
    const kb = sel.register(b, EVENT_READ, 'b');
    expect(map.size).toBe(2);
    expect(map.get(a)).toBe(ka);
    expect(map.has(b)).toBe(true);
    expect(new Map(map)).toEqual(new Map([[a, ka], [b, kb]]));
    const seen: number[] = [];
    map.forEach((_key, fd) => seen.push(fd));
    expect(seen.sort()).toEqual([a, b].sort());
    sel.unregister(a);
    expect(map.has(a)).toBe(false);
    expect('set' in map).toBe(false);
  });

  it('close is idempotent and frees everything', () => {
    const sel = create();
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    expect(sel.closed).toBe(false);
    sel.close();
    expect(sel.closed).toBe(true);
    sel.close();
    expect(sel.closed).toBe(true);
  });

  it('`using` closes the selector at the end of the block', () => {
    const [a] = socketpair();
    let outer;
    {
      using sel = create();
      sel.register(a, EVENT_READ);
      outer = sel;
      expect(outer.closed).toBe(false);
    }
    expect(outer.closed).toBe(true);
  });

  it('reports its backend name', () => {
    const sel = track(create());
    expect(['select', 'poll', 'epoll', 'kqueue', 'io_uring']).toContain(sel.backend);
  });
});
