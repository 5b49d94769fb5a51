// What is particular to io_uring: poll requests live in the kernel after the
// call that made them, so cancellation and stale completions need checking.
import { describe, expect, it } from 'vitest';
import { availableBackends, EVENT_READ, EVENT_WRITE, IoUringSelector, sys } from '../lib/index.js';
import { fdTarget, isOpen } from './fds.js';
import { enc, pipe, socketpair, track } from './helpers.js';

const summary = (ready: Array<[{ fd: number }, number]>) =>
  ready.map(([k, ev]) => [k.fd, ev] as [number, number]).sort((x, y) => x[0] - y[0]);

describe.runIf(availableBackends().includes('io_uring'))('IoUringSelector', () => {
  it('fileno() is the ring, a close-on-exec fd of its own', () => {
    const sel = track(new IoUringSelector());
    const fd = sel.fileno();
    // io_uring is Linux's, and so is /proc: the fd helper names the object.
    expect(fdTarget(fd)).toBe('anon_inode:[io_uring]');
    expect(sys.getFdFlags(fd).closeOnExec).toBe(true);
    sel.close();
    expect(isOpen(fd)).toBe(false);
  });

  it('unregister drops the armed poll at once: a socket closed after it sends EOF to its peer', () => {
    const sel = track(new IoUringSelector());
    const [a, b] = sys.socketpair();
    sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]); // arms the poll request
    sel.unregister(a);
    sys.close(a);
    // If the request still held the file, the socket would stay open and the
    // peer would see "would block" instead of end of stream.
    expect(sys.read(b, new Uint8Array(4))).toBe(0);
    sys.close(b);
  });

  it('after modify, completions of the old request are never reported', () => {
    const sel = track(new IoUringSelector());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    sel.modify(a, EVENT_WRITE);
    // Data arrives: the old READ request would complete now, had it not been
    // cancelled; only the new interest is reported.
    sys.write(b, enc('x'));
    for (let i = 0; i < 3; i++) expect(summary(sel.select(0))).toEqual([[a, EVENT_WRITE]]);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    expect(summary(sel.select(0))).toEqual([[a, EVENT_READ | EVENT_WRITE]]);
  });

  it('a re-registered fd reports its new interest only, with no completion of the old registration', () => {
    const sel = track(new IoUringSelector());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ, 'old');
    expect(sel.select(0)).toEqual([]);
    sel.unregister(r);
    sys.write(w, enc('x'));
    sel.register(r, EVENT_READ, 'new');
    const ready = sel.select(1000);
    expect(ready.map(([k, ev]) => [k.data, ev])).toEqual([['new', EVENT_READ]]);
    sel.unregister(r);
    expect(sel.select(0)).toEqual([]);
  });

  it('more fds than the submission queue holds: all are armed, only the ready ones reported', () => {
    const sel = track(new IoUringSelector());
    const pairs = Array.from({ length: 1000 }, () => socketpair());
    for (const [a] of pairs) sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    const chosen = [3, 500, 999].map((i) => pairs[i]!);
    for (const [, b] of chosen) sys.write(b, enc('x'));
    expect(summary(sel.select(1000))).toEqual(chosen.map(([a]) => [a, EVENT_READ] as [number, number]).sort((x, y) => x[0] - y[0]));
  });

  it('more ready fds than the completion queue holds: every one is reported, each once per select', () => {
    const sel = track(new IoUringSelector());
    // 5000 writable pipe ends: 5000 completions at once, beyond the 4096
    // entries of the completion queue, so some wait in the kernel's overflow list.
    const ends = Array.from({ length: 5000 }, () => pipe()[1]);
    for (const w of ends) sel.register(w, EVENT_WRITE);
    const seen = new Set<number>();
    for (let i = 0; i < 4 && seen.size < ends.length; i++) {
      const ready = sel.select(1000);
      const fds = ready.map(([k]) => k.fd);
      expect(new Set(fds).size).toBe(fds.length);
      for (const fd of fds) seen.add(fd);
    }
    expect(seen.size).toBe(ends.length);
  }, 60_000);

  it('an fd closed while armed neither hangs nor crashes; unregister still succeeds', () => {
    const sel = track(new IoUringSelector());
    const [a, b] = sys.socketpair();
    const key = sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    sys.close(a);
    // The armed request keeps the socket alive, so nothing is ready yet.
    expect(sel.select(10)).toEqual([]);
    expect(sel.unregister(a)).toBe(key);
    // Unregister released the last reference: the peer sees end of stream.
    expect(sys.read(b, new Uint8Array(4))).toBe(0);
    sys.close(b);
  });
});
