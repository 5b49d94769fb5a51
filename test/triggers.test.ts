// Trigger modes on every backend: level (the default), edge and oneshot, on
// register and on modify; a backend that cannot honour a mode refuses it.
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys, type BaseSelector, type Trigger } from '../lib/index.js';
import { BACKENDS, enc, kqueueLimit, pipe, track } from './helpers.js';

// What each backend honours on this machine. io_uring's edge mode needs
// multishot poll (Linux 5.13); the kernels this suite runs on have it.
const SUPPORTED: Record<string, Trigger[]> = {
  epoll: ['level', 'edge', 'oneshot'],
  kqueue: ['level', 'edge', 'oneshot'],
  io_uring: ['level', 'edge', 'oneshot'],
  poll: ['level', 'oneshot'],
  select: ['level', 'oneshot'],
};

const fds = (sel: BaseSelector) => sel.select(0).map(([k, ev]) => [k.fd, ev]);

describe.each(BACKENDS)('$name', ({ create, backend }) => {
  const supported = SUPPORTED[backend]!;

  it.each(['edge', 'oneshot'] as const)('%s: honoured, or refused with ERR_UNSUPPORTED_TRIGGER and no change', (trigger) => {
    const sel = track(create());
    const [r] = pipe();
    if (supported.includes(trigger)) {
      expect(sel.register(r, EVENT_READ, undefined, { trigger }).trigger).toBe(trigger);
      return;
    }
    expect(() => sel.register(r, EVENT_READ, undefined, { trigger })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_TRIGGER' }),
    );
    expect(sel.getMap().size).toBe(0);
    sel.register(r, EVENT_READ);
    expect(() => sel.modify(r, EVENT_READ, undefined, { trigger })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_TRIGGER' }),
    );
    expect(sel.getKey(r).trigger).toBe('level');
  });

  it('level: a pipe with unread data is reported by every select', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ, undefined, { trigger: 'level' });
    sys.write(w, enc('a'));
    for (let i = 0; i < 3; i++) expect(fds(sel)).toEqual([[r, EVENT_READ]]);
  });

  it.runIf(supported.includes('edge'))('edge: a pipe is reported once, then again only when more data arrives', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ, undefined, { trigger: 'edge' });
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('a'));
    expect(sel.select(1000).map(([k, ev]) => [k.fd, ev])).toEqual([[r, EVENT_READ]]);
    // The data is still there, unread, but nothing changed: no report.
    expect(fds(sel)).toEqual([]);
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('b'));
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
    expect(sys.read(r, new Uint8Array(8))).toBe(2);
  });

  it.runIf(supported.includes('edge'))('edge through modify: a level key switched to edge stops repeating', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ);
    sys.write(w, enc('a'));
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    // Switching re-registers the fd: it is ready now, so it is reported once.
    expect(sel.modify(r, EVENT_READ, undefined, { trigger: 'edge' }).trigger).toBe('edge');
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('b'));
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    // And back to level: reported while the data stays.
    sel.modify(r, EVENT_READ, undefined, { trigger: 'level' });
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
  });

  // Re-arming re-adds the fired filter, which libkqueue refuses (R1).
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('oneshot: reported once, silent until modify re-arms it, even as more data arrives', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ, 'k', { trigger: 'oneshot' });
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('a'));
    expect(sel.select(1000).map(([k, ev]) => [k.fd, ev])).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('b'));
    expect(fds(sel)).toEqual([]);
    // modify with the same events and data re-arms a oneshot key.
    const key = sel.modify(r, EVENT_READ);
    expect(key.trigger).toBe('oneshot');
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
    // Re-armed for other events, it reports those.
    sel.modify(r, EVENT_READ | EVENT_WRITE);
    expect(fds(sel)).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
  });

  it('oneshot: an fd that is not ready when armed is reported once when it becomes ready', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(w, EVENT_WRITE, undefined, { trigger: 'oneshot' });
    sel.register(r, EVENT_READ, undefined, { trigger: 'oneshot' });
    expect(fds(sel)).toEqual([[w, EVENT_WRITE]]);
    expect(fds(sel)).toEqual([]);
    sys.write(w, enc('x'));
    expect(sel.select(1000).map(([k, ev]) => [k.fd, ev])).toEqual([[r, EVENT_READ]]);
    expect(fds(sel)).toEqual([]);
  });
});
