// Linux's event fds through `sys`, each driven by every selector backend:
// eventfd counters (plain and semaphore), timerfd expirations (one-shot,
// interval, disarmed), inotify on a temporary directory changed by a real
// `sh`, and the pidfd of a real child process, whose exit Node's
// child_process still sees. Each family runs where sys.supports says the
// platform has it; where it does not, its calls must throw ERR_NOT_SUPPORTED.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys, type BaseSelector } from '../lib/index.js';

type InotifyEvent = sys.InotifyEvent;
import { BACKENDS, fdsNewSince, DIST_INDEX, fdsChangedSince, openFds, owned, pipe, release, thrown, track } from './helpers.js';

const hasEventfd = sys.supports('eventfd');
const hasTimerfd = sys.supports('timerfd');
const hasInotify = sys.supports('inotifyInit');
const hasPidfd = sys.supports('pidfdOpen');
// strace must exist and be allowed to trace (some containers forbid ptrace).
const strace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'sys-linux-'));
let fdsBefore: number[] = [];
beforeAll(() => {
  fdsBefore = openFds();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // Every fd the file made (and every error path) is closed again.
  expect(await fdsChangedSince(fdsBefore)).toEqual([]);
});

/** An 8-byte counter buffer: `counter[0]` is the u64 the kernel reads or writes, in host byte order. */
function counterBuffer(): { counter: BigUint64Array; bytes: Uint8Array } {
  const counter = new BigUint64Array(1);
  return { counter, bytes: new Uint8Array(counter.buffer) };
}

function writeCounter(fd: number, value: bigint): number {
  const { counter, bytes } = counterBuffer();
  counter[0] = value;
  return sys.write(fd, bytes);
}

/** The counter a read returns, or null when it would block. */
function readCounter(fd: number): bigint | null {
  const { counter, bytes } = counterBuffer();
  const n = sys.read(fd, bytes);
  if (n === -1) return null;
  expect(n).toBe(8);
  return counter[0]!;
}

