// Every row of SPEC's error table, on every backend, with the selector's
// state unchanged after each rejected call.
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, EVENT_READ, EVENT_WRITE, SelectSelector, selectorClass, sys, type BaseSelector } from '../lib/index.js';
import { binding } from '../lib/native.js';
import { BACKENDS, pipe, socketpair, track } from './helpers.js';

const snapshot = (sel: BaseSelector<unknown>) => [...sel.getMap().entries()];

function rejects(sel: BaseSelector<unknown>, call: () => unknown, expected: { name?: string; code: string }) {
  const before = snapshot(sel);
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Error);
  expect(caught).toMatchObject(expected);
  if (expected.name) expect((caught as Error).name).toBe(expected.name);
  expect(snapshot(sel)).toEqual(before);
}

describe.each(BACKENDS)('$name', ({ create }) => {
  it('ERR_INVALID_FD: not a non-negative integer fd, or fileno() returning none', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ, 'kept');
    const typeCases: unknown[] = ['3', null, undefined, {}, [], 3n, () => 3];
    const rangeCases: unknown[] = [-1, 1.5, NaN, Infinity, 2 ** 31];
    const filenoCases: unknown[] = [
      { fileno: () => -1 },
      { fileno: () => '3' },
      { fileno: () => undefined },
      { fileno: () => { throw new Error('closed'); } },
    ];
    for (const bad of typeCases) {
      rejects(sel, () => sel.register(bad as number, EVENT_READ), { name: 'TypeError', code: 'ERR_INVALID_FD' });
      rejects(sel, () => sel.unregister(bad as number), { name: 'TypeError', code: 'ERR_INVALID_FD' });
      rejects(sel, () => sel.modify(bad as number, EVENT_READ), { name: 'TypeError', code: 'ERR_INVALID_FD' });
      rejects(sel, () => sel.getKey(bad as number), { name: 'TypeError', code: 'ERR_INVALID_FD' });
    }
    for (const bad of rangeCases) {
      rejects(sel, () => sel.register(bad as number, EVENT_READ), { name: 'RangeError', code: 'ERR_INVALID_FD' });
      rejects(sel, () => sel.getKey(bad as number), { name: 'RangeError', code: 'ERR_INVALID_FD' });
    }
    for (const bad of filenoCases) {
      rejects(sel, () => sel.register(bad as { fileno(): number }, EVENT_READ), { code: 'ERR_INVALID_FD' });
    }
  });

  it('ERR_INVALID_EVENTS: zero, not an integer, or unknown bits', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ, 'kept');
    for (const bad of [0, 8, 1.5, -1, NaN, '1', null, undefined, EVENT_READ | 16]) {
      rejects(sel, () => sel.register(b, bad as number), { name: 'RangeError', code: 'ERR_INVALID_EVENTS' });
      rejects(sel, () => sel.modify(a, bad as number), { name: 'RangeError', code: 'ERR_INVALID_EVENTS' });
    }
  });

  it('ERR_ALREADY_REGISTERED: register of an fd already registered', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ, 'first');
    rejects(sel, () => sel.register(a, EVENT_WRITE, 'second'), { code: 'ERR_ALREADY_REGISTERED' });
    rejects(sel, () => sel.register({ fileno: () => a }, EVENT_WRITE), { code: 'ERR_ALREADY_REGISTERED' });
  });

  it('ERR_NOT_REGISTERED: unregister, modify and getKey of an fd not registered', () => {
    const sel = track(create());
    const [a, b] = socketpair();
    sel.register(a, EVENT_READ);
    rejects(sel, () => sel.unregister(b), { code: 'ERR_NOT_REGISTERED' });
    rejects(sel, () => sel.modify(b, EVENT_READ), { code: 'ERR_NOT_REGISTERED' });
    rejects(sel, () => sel.getKey(b), { code: 'ERR_NOT_REGISTERED' });
  });

  it('ERR_SELECTOR_CLOSED: every call but close on a closed selector', () => {
    const sel = create();
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    const map = sel.getMap();
    sel.close();
    const calls: Array<() => unknown> = [
      () => sel.register(a, EVENT_READ),
      () => sel.unregister(a),
      () => sel.modify(a, EVENT_WRITE),
      () => sel.select(0),
      () => sel.selectRaw(0),
      () => sel.getKey(a),
      () => sel.getMap(),
      () => map.size,
      () => map.get(a),
      () => [...map],
    ];
    const withFileno = sel as unknown as { fileno?: () => number };
    if (typeof withFileno.fileno === 'function') calls.push(() => withFileno.fileno!());
    for (const call of calls) expect(call).toThrow(expect.objectContaining({ code: 'ERR_SELECTOR_CLOSED' }));
    expect(() => sel.close()).not.toThrow();
  });

  it('the kernel refuses: a closed fd is EBADF with errno and syscall', () => {
    const sel = track(create());
    const [a, b] = sys.socketpair();
    const [c] = socketpair();
    sel.register(c, EVENT_READ, 'kept');
    sys.close(a);
    sys.close(b);
    const before = snapshot(sel);
    let caught: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      sel.register(a, EVENT_READ);
    } catch (err) {
      caught = err as typeof caught;
    }
    expect(caught).toMatchObject({ code: 'EBADF', errno: -9 });
    expect(typeof caught?.syscall).toBe('string');
    expect(caught?.message).toMatch(/^EBADF: bad file descriptor, \w+$/);
    expect(snapshot(sel)).toEqual(before);
  });

  it('rejects an unknown trigger mode, and one the backend cannot honour', () => {
    const sel = track(create());
    const [a] = socketpair();
    rejects(sel, () => sel.register(a, EVENT_READ, undefined, { trigger: 'sometimes' as 'edge' }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
    if (sel.backend === 'select' || sel.backend === 'poll') {
      rejects(sel, () => sel.register(a, EVENT_READ, undefined, { trigger: 'edge' }), { code: 'ERR_UNSUPPORTED_TRIGGER' });
    }
  });
});

describe('backend-specific errors', () => {
  const epoll = BACKENDS.find((b) => b.name === 'epoll');
  it.skipIf(!epoll)('epoll (Linux only) refuses a regular file with EPERM; the selector is unchanged', () => {
    const sel = track(epoll!.create());
    const [a] = pipe();
    sel.register(a, EVENT_READ, 'kept');
    const path = join(tmpdir(), `node-selectors-${process.pid}.txt`);
    const fd = openSync(path, 'w');
    try {
      rejects(sel, () => sel.register(fd, EVENT_READ), { code: 'EPERM' });
    } finally {
      closeSync(fd);
    }
  });

  it('SelectSelector rejects fd >= FD_SETSIZE with ERR_FD_OUT_OF_RANGE', () => {
    const sel = track(new SelectSelector());
    for (const fd of [1024, 5000, 2 ** 31 - 1]) {
      rejects(sel, () => sel.register(fd, EVENT_READ), { name: 'RangeError', code: 'ERR_FD_OUT_OF_RANGE' });
    }
  });

  // Every build lacks some backend: epoll and io_uring outside Linux, kqueue
  // on Linux but for the libkqueue build.
  const missing = BACKEND_NAMES.filter((name) => !binding.backends.includes(name));
  it.each(missing)('%s, not compiled into this build, is ERR_BACKEND_UNAVAILABLE', (name) => {
    expect(() => new (selectorClass(name))()).toThrow(expect.objectContaining({ code: 'ERR_BACKEND_UNAVAILABLE' }));
  });
});
