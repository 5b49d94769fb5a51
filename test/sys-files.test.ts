// Files and devices through `sys`: open (non-blocking, close-on-exec, its
// flags and its refusals), readv against writev and real writers, and
// sendfile from a file to a socketpair, a TCP socket read by python3, a
// pipe and a file, with the input's offset left alone; the fds driven
// through every backend.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as os, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, sys, type BaseSelector } from '../lib/index.js';
import { binding } from '../lib/native.js';
import { BACKENDS, fdsNewSince, enc, fdsChangedSince, openFds, owned, pipe, release, socketpair, thrown, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sys-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let names = 0;
const fresh = (suffix = '') => join(dir, `f${names++}${suffix}`);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A FIFO made by mkfifo(1). */
function fifo(): string {
  const path = fresh('.fifo');
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  return path;
}

function expectCoded(call: () => unknown, name: string, code: string): void {
  expect(thrown(call)).toMatchObject({ name, code });
}

function expectSystemError(call: () => unknown, code: string, syscall: string): void {
  const err = thrown(call);
  expect(err).toMatchObject({ code, syscall, errno: -(os.errno as Record<string, number>)[code]! });
}

/** Writes to `fd` until it would block; returns how many bytes went. */
function fill(fd: number): number {
  const chunk = new Uint8Array(64 * 1024);
  let total = 0;
  for (let n = sys.write(fd, chunk); n > 0; n = sys.write(fd, chunk)) total += n;
  return total;
}

describe('open', () => {
  it('creates, writes, reads back; the fd is non-blocking and close-on-exec', () => {
    const path = fresh();
    const w = owned(sys.open(path, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL, 0o640));
    expect(sys.getFdFlags(w)).toEqual({ nonBlocking: true, closeOnExec: true });
    expect(sys.write(w, enc('hello'))).toBe(5);
    release(w);
    const umask = process.umask();
    expect(statSync(path).mode & 0o777).toBe(0o640 & ~umask);
    const r = owned(sys.open(path));
    expect(sys.getFdFlags(r)).toEqual({ nonBlocking: true, closeOnExec: true });
    const buf = new Uint8Array(16);
    expect(sys.read(r, buf)).toBe(5);
    expect(text(buf.subarray(0, 5))).toBe('hello');
    expect(sys.read(r, buf)).toBe(0); // end of the file
    expectSystemError(() => sys.write(r, buf), 'EBADF', 'write'); // opened read-only
  });

  it('O_APPEND appends, O_TRUNC truncates, O_RDWR reads and writes, O_EXCL refuses an existing file', () => {
    const path = fresh();
    writeFileSync(path, 'abc');
    const a = owned(sys.open(path, sys.O_WRONLY | sys.O_APPEND));
    sys.write(a, enc('def'));
    release(a);
    expect(readFileSync(path, 'utf8')).toBe('abcdef');
    const rw = owned(sys.open(path, sys.O_RDWR));
    const buf = new Uint8Array(2);
    expect(sys.read(rw, buf)).toBe(2);
    expect(sys.write(rw, enc('XY'))).toBe(2); // at the file offset, after "ab"
    release(rw);
    expect(readFileSync(path, 'utf8')).toBe('abXYef');
    release(owned(sys.open(path, sys.O_WRONLY | sys.O_TRUNC)));
    expect(readFileSync(path, 'utf8')).toBe('');
    const before = openFds();
    expectSystemError(() => sys.open(path, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL), 'EEXIST', 'open');
    expectSystemError(() => sys.open(join(dir, 'missing')), 'ENOENT', 'open');
    expectSystemError(() => sys.open(join(dir, 'missing', 'below')), 'ENOENT', 'open');
    expect(fdsNewSince(before)).toEqual([]);
  });

  it('opens a terminal with O_NOCTTY (a device by its path)', () => {
    const [controller, terminal] = sys.openpty();
    owned(controller);
    owned(terminal);
    const again = owned(sys.open(sys.ttyname(terminal), sys.O_RDWR | sys.O_NOCTTY));
    expect(sys.isatty(again)).toBe(true);
    expect(sys.getFdFlags(again)).toEqual({ nonBlocking: true, closeOnExec: true });
    expect(sys.write(controller, enc('x'))).toBe(1);
  });

  it('a FIFO: read-only opens at once, write-only without a reader is ENXIO, an empty FIFO would block (-1)', () => {
    const path = fifo();
    expectSystemError(() => sys.open(path, sys.O_WRONLY), 'ENXIO', 'open');
    const r = owned(sys.open(path));
    const buf = new Uint8Array(16);
    expect(sys.read(r, buf)).toBe(0); // no writer yet: end of file
    const w = owned(sys.open(path, sys.O_WRONLY));
    expect(sys.read(r, buf)).toBe(-1); // a writer, no data: would block
    expect(sys.write(w, enc('fifo'))).toBe(4);
    expect(sys.read(r, buf)).toBe(4);
    expect(fill(w)).toBeGreaterThan(0);
    expect(sys.write(w, enc('x'))).toBe(-1); // full: would block
  });

  it('refuses bad input with coded errors before any syscall: nothing created, no fd leaked', async () => {
    const before = openFds();
    const path = fresh();
    const create = sys.O_WRONLY | sys.O_CREAT;
    expectCoded(() => sys.open(42 as unknown as string), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.open(Buffer.from(path) as unknown as string, create), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.open(`${path}\0x`, create), 'TypeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => sys.open(path, '1' as unknown as number), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.open(path, create | 0o40000000), 'RangeError', 'ERR_INVALID_ARG_VALUE'); // another bit
    expectCoded(() => sys.open(path, sys.O_WRONLY | sys.O_RDWR | sys.O_CREAT), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => sys.open(path, -1), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => sys.open(path, 1.5), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => sys.open(path, 2 ** 32 + sys.O_WRONLY), 'RangeError', 'ERR_INVALID_ARG_VALUE'); // not a 32-bit flag word
    expectCoded(() => sys.open(path, create, 0o10000), 'RangeError', 'ERR_OUT_OF_RANGE');
    expectCoded(() => sys.open(path, create, -1), 'RangeError', 'ERR_OUT_OF_RANGE');
    expectCoded(() => sys.open(path, create, '644' as unknown as number), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    // The addon checks again what a direct caller could get wrong.
    expectCoded(() => binding.sys.open(`${path}\0x`, create, 0o666), 'TypeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => binding.sys.open(path, create | 0o40000000, 0o666), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expect(existsSync(path)).toBe(false);
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});

describe('readv', () => {
  it('scatters what writev gathered, filling each buffer in order; 0 at end of stream', () => {
    const [a, b] = socketpair();
    expect(sys.writev(a, [enc('abc'), enc('defgh'), enc('ij')])).toBe(10);
    const x = new Uint8Array(4);
    const y = new Uint8Array(3);
    const z = new Uint8Array(8);
    expect(sys.readv(b, [x, y, z])).toBe(10);
    expect([text(x), text(y), text(z.subarray(0, 3))]).toEqual(['abcd', 'efg', 'hij']);
    expect(sys.readv(b, [x])).toBe(-1); // nothing left: would block
    expect(sys.readv(b, [])).toBe(0); // no room: nothing read
    sys.close(a);
    expect(sys.readv(b, [x, y])).toBe(0);
  });

  it('reads a pipe that a real program wrote, and a file at its offset', async () => {
    const [r, w] = pipe();
    const child = spawn('python3', ['-c', 'import os; os.writev(1, [b"py", b"thon", b"\\n"])'], { stdio: ['ignore', w, 'inherit'] });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const parts = [new Uint8Array(2), new Uint8Array(2), new Uint8Array(10)];
    expect(sys.readv(r, parts)).toBe(7);
    expect(parts.map(text).join('').replaceAll('\0', '')).toBe('python\n');

    const path = fresh();
    writeFileSync(path, '0123456789');
    const f = owned(sys.open(path));
    expect(sys.read(f, new Uint8Array(3))).toBe(3);
    const [p, q] = [new Uint8Array(4), new Uint8Array(4)];
    expect(sys.readv(f, [p, q])).toBe(7);
    expect(text(p) + text(q.subarray(0, 3))).toBe('3456789');
  });

  it('refuses bad input with coded errors and consumes nothing', () => {
    const [a, b] = socketpair();
    sys.write(a, enc('kept'));
    const big = Array.from({ length: sys.IOV_MAX + 1 }, () => new Uint8Array(1));
    expectCoded(() => sys.readv(b, big), 'RangeError', 'ERR_OUT_OF_RANGE');
    expectCoded(() => sys.readv(b, new Uint8Array(4) as unknown as Uint8Array[]), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.readv(b, [new Uint8Array(2), 'no' as unknown as Uint8Array]), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.readv(b, [new Uint16Array(2) as unknown as Uint8Array]), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.readv(-1, [new Uint8Array(2)]), 'RangeError', 'ERR_INVALID_FD');
    expectCoded(() => binding.sys.readv(b, [new Uint8Array(2), {} as Uint8Array]), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => binding.sys.readv(b, big), 'RangeError', 'ERR_OUT_OF_RANGE');
    const buf = new Uint8Array(8);
    expect(sys.read(b, buf)).toBe(4);
    const closed = sys.socket(sys.AF_INET);
    sys.close(closed);
    expectSystemError(() => sys.readv(closed, [buf]), 'EBADF', 'readv');
  });
});

describe('sendfile', () => {
  /** A file of `size` random bytes, opened read-only. */
  function source(size: number): { fd: number; bytes: Uint8Array; path: string } {
    const bytes = new Uint8Array(randomBytes(size));
    const path = fresh();
    writeFileSync(path, bytes);
    return { fd: owned(sys.open(path)), bytes, path };
  }

  it('sends a slice of a file to a socket; the file offset of the input is not moved', () => {
    const { fd, bytes } = source(1000);
    const [a, b] = socketpair();
    expect(sys.sendfile(a, fd, 100, 50)).toBe(50);
    const buf = new Uint8Array(100);
    expect(sys.read(b, buf)).toBe(50);
    expect(buf.subarray(0, 50)).toEqual(bytes.subarray(100, 150));
    // A read of the input starts where it did: at 0.
    expect(sys.read(fd, buf)).toBe(100);
    expect(buf).toEqual(bytes.subarray(0, 100));
    // Past the end: 0; count 0: 0, nothing sent (the BSD forms would send it all).
    expect(sys.sendfile(a, fd, 1000, 10)).toBe(0);
    expect(sys.sendfile(a, fd, 5000, 10)).toBe(0);
    expect(sys.sendfile(a, fd, 0, 0)).toBe(0);
    expect(sys.sendfile(a, fd, 990, 100)).toBe(10); // what is left
    expect(sys.read(b, buf)).toBe(10);
    expect(sys.read(b, buf)).toBe(-1);
  });

  it('to a pipe, and to a file opened O_APPEND (where Linux\'s sendfile refuses, the fallback does it)', () => {
    const { fd, bytes } = source(3000);
    const [r, w] = pipe();
    expect(sys.sendfile(w, fd, 0, 3000)).toBe(3000);
    const buf = new Uint8Array(4000);
    expect(sys.read(r, buf)).toBe(3000);
    expect(buf.subarray(0, 3000)).toEqual(bytes);
    const path = fresh();
    writeFileSync(path, 'head:');
    const out = owned(sys.open(path, sys.O_WRONLY | sys.O_APPEND));
    let sent = 0;
    while (sent < 3000) sent += sys.sendfile(out, fd, sent, 3000 - sent);
    expect(new Uint8Array(readFileSync(path))).toEqual(new Uint8Array([...enc('head:'), ...bytes]));
  });

  it('would block (-1) when the output is full, and sends once it drains', () => {
    const { fd, bytes } = source(100);
    const [a, b] = socketpair();
    const queued = fill(a);
    expect(sys.sendfile(a, fd, 0, 100)).toBe(-1);
    const drain = new Uint8Array(queued + 1000);
    let got = 0;
    while (got < queued) {
      const n = sys.read(b, drain, got);
      if (n > 0) got += n;
    }
    expect(sys.sendfile(a, fd, 0, 100)).toBe(100);
    expect(sys.read(b, drain)).toBe(100);
    expect(drain.subarray(0, 100)).toEqual(bytes);
  });

  it('refuses bad input with coded errors; a kernel refusal names its call and consumes nothing', async () => {
    const before = openFds();
    const { fd } = source(10);
    const [a, b] = socketpair();
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expectCoded(() => sys.sendfile(a, fd, bad, 1), 'RangeError', 'ERR_OUT_OF_RANGE');
      expectCoded(() => sys.sendfile(a, fd, 0, bad), 'RangeError', 'ERR_OUT_OF_RANGE');
    }
    expectCoded(() => sys.sendfile(a, fd, '0' as unknown as number, 1), 'TypeError', 'ERR_INVALID_ARG_TYPE');
    expectCoded(() => sys.sendfile(-1, fd, 0, 1), 'RangeError', 'ERR_INVALID_FD');
    expectCoded(() => sys.sendfile(a, 'x' as unknown as number, 0, 1), 'TypeError', 'ERR_INVALID_FD');
    expectCoded(() => binding.sys.sendfile(a, fd, -1, 1), 'RangeError', 'ERR_OUT_OF_RANGE');
    expect(sys.read(b, new Uint8Array(16))).toBe(-1); // nothing went
    // A pipe is no file to send from: ESPIPE (from sendfile, or the fallback's pread).
    const [r, w] = pipe();
    sys.write(w, enc('stay'));
    const err = thrown(() => sys.sendfile(a, r, 0, 4)) as { code: string; syscall: string };
    expect(err).toMatchObject({ code: expect.stringMatching(/^(ESPIPE|EINVAL)$/), syscall: expect.stringMatching(/^(sendfile|pread)$/) });
    expect(sys.read(r, new Uint8Array(8))).toBe(4); // still there
    const closed = sys.socket(sys.AF_INET);
    sys.close(closed);
    expect(thrown(() => sys.sendfile(closed, fd, 0, 1))).toMatchObject({ code: 'EBADF' });
    expect(thrown(() => sys.sendfile(a, closed, 0, 1))).toMatchObject({ code: 'EBADF' });
    release(a);
    release(b);
    release(r);
    release(w);
    release(fd);
    expect(await fdsChangedSince(before)).toEqual([]);
  });

  it('a 4 MiB file to python3 over TCP loopback, resumed on writability until all went', async () => {
    const { fd, bytes } = source(4 * 1024 * 1024);
    const listener = owned(sys.socket(sys.AF_INET));
    sys.bind(listener, '127.0.0.1', 0);
    sys.listen(listener);
    const { port } = sys.getsockname(listener) as { port: number };
    const script = [
      'import hashlib, socket, sys',
      `s = socket.create_connection(("127.0.0.1", ${port}))`,
      'h = hashlib.sha256(); n = 0',
      'while True:',
      '    b = s.recv(65536)',
      '    if not b: break',
      '    h.update(b); n += len(b)',
      'print(n, h.hexdigest())',
    ].join('\n');
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise((resolve) => child.on('close', resolve));
    const sel = track(BACKENDS[0]!.create());
    sel.register(listener, EVENT_READ);
    // Accept once python3 has connected: its process starts asynchronously.
    let conn = -1;
    const deadline = Date.now() + 20_000;
    while (conn === -1 && Date.now() < deadline) {
      sel.select(50);
      conn = sys.accept(listener);
      if (conn === -1) await new Promise((r) => setTimeout(r, 10));
    }
    owned(conn);
    sel.unregister(listener);
    sel.register(conn, EVENT_WRITE);
    // -1 (the socket's buffer is full: python3 reads slower than the kernel
    // sends) waits for writability; how often depends on the machine.
    let sent = 0;
    while (sent < bytes.length && Date.now() < deadline) {
      const n = sys.sendfile(conn, fd, sent, bytes.length - sent);
      if (n === -1) sel.select(1000);
      else sent += n;
    }
    expect(sent).toBe(bytes.length);
    sel.unregister(conn);
    release(conn);
    expect(await exited).toBe(0);
    expect(out.trim()).toBe(`${bytes.length} ${sha256(bytes)}`);
  });
});

describe.each(BACKENDS)('$name', ({ create }) => {
  /** Runs select passes, calling `step` with the ready events of each fd, until `done()`. */
  function loop(sel: BaseSelector, step: (fd: number, events: number) => void, done: () => boolean): void {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('the loop did not finish in time');
      for (const [key, events] of sel.select(100)) step(key.fd, events);
    }
  }

  it('sendfile of 2 MiB over a socketpair, sender waiting for writability, receiver for readability', () => {
    const bytes = new Uint8Array(randomBytes(2 * 1024 * 1024));
    const path = fresh();
    writeFileSync(path, bytes);
    const f = owned(sys.open(path));
    const [a, b] = socketpair();
    const sel = track(create());
    sel.register(a, EVENT_WRITE);
    sel.register(b, EVENT_READ);
    const got = new Uint8Array(bytes.length);
    let sent = 0;
    let received = 0;
    loop(
      sel,
      (fd, events) => {
        if (fd === a && events & EVENT_WRITE) {
          const n = sys.sendfile(a, f, sent, bytes.length - sent);
          if (n > 0) sent += n;
          if (sent === bytes.length) sel.unregister(a);
        }
        if (fd === b && events & EVENT_READ) {
          const n = sys.readv(b, [got.subarray(received, received + 1000), got.subarray(received + 1000)]);
          if (n > 0) received += n;
        }
      },
      () => received === bytes.length,
    );
    expect(sha256(got)).toBe(sha256(bytes));
  });

  it('a FIFO: the read end becomes readable when the writer writes, the write end is writable', () => {
    const path = fifo();
    const r = owned(sys.open(path));
    const w = owned(sys.open(path, sys.O_WRONLY));
    const sel = track(create());
    sel.register(r, EVENT_READ);
    sel.register(w, EVENT_WRITE);
    expect(sel.select(0).map(([k, e]) => [k.fd, e])).toEqual([[w, EVENT_WRITE]]);
    sys.write(w, enc('ping'));
    const ready = new Map(sel.select(1000).map(([k, e]) => [k.fd, e]));
    expect(ready.get(r)).toBe(EVENT_READ);
    expect(sys.read(r, new Uint8Array(8))).toBe(4);
  });

  it('a regular file: ready for reading and writing at once, or refused (epoll: EPERM)', () => {
    const path = fresh();
    writeFileSync(path, 'data');
    const fd = owned(sys.open(path, sys.O_RDWR));
    const sel = track(create());
    const err = thrown(() => sel.register(fd, EVENT_READ | EVENT_WRITE));
    if (err !== undefined) {
      // epoll cannot watch a regular file (docs/backends.md); the selector is unchanged.
      expect(sel.backend).toBe('epoll');
      expect(err).toMatchObject({ code: 'EPERM' });
      expect(sel.getMap().size).toBe(0);
      return;
    }
    const ready = sel.select(1000);
    expect(ready.map(([k, e]) => [k.fd, e])).toEqual([[fd, EVENT_READ | EVENT_WRITE]]);
  });
});