/** The events `sel` reports for `fd` within `ms` (0 when none). */
function eventsOf(sel: BaseSelector<unknown>, fd: number, ms: number): number {
  for (const [key, events] of sel.select(ms)) if (key.fd === fd) return events;
  return 0;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Expects `call` to throw an error with `code` (and, if given, the error class `name`). */
function expectCode(call: () => unknown, code: string, name?: string): void {
  const err = thrown(call) as { code?: string; name?: string } | undefined;
  expect(err, `expected ${code}`).toBeInstanceOf(Error);
  expect(err!.code).toBe(code);
  if (name !== undefined) expect(err!.name).toBe(name);
}

/** Runs `call`, which must throw, and checks that it opened no fd. */
function expectCodeNoLeak(call: () => unknown, code: string, name?: string): void {
  const before = openFds();
  expectCode(call, code, name);
  expect(fdsNewSince(before)).toEqual([]);
}

describe('unsupported calls', () => {
  const families: Array<[string, boolean, Array<() => unknown>]> = [
    ['eventfd', hasEventfd, [() => sys.eventfd()]],
    ['timerfd', hasTimerfd, [() => sys.timerfd(), () => sys.timerfdSet(0, 1)]],
    [
      'inotify',
      hasInotify,
      [() => sys.inotifyInit(), () => sys.inotifyAddWatch(0, dir, 1), () => sys.inotifyRemoveWatch(0, 1), () => sys.parseInotify(new Uint8Array(0), 0)],
    ],
    ['pidfd', hasPidfd, [() => sys.pidfdOpen(process.pid)]],
  ];
  for (const [family, supported, calls] of families) {
    it.skipIf(supported)(`${family}: every call throws ERR_NOT_SUPPORTED, before looking at its arguments`, () => {
      for (const call of calls) expectCodeNoLeak(call, 'ERR_NOT_SUPPORTED');
    });
  }

  it('a family is supported as a whole, and the IN_* constants exist exactly with inotify', () => {
    expect(sys.supports('timerfdSet')).toBe(hasTimerfd);
    for (const name of ['inotifyAddWatch', 'inotifyRemoveWatch', 'parseInotify']) expect(sys.supports(name), name).toBe(hasInotify);
    const constants = Object.entries(sys).filter(([name]) => name.startsWith('IN_'));
    expect(constants.length).toBe(24);
    for (const [name, value] of constants) {
      if (hasInotify) expect(typeof value, name).toBe('number');
      else expect(value, name).toBeUndefined();
    }
  });
});

describe.runIf(hasEventfd)('eventfd', () => {
  it('is non-blocking and close-on-exec', () => {
    const fd = owned(sys.eventfd());
    expect(sys.getFdFlags(fd)).toEqual({ nonBlocking: true, closeOnExec: true });
  });

  it('reads back the sum of the writes and resets to 0; empty, a read returns -1', () => {
    const fd = owned(sys.eventfd(5));
    expect(writeCounter(fd, 3n)).toBe(8);
    expect(writeCounter(fd, 0x1_0000_0000n)).toBe(8); // above 2^32: the counter is 64-bit
    expect(readCounter(fd)).toBe(0x1_0000_0008n);
    expect(readCounter(fd)).toBeNull();
  });

  it('in semaphore mode, reads 1 at a time', () => {
    const fd = owned(sys.eventfd(2, { semaphore: true }));
    expect(writeCounter(fd, 1n)).toBe(8);
    expect([readCounter(fd), readCounter(fd), readCounter(fd), readCounter(fd)]).toEqual([1n, 1n, 1n, null]);
  });

  it('a write that would pass 2^64 - 2 returns -1 and leaves the counter as it was', () => {
    const fd = owned(sys.eventfd());
    expect(writeCounter(fd, 0xffff_ffff_ffff_fffen)).toBe(8);
    expect(writeCounter(fd, 1n)).toBe(-1);
    expect(readCounter(fd)).toBe(0xffff_ffff_ffff_fffen);
  });

  it('refuses a buffer of fewer than 8 bytes and the value 2^64 - 1 (EINVAL)', () => {
    const fd = owned(sys.eventfd(1));
    expectCode(() => sys.read(fd, new Uint8Array(4)), 'EINVAL');
    expectCode(() => writeCounter(fd, 0xffff_ffff_ffff_ffffn), 'EINVAL');
    expect(readCounter(fd)).toBe(1n);
  });

  it('refuses bad arguments with coded errors, opening no fd', () => {
    for (const bad of [-1, 1.5, 2 ** 32, NaN, Infinity]) expectCodeNoLeak(() => sys.eventfd(bad), 'ERR_OUT_OF_RANGE', 'RangeError');
    expectCodeNoLeak(() => sys.eventfd('1' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.eventfd(0, null as unknown as object), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.eventfd(0, true as unknown as object), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.eventfd(0, { semaphore: 1 as unknown as boolean }), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    const fd = owned(sys.eventfd(2 ** 32 - 1));
    expect(readCounter(fd)).toBe(2n ** 32n - 1n);
  });

  describe.each(BACKENDS)('on $name', ({ create }) => {
    it('is writable at once, readable only after a write, and not after the read', () => {
      const sel = track(create());
      const fd = owned(sys.eventfd());
      sel.register(fd, EVENT_READ | EVENT_WRITE);
      expect(eventsOf(sel, fd, 0)).toBe(EVENT_WRITE);
      writeCounter(fd, 7n);
      expect(eventsOf(sel, fd, 1000)).toBe(EVENT_READ | EVENT_WRITE);
      expect(readCounter(fd)).toBe(7n);
      expect(eventsOf(sel, fd, 0)).toBe(EVENT_WRITE);
    });

    it('is not writable while full; in semaphore mode stays readable until the count is taken', () => {
      const sel = track(create());
      const full = owned(sys.eventfd());
      writeCounter(full, 0xffff_ffff_ffff_fffen);
      sel.register(full, EVENT_WRITE);
      expect(eventsOf(sel, full, 0)).toBe(0);
      readCounter(full);
      expect(eventsOf(sel, full, 1000)).toBe(EVENT_WRITE);
      sel.unregister(full);

      const sem = owned(sys.eventfd(2, { semaphore: true }));
      sel.register(sem, EVENT_READ);
      expect(eventsOf(sel, sem, 1000)).toBe(EVENT_READ);
      readCounter(sem);
      expect(eventsOf(sel, sem, 1000)).toBe(EVENT_READ);
      readCounter(sem);
      expect(eventsOf(sel, sem, 0)).toBe(0);
    });
  });
});

describe.runIf(hasTimerfd)('timerfd', () => {
  it('is non-blocking and close-on-exec, disarmed: a read returns -1', () => {
    const fd = owned(sys.timerfd());
    expect(sys.getFdFlags(fd)).toEqual({ nonBlocking: true, closeOnExec: true });
    expect(readCounter(fd)).toBeNull();
  });

  it('an interval timer counts every expiration since the last read', () => {
    const fd = owned(sys.timerfd());
    const start = performance.now();
    sys.timerfdSet(fd, 5, 5);
    sleepSync(80);
    const count = readCounter(fd)!;
    const elapsed = performance.now() - start;
    // The kernel counts the 5 ms periods between the set and the read, scheduled or not:
    // at least the 16 of the 80 ms slept (one less for rounding), at most those of all the time that passed.
    expect(count).toBeGreaterThanOrEqual(15n);
    expect(count).toBeLessThanOrEqual(BigInt(Math.ceil(elapsed / 5)));
    sys.timerfdSet(fd, 0); // disarmed: nothing more
    sleepSync(20);
    expect(readCounter(fd)).toBeNull();
  });

  it('takes milliseconds as floats: 0.25 ms fires, and a positive time too small for a nanosecond still fires', () => {
    for (const ms of [0.25, 1e-9]) {
      const fd = owned(sys.timerfd());
      sys.timerfdSet(fd, ms);
      sleepSync(5);
      expect(readCounter(fd), String(ms)).toBe(1n);
      release(fd);
    }
  });

  it('refuses bad arguments with coded errors, leaving the timer as it was', () => {
    const fd = owned(sys.timerfd());
    for (const bad of [-1, -0.001, NaN, Infinity, 2147483647001]) {
      expectCodeNoLeak(() => sys.timerfdSet(fd, bad), 'ERR_OUT_OF_RANGE', 'RangeError');
      expectCodeNoLeak(() => sys.timerfdSet(fd, 1, bad), 'ERR_OUT_OF_RANGE', 'RangeError');
    }
    expectCodeNoLeak(() => sys.timerfdSet(fd, '5' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.timerfdSet(fd, 5, null as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.timerfdSet(-1, 5), 'ERR_INVALID_FD');
    sleepSync(5);
    expect(readCounter(fd)).toBeNull(); // still disarmed
    const [r] = pipe();
    const err = thrown(() => sys.timerfdSet(r, 5)) as { code: string; syscall: string };
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'timerfd_settime' });
  });

  describe.each(BACKENDS)('on $name', ({ create }) => {
    it('becomes readable when it expires, not before, and reads 1', () => {
      const sel = track(create());
      const fd = owned(sys.timerfd());
      sel.register(fd, EVENT_READ);
      const start = performance.now();
      sys.timerfdSet(fd, 30);
      expect(eventsOf(sel, fd, 0)).toBe(0);
      let events = 0;
      while (events === 0 && performance.now() - start < 5000) events = eventsOf(sel, fd, 1000);
      expect(events).toBe(EVENT_READ);
      // The timer's clock and performance.now() are both monotonic; 1 ms of slack for rounding.
      expect(performance.now() - start).toBeGreaterThanOrEqual(29);
      expect(readCounter(fd)).toBe(1n);
      expect(eventsOf(sel, fd, 0)).toBe(0);
    });

    it('reports each period of an interval timer; disarmed, never again', () => {
      const sel = track(create());
      const fd = owned(sys.timerfd());
      sel.register(fd, EVENT_READ);
      sys.timerfdSet(fd, 10, 10);
      let total = 0n;
      for (let i = 0; i < 3; i++) {
        expect(eventsOf(sel, fd, 2000)).toBe(EVENT_READ);
        total += readCounter(fd)!;
      }
      expect(total).toBeGreaterThanOrEqual(3n);
      sys.timerfdSet(fd, 0);
      readCounter(fd); // an expiry between the last read and the disarm
      expect(eventsOf(sel, fd, 50)).toBe(0);
    });

    it('re-armed before it fires, fires only at the new time', () => {
      const sel = track(create());
      const fd = owned(sys.timerfd());
      sel.register(fd, EVENT_READ);
      sys.timerfdSet(fd, 20);
      sys.timerfdSet(fd, 0); // disarm
      expect(eventsOf(sel, fd, 60)).toBe(0);
      sys.timerfdSet(fd, 1);
      expect(eventsOf(sel, fd, 2000)).toBe(EVENT_READ);
      expect(readCounter(fd)).toBe(1n);
    });
  });
});

/** Every event queued on an inotify fd now. */
function drainInotify(fd: number): InotifyEvent[] {
  const buf = new Uint8Array(4096);
  const events: InotifyEvent[] = [];
  for (let n = sys.read(fd, buf); n > 0; n = sys.read(fd, buf)) events.push(...sys.parseInotify(buf, n));
  return events;
}

/** The IN_* names of the bits of `mask`. */
function maskNames(mask: number): string[] {
  const names = ['IN_CREATE', 'IN_OPEN', 'IN_MODIFY', 'IN_CLOSE_WRITE', 'IN_CLOSE_NOWRITE', 'IN_ACCESS', 'IN_ATTRIB', 'IN_MOVED_FROM', 'IN_MOVED_TO', 'IN_DELETE', 'IN_DELETE_SELF', 'IN_MOVE_SELF', 'IN_IGNORED', 'IN_ISDIR', 'IN_Q_OVERFLOW', 'IN_UNMOUNT'] as const;
  return names.filter((name) => (mask & sys[name]!) !== 0);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A struct inotify_event as the kernel writes it, with `name` padded by `pad` NULs. */
function rawEvent(wd: number, mask: number, cookie: number, name: string, pad = 0): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const len = name === '' && pad === 0 ? 0 : nameBytes.length + pad;
  const out = new Uint8Array(16 + len);
  const view = new DataView(out.buffer);
  view.setInt32(0, wd, LITTLE_ENDIAN);
  view.setUint32(4, mask, LITTLE_ENDIAN);
  view.setUint32(8, cookie, LITTLE_ENDIAN);
  view.setUint32(12, len, LITTLE_ENDIAN);
  out.set(nameBytes, 16);
  return out;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe.runIf(hasInotify)('inotify', () => {
  let sub = 0;
  const freshDir = () => {
    const d = join(dir, `w${sub++}`);
    spawnSync('mkdir', [d]);
    return d;
  };

  it('is non-blocking and close-on-exec; with no event queued a read returns -1', () => {
    const fd = owned(sys.inotifyInit());
    expect(sys.getFdFlags(fd)).toEqual({ nonBlocking: true, closeOnExec: true });
    expect(sys.read(fd, new Uint8Array(4096))).toBe(-1);
  });

  it('reports what sh does in a watched directory, with names, paired moves and IN_ISDIR; IN_IGNORED after the watch is removed', () => {
    const fd = owned(sys.inotifyInit());
    const watched = freshDir();
    const wd = sys.inotifyAddWatch(fd, watched, sys.IN_CREATE! | sys.IN_CLOSE_WRITE! | sys.IN_MOVE! | sys.IN_DELETE!);
    expect(wd).toBeGreaterThan(0);
    const sh = spawnSync('sh', ['-c', 'echo hello > f; mv f g; rm g; mkdir d; rmdir d'], { cwd: watched });
    expect(sh.status).toBe(0);
    const events = drainInotify(fd);
    expect(events.map((e) => [e.wd, maskNames(e.mask).join('|'), e.name])).toEqual([
      [wd, 'IN_CREATE', 'f'],
      [wd, 'IN_CLOSE_WRITE', 'f'],
      [wd, 'IN_MOVED_FROM', 'f'],
      [wd, 'IN_MOVED_TO', 'g'],
      [wd, 'IN_DELETE', 'g'],
      [wd, 'IN_CREATE|IN_ISDIR', 'd'],
      [wd, 'IN_DELETE|IN_ISDIR', 'd'],
    ]);
    const [from, to] = [events[2]!, events[3]!];
    expect(from.cookie).not.toBe(0);
    expect(to.cookie).toBe(from.cookie);
    for (const e of [events[0]!, events[1]!, events[4]!]) expect(e.cookie).toBe(0);

    sys.inotifyRemoveWatch(fd, wd);
    expect(drainInotify(fd)).toEqual([{ wd, mask: sys.IN_IGNORED, cookie: 0, name: '' }]);
    // Gone: removing it again is the kernel's EINVAL, and the directory is quiet.
    expect(thrown(() => sys.inotifyRemoveWatch(fd, wd))).toMatchObject({ code: 'EINVAL', syscall: 'inotify_rm_watch' });
    spawnSync('sh', ['-c', 'echo again > h'], { cwd: watched });
    expect(drainInotify(fd)).toEqual([]);
  });

  it('a watch of a file reports events with name "", and IN_MASK_ADD widens the mask of the same wd', () => {
    const fd = owned(sys.inotifyInit());
    const file = join(freshDir(), 'file');
    spawnSync('sh', ['-c', `: > '${file}'`]);
    const wd = sys.inotifyAddWatch(fd, file, sys.IN_ATTRIB!);
    expect(sys.inotifyAddWatch(fd, file, sys.IN_MODIFY! | sys.IN_MASK_ADD!)).toBe(wd);
    spawnSync('sh', ['-c', `echo x >> '${file}'; chmod 600 '${file}'`]);
    expect(drainInotify(fd)).toEqual([
      { wd, mask: sys.IN_MODIFY, cookie: 0, name: '' },
      { wd, mask: sys.IN_ATTRIB, cookie: 0, name: '' },
    ]);
  });

  it('IN_ONESHOT reports one event, then the watch ends with IN_IGNORED', () => {
    const fd = owned(sys.inotifyInit());
    const watched = freshDir();
    // `|` makes a negative number of IN_ONESHOT (2^31): the same bits, taken as they are.
    const wd = sys.inotifyAddWatch(fd, watched, sys.IN_CREATE! | sys.IN_ONESHOT!);
    expect(sys.IN_CREATE! | sys.IN_ONESHOT!).toBeLessThan(0);
    expect(sys.inotifyAddWatch(fd, watched, (sys.IN_CREATE! | sys.IN_ONESHOT!) >>> 0)).toBe(wd);
    spawnSync('sh', ['-c', ': > a; : > b'], { cwd: watched });
    expect(drainInotify(fd)).toEqual([
      { wd, mask: sys.IN_CREATE, cookie: 0, name: 'a' },
      { wd, mask: sys.IN_IGNORED, cookie: 0, name: '' },
    ]);
  });

  it('refuses bad arguments with coded errors and kernel refusals as SystemErrors, adding no watch', () => {
    const fd = owned(sys.inotifyInit());
    const watched = freshDir();
    for (const mask of [0, sys.IN_ISDIR!, sys.IN_CREATE! | sys.IN_ISDIR!, sys.IN_IGNORED!, sys.IN_ONLYDIR!, sys.IN_CREATE! | 0x0800_0000, -1, 1.5, 2 ** 32, -(2 ** 31) - 1]) {
      expectCodeNoLeak(() => sys.inotifyAddWatch(fd, watched, mask), 'ERR_INVALID_ARG_VALUE', 'RangeError');
    }
    expectCodeNoLeak(() => sys.inotifyAddWatch(fd, watched, '1' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.inotifyAddWatch(fd, 5 as unknown as string, sys.IN_CREATE!), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    expectCodeNoLeak(() => sys.inotifyAddWatch(fd, `${watched}\0x`, sys.IN_CREATE!), 'ERR_INVALID_ARG_VALUE', 'RangeError');
    expectCodeNoLeak(() => sys.inotifyAddWatch(1.5, watched, sys.IN_CREATE!), 'ERR_INVALID_FD');
    expect(thrown(() => sys.inotifyAddWatch(fd, join(watched, 'missing'), sys.IN_CREATE!))).toMatchObject({
      code: 'ENOENT',
      syscall: 'inotify_add_watch',
    });
    spawnSync('sh', ['-c', ': > plain'], { cwd: watched });
    expect(thrown(() => sys.inotifyAddWatch(fd, join(watched, 'plain'), sys.IN_CREATE! | sys.IN_ONLYDIR!))).toMatchObject({
      code: 'ENOTDIR',
    });
    const [r] = pipe();
    expect(thrown(() => sys.inotifyAddWatch(r, watched, sys.IN_CREATE!))).toMatchObject({ code: 'EINVAL' });
    for (const wd of [0, -1, 1.5, 2 ** 31]) expectCodeNoLeak(() => sys.inotifyRemoveWatch(fd, wd), 'ERR_OUT_OF_RANGE', 'RangeError');
    expectCodeNoLeak(() => sys.inotifyRemoveWatch(fd, '1' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    // None of that added a watch: the directory is quiet.
    spawnSync('sh', ['-c', ': > new'], { cwd: watched });
    expect(drainInotify(fd)).toEqual([]);
  });

  describe('parseInotify', () => {
    it('decodes the kernel layout in host byte order: names without their NUL padding, "" for len 0, u32 masks', () => {
      const buf = concat([
        rawEvent(1, sys.IN_CREATE!, 0, 'a.txt', 11),
        rawEvent(2, (sys.IN_DELETE! | sys.IN_ISDIR!) >>> 0, 0, 'dir', 13),
        rawEvent(3, sys.IN_MOVED_FROM!, 0xfffffff0, 'é', 2),
        rawEvent(-1, sys.IN_Q_OVERFLOW!, 0, ''),
      ]);
      expect(sys.parseInotify(buf, buf.length)).toEqual([
        { wd: 1, mask: sys.IN_CREATE, cookie: 0, name: 'a.txt' },
        { wd: 2, mask: (sys.IN_DELETE! | sys.IN_ISDIR!) >>> 0, cookie: 0, name: 'dir' },
        { wd: 3, mask: sys.IN_MOVED_FROM, cookie: 0xfffffff0, name: 'é' },
        { wd: -1, mask: sys.IN_Q_OVERFLOW, cookie: 0, name: '' },
      ]);
      expect(sys.parseInotify(buf, 0)).toEqual([]);
      // Only the first n bytes count, and a view into a larger buffer reads from its own start.
      const one = rawEvent(4, sys.IN_ONESHOT! >>> 0, 0, 'x', 3);
      expect(sys.parseInotify(concat([one, new Uint8Array(9)]), one.length)).toEqual([{ wd: 4, mask: 2 ** 31, cookie: 0, name: 'x' }]);
      const outer = concat([new Uint8Array(5), one, new Uint8Array(7)]);
      expect(sys.parseInotify(outer.subarray(5), one.length)).toEqual([{ wd: 4, mask: 2 ** 31, cookie: 0, name: 'x' }]);
    });

    it('refuses n ending inside an event (its header or its name), decoding nothing', () => {
      const buf = concat([rawEvent(1, sys.IN_CREATE!, 0, 'name', 4), rawEvent(2, sys.IN_DELETE!, 0, 'other', 3)]);
      for (const n of [1, 15, 16, 23, 24 + 1, 24 + 15, 24 + 16, buf.length - 1]) {
        expectCode(() => sys.parseInotify(buf, n), 'ERR_INVALID_ARG_VALUE', 'RangeError');
      }
      expect(sys.parseInotify(buf, 24)).toEqual([{ wd: 1, mask: sys.IN_CREATE, cookie: 0, name: 'name' }]);
    });

    it('refuses a buffer that is not a Uint8Array and an n outside it', () => {
      const buf = new Uint8Array(32);
      expectCode(() => sys.parseInotify([] as unknown as Uint8Array, 0), 'ERR_INVALID_ARG_TYPE', 'TypeError');
      expectCode(() => sys.parseInotify(buf, '0' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
      for (const n of [-1, 33, 1.5, NaN]) expectCode(() => sys.parseInotify(buf, n), 'ERR_OUT_OF_RANGE', 'RangeError');
    });
  });

  describe.each(BACKENDS)('on $name', ({ create }) => {
    it('is readable once an event is queued, and not once it is read', () => {
      const sel = track(create());
      const fd = owned(sys.inotifyInit());
      const watched = freshDir();
      sel.register(fd, EVENT_READ);
      const wd = sys.inotifyAddWatch(fd, watched, sys.IN_CREATE!);
      expect(eventsOf(sel, fd, 0)).toBe(0);
      spawnSync('sh', ['-c', ': > made-by-sh'], { cwd: watched });
      expect(eventsOf(sel, fd, 2000)).toBe(EVENT_READ);
      expect(drainInotify(fd)).toEqual([{ wd, mask: sys.IN_CREATE, cookie: 0, name: 'made-by-sh' }]);
      expect(eventsOf(sel, fd, 0)).toBe(0);
    });
  });
});

/** A child (sh) that exits with status 7 once a line arrives on its stdin. */
function waitingChild() {
  const child = spawn('sh', ['-c', 'read line; exit 7'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
  return { child, exited, pid: child.pid! };
}

describe.runIf(hasPidfd)('pidfd', () => {
  it('is non-blocking and close-on-exec; it cannot be read (EINVAL)', () => {
    const fd = owned(sys.pidfdOpen(process.pid));
    expect(sys.getFdFlags(fd)).toEqual({ nonBlocking: true, closeOnExec: true });
    expect(thrown(() => sys.read(fd, new Uint8Array(8)))).toMatchObject({ code: 'EINVAL', syscall: 'read' });
  });

  it('refuses a pid that is not a positive integer, and one that is gone (ESRCH)', () => {
    for (const pid of [0, -1, 1.5, 2 ** 31, NaN]) expectCodeNoLeak(() => sys.pidfdOpen(pid), 'ERR_OUT_OF_RANGE', 'RangeError');
    expectCodeNoLeak(() => sys.pidfdOpen('1' as unknown as number), 'ERR_INVALID_ARG_TYPE', 'TypeError');
    // A child already reaped (spawnSync waits for it): its pid names no process.
    const gone = spawnSync('true').pid;
    const before = openFds();
    expect(thrown(() => sys.pidfdOpen(gone))).toMatchObject({ code: 'ESRCH', syscall: 'pidfd_open' });
    expect(fdsNewSince(before)).toEqual([]);
  });

  describe.each(BACKENDS)('on $name', ({ create }) => {
    it("of a running child is not readable; becomes readable when it exits, and Node's child_process still gets its exit status", async () => {
      const sel = track(create());
      const { child, exited, pid } = waitingChild();
      const fd = owned(sys.pidfdOpen(pid));
      sel.register(fd, EVENT_READ);
      expect(eventsOf(sel, fd, 50)).toBe(0);
      await new Promise<void>((resolve, reject) => child.stdin!.end('go\n', () => resolve()).on('error', reject));
      // Blocks Node's loop: the child cannot be reaped meanwhile, only seen to have exited.
      expect(eventsOf(sel, fd, 10_000)).toBe(EVENT_READ);
      expect(eventsOf(sel, fd, 0)).toBe(EVENT_READ); // stays readable: waiting reaped nothing
      expect(await exited).toEqual([7, null]);
      expect(eventsOf(sel, fd, 0)).toBe(EVENT_READ);
    });
  });

  it('of a child killed by a signal: readable, and the signal reaches Node', async () => {
    const { child, exited, pid } = waitingChild();
    const fd = owned(sys.pidfdOpen(pid));
    const sel = track(BACKENDS[0]!.create());
    sel.register(fd, EVENT_READ);
    child.kill('SIGKILL');
    expect(eventsOf(sel, fd, 10_000)).toBe(EVENT_READ);
    expect(await exited).toEqual([null, 'SIGKILL']);
  });
});

// A kernel without pidfd_open (before 5.3), made with strace: every
// pidfd_open of a child node process fails with ENOSYS.
describe.runIf(hasPidfd && strace)('pidfd on a kernel that lacks pidfd_open', () => {
  /** Runs `code` (an ES module; LIB is the package) under strace's ENOSYS; returns its stdout and the pidfd_open calls made. */
  function withoutPidfd(code: string): { stdout: string; calls: number } {
    const log = join(dir, `strace-${process.hrtime.bigint()}.log`);
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-o', log, '-e', 'trace=pidfd_open', '-e', 'inject=pidfd_open:error=ENOSYS', process.execPath, '--input-type=module', '-e', code.replaceAll('LIB', JSON.stringify(DIST_INDEX))],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const calls = spawnSync('grep', ['-c', 'pidfd_open(', log], { encoding: 'utf8' }).stdout.trim();
    return { stdout: r.stdout.trim(), calls: Number(calls) };
  }

  it('loading the package probes nothing', () => {
    expect(withoutPidfd(`import { sys } from LIB; console.log(typeof sys.pidfdOpen);`)).toEqual({ stdout: 'function', calls: 0 });
  });

  it('sys.supports answers false and pidfdOpen throws ERR_NOT_SUPPORTED (ENOSYS its cause), the kernel probed once', () => {
    const { stdout, calls } = withoutPidfd(`
      import { sys } from LIB;
      const out = [sys.supports('pidfdOpen'), sys.supports('pidfdOpen')];
      for (const pid of [process.pid, 0]) {
        try { sys.pidfdOpen(pid); out.push('opened'); } catch (e) { out.push(e.code + ' ' + (e.cause?.code ?? '-')); }
      }
      console.log(JSON.stringify(out));
    `);
    expect(JSON.parse(stdout)).toEqual([false, false, 'ERR_NOT_SUPPORTED ENOSYS', 'ERR_NOT_SUPPORTED ENOSYS']);
    expect(calls).toBe(1);
  });

  it('a pidfdOpen before any supports() finds ENOSYS itself and gives it as the cause', () => {
    const { stdout, calls } = withoutPidfd(`
      import { sys } from LIB;
      const out = [];
      try { sys.pidfdOpen(process.pid); } catch (e) { out.push(e.code, e.cause?.code, e.cause?.syscall, e.message.includes('kernel')); }
      out.push(sys.supports('pidfdOpen'));
      console.log(JSON.stringify(out));
    `);
    expect(JSON.parse(stdout)).toEqual(['ERR_NOT_SUPPORTED', 'ENOSYS', 'pidfd_open', true, false]);
    expect(calls).toBe(1);
  });
});
