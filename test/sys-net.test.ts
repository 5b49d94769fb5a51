// Sockets through `sys` alone, driven by each selector backend: echo over
// IPv4, IPv6 and Unix sockets, non-blocking connect and its refusal, partial
// writes with back-pressure, end of stream, addresses and options.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants as os } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_PRIORITY, EVENT_READ, EVENT_WRITE, sys, type BaseSelector, type SystemError } from '../lib/index.js';
import { backendHas, BACKENDS, kqueueLimit, noIpv6Loopback, owned, release, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sys-net-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;
const unixPath = () => join(dir, `s${sockets++}`);

const sha256 = (chunks: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};


type Endpoint = { family: number; host: string; port?: number };

/** A listening socket on `host` (port 0) or a fresh Unix path; returns it and where to connect. */
function listen(family: number, host: string | null): [number, Endpoint] {
  const fd = owned(sys.socket(family, sys.SOCK_STREAM));
  if (host === null) {
    const path = unixPath();
    sys.bind(fd, path);
    sys.listen(fd, 16);
    return [fd, { family, host: path }];
  }
  sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
  sys.bind(fd, host, 0);
  sys.listen(fd, 16);
  const name = sys.getsockname(fd);
  if (!('port' in name)) throw new Error('expected an IP address');
  return [fd, { family, host, port: name.port }];
}

function connect(to: Endpoint): [number, number] {
  const fd = owned(sys.socket(to.family, sys.SOCK_STREAM));
  return [fd, to.port === undefined ? sys.connect(fd, to.host) : sys.connect(fd, to.host, to.port)];
}

/** A connected TCP pair on 127.0.0.1, accepted once `sel` saw the listener ready. */
function tcpPair(sel: BaseSelector<unknown>): [client: number, server: number] {
  const [listener, endpoint] = listen(sys.AF_INET, '127.0.0.1');
  const [client] = connect(endpoint);
  sel.register(listener, EVENT_READ);
  expect(sel.select(5000).length).toBe(1);
  const server = owned(sys.accept(listener));
  sel.unregister(listener);
  return [client, server];
}

/** Runs select passes until `done()`, failing after `ms`. */
function loop(sel: BaseSelector<(events: number) => void>, done: () => boolean, ms = 10_000): void {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the event loop did not finish in time');
    for (const [key, events] of sel.select(100)) key.data(events);
  }
}

/**
 * A client sends `payload` to an echo server and reads it all back, both on
 * one selector; the server queues what it cannot send at once and answers the
 * client's end of stream with its own. Returns what the client received.
 */
function echo(sel: BaseSelector<(events: number) => void>, family: number, host: string | null, payload: Uint8Array): Uint8Array[] {
  const [listener, endpoint] = listen(family, host);
  const buf = new Uint8Array(64 * 1024);

  sel.register(listener, EVENT_READ, () => {
    for (let conn = sys.accept(listener); conn !== -1; conn = sys.accept(listener)) serve(owned(conn));
  });
  function serve(conn: number): void {
    const queue: Uint8Array[] = [];
    let eof = false;
    const flush = () => {
      while (queue.length > 0) {
        const head = queue[0]!;
        const n = sys.send(conn, head);
        if (n === -1) break;
        if (n < head.length) queue[0] = head.subarray(n);
        else queue.shift();
      }
      if (queue.length === 0 && eof) {
        sel.unregister(conn);
        release(conn);
      } else {
        sel.modify(conn, (eof ? 0 : EVENT_READ) | (queue.length > 0 ? EVENT_WRITE : 0));
      }
    };
    sel.register(conn, EVENT_READ, (events) => {
      if (events & EVENT_READ) {
        const n = sys.recv(conn, buf);
        if (n === 0) eof = true;
        else if (n > 0) queue.push(buf.slice(0, n));
      }
      flush();
    });
  }

  const [client, started] = connect(endpoint);
  expect([0, -1]).toContain(started);
  const received: Uint8Array[] = [];
  let sent = 0;
  let connected = started === 0;
  let finished = false;
  sel.register(client, EVENT_READ | EVENT_WRITE, (events) => {
    if (!connected && events & EVENT_WRITE) {
      expect(sys.getsockoptError(client)).toBe(0);
      connected = true;
    }
    if (events & EVENT_WRITE && sent < payload.length) {
      const n = sys.send(client, payload, sent, Math.min(payload.length - sent, 32 * 1024));
      if (n > 0) sent += n;
      if (sent === payload.length) {
        sys.shutdown(client, sys.SHUT_WR);
        sel.modify(client, EVENT_READ);
      }
    }
    if (events & EVENT_READ) {
      const n = sys.recv(client, buf);
      if (n > 0) received.push(buf.slice(0, n));
      if (n === 0) {
        finished = true;
        sel.unregister(client);
      }
    }
  });
  loop(sel, () => finished);
  expect(sel.getMap().size).toBe(1); // only the listener is left: the server closed its side
  return received;
}

describe.each(BACKENDS)('sockets on $name', ({ backend, create }) => {
  const payload = randomBytes(512 * 1024);

  // The echo loop modifies each registration in place: libkqueue's R1.
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('echoes over 127.0.0.1', () => {
    const got = echo(track(create()), sys.AF_INET, '127.0.0.1', payload);
    expect(sha256(got)).toBe(sha256([payload]));
  });

  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('echoes over ::1', (ctx) => {
    const reason = noIpv6Loopback();
    if (reason !== null) return ctx.skip(reason);
    const got = echo(track(create()), sys.AF_INET6, '::1', payload);
    expect(sha256(got)).toBe(sha256([payload]));
  });

  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('echoes over a Unix socket', () => {
    const got = echo(track(create()), sys.AF_UNIX, null, payload);
    expect(sha256(got)).toBe(sha256([payload]));
  });

  // The refusal is read from SO_ERROR, which libkqueue consumes (R4).
  it.skipIf(kqueueLimit(backend, 'kqueueEatsSoError'))('ends a non-blocking connect to a closed port in ECONNREFUSED', () => {
    // A socket bound but not listening holds the port, so the refusal is
    // certain and nobody else can start listening there meanwhile.
    const holder = owned(sys.socket(sys.AF_INET));
    sys.bind(holder, '127.0.0.1', 0);
    const { port } = sys.getsockname(holder) as sys.InetAddress;
    const sel = track(create());
    const fd = owned(sys.socket(sys.AF_INET));
    let refused: number;
    try {
      expect(sys.connect(fd, '127.0.0.1', port)).toBe(-1);
      sel.register(fd, EVENT_WRITE);
      expect(sel.select(5000).map(([k]) => k.fd)).toEqual([fd]);
      refused = sys.getsockoptError(fd);
      expect(sys.getsockoptError(fd)).toBe(0); // reading SO_ERROR clears it
    } catch (err) {
      // The kernel may also refuse at once; the outcome is the same.
      refused = -(err as SystemError).errno;
    }
    expect(refused).toBe(os.errno.ECONNREFUSED);
  });

  it('writes until -1 into a peer that does not read, is writable again once it drains, loses nothing', () => {
    const sel = track(create());
    const [writer, reader] = tcpPair(sel);
    // Small buffers so the stream fills up after a few hundred KiB at most.
    sys.setsockopt(writer, sys.SOL_SOCKET, sys.SO_SNDBUF, 16 * 1024);
    sys.setsockopt(reader, sys.SOL_SOCKET, sys.SO_RCVBUF, 16 * 1024);

    const written: Uint8Array[] = [];
    const fill = (): number => {
      let total = 0;
      for (let i = 0; i < 10_000; i++) {
        const chunk = randomBytes(1000 + (i % 7) * 1111);
        const n = sys.write(writer, chunk);
        if (n === -1) return total;
        expect(n).toBeGreaterThan(0);
        written.push(chunk.subarray(0, n)); // a partial write keeps only what went out
        total += n;
      }
      throw new Error('the socket never filled up');
    };
    const buf = new Uint8Array(8192);
    const read: Uint8Array[] = [];
    const drain = (): number => {
      let total = 0;
      for (let n = sys.read(reader, buf); n !== -1; n = sys.read(reader, buf)) {
        expect(n).toBeGreaterThan(0);
        read.push(buf.slice(0, n));
        total += n;
      }
      return total;
    };

    expect(fill()).toBeGreaterThan(0);
    sel.register(writer, EVENT_WRITE);
    expect(sel.select(0)).toEqual([]); // full: not writable
    for (let round = 0; round < 3; round++) {
      expect(drain()).toBeGreaterThan(0);
      // Once the reader drained, the ACKs reopen the window.
      expect(sel.select(5000).map(([k, ev]) => [k.fd, ev])).toEqual([[writer, EVENT_WRITE]]);
      expect(fill()).toBeGreaterThan(0);
    }
    sys.shutdown(writer, sys.SHUT_WR);
    sel.unregister(writer);
    sel.register(reader, EVENT_READ);
    const deadline = Date.now() + 5000;
    for (;;) {
      expect(Date.now()).toBeLessThan(deadline);
      sel.select(100);
      const n = sys.read(reader, buf);
      if (n === 0) break;
      if (n > 0) read.push(buf.slice(0, n));
    }
    expect(read.reduce((a, c) => a + c.length, 0)).toBe(written.reduce((a, c) => a + c.length, 0));
    expect(sha256(read)).toBe(sha256(written));
  });
});

describe('sys sockets', () => {
  it('reads 0 at end of stream, after shutdown(SHUT_WR) and after close', () => {
    const sel = track(BACKENDS[0]!.create());
    const [client, server] = tcpPair(sel);
    const buf = new Uint8Array(16);
    expect(sys.recv(server, buf)).toBe(-1); // nothing yet, no end either
    sys.send(client, new Uint8Array([1, 2, 3]));
    sys.shutdown(client, sys.SHUT_WR);
    sel.register(server, EVENT_READ);
    sel.select(5000);
    expect(sys.recv(server, buf)).toBe(3);
    expect(sys.recv(server, buf)).toBe(0);
    expect(sys.recv(server, buf)).toBe(0); // and stays at the end
    // The other direction still works after a half close.
    expect(sys.send(server, new Uint8Array([9]))).toBe(1);
    sel.unregister(server);
    release(server);
    sel.register(client, EVENT_READ);
    sel.select(5000);
    expect(sys.recv(client, buf)).toBe(1);
    expect(sys.recv(client, buf)).toBe(0);
  });

  it('reports addresses: IPv4, IPv6 and Unix, own and peer', (ctx) => {
    const [l4, e4] = listen(sys.AF_INET, '127.0.0.1');
    expect(sys.getsockname(l4)).toEqual({ family: sys.AF_INET, address: '127.0.0.1', port: e4.port });
    const [c4] = connect(e4);
    expect(sys.getpeername(c4)).toEqual({ family: sys.AF_INET, address: '127.0.0.1', port: e4.port });

    const [lu, eu] = listen(sys.AF_UNIX, null);
    expect(sys.getsockname(lu)).toEqual({ family: sys.AF_UNIX, path: eu.host });
    const [cu, started] = connect(eu);
    expect(started).toBe(0); // Unix sockets connect at once
    expect(sys.getsockname(cu)).toEqual({ family: sys.AF_UNIX, path: '' }); // unnamed
    expect(sys.getpeername(cu)).toEqual({ family: sys.AF_UNIX, path: eu.host });

    const abstract = `\0node-selectors-${process.pid}-${sockets++}`;
    const la = owned(sys.socket(sys.AF_UNIX));
    sys.bind(la, abstract);
    expect(sys.getsockname(la)).toEqual({ family: sys.AF_UNIX, path: abstract });

    const unconnected = owned(sys.socket(sys.AF_INET));
    expect(() => sys.getpeername(unconnected)).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'getpeername' }));

    const reason = noIpv6Loopback();
    if (reason !== null) return ctx.skip(reason);
    const [l6, e6] = listen(sys.AF_INET6, '::1');
    expect(sys.getsockname(l6)).toEqual({ family: sys.AF_INET6, address: '::1', port: e6.port });
  });

  it('sets and reads socket options', () => {
    const fd = owned(sys.socket(sys.AF_INET));
    sys.setsockopt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY, true);
    expect(sys.getsockopt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY)).toBe(1);
    sys.setsockopt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY, 0);
    expect(sys.getsockopt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY)).toBe(0);
    sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_RCVBUF, 32 * 1024);
    expect(sys.getsockopt(fd, sys.SOL_SOCKET, sys.SO_RCVBUF)).toBe(64 * 1024); // Linux doubles it for bookkeeping
    sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_SNDBUF, 32 * 1024);
    expect(sys.getsockopt(fd, sys.SOL_SOCKET, sys.SO_SNDBUF)).toBe(64 * 1024);
    sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
    expect(sys.getsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR)).toBe(1);
  });

  it('shares a port between sockets with SO_REUSEPORT, and only with it', () => {
    const a = owned(sys.socket(sys.AF_INET));
    sys.setsockopt(a, sys.SOL_SOCKET, sys.SO_REUSEPORT, true);
    sys.bind(a, '127.0.0.1', 0);
    sys.listen(a);
    const { port } = sys.getsockname(a) as sys.InetAddress;
    const b = owned(sys.socket(sys.AF_INET));
    sys.setsockopt(b, sys.SOL_SOCKET, sys.SO_REUSEPORT, true);
    sys.bind(b, '127.0.0.1', port);
    sys.listen(b);
    const c = owned(sys.socket(sys.AF_INET));
    expect(() => sys.bind(c, '127.0.0.1', port)).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind', errno: -os.errno.EADDRINUSE }),
    );
  });

  it('sends and receives TCP urgent data with MSG_OOB, reported as EVENT_PRIORITY', () => {
    // The best backend that can watch priority data (not FreeBSD's kqueue).
    const sel = track(BACKENDS.find((b) => backendHas(b.backend, 'priority'))!.create());
    const [client, server] = tcpPair(sel);
    sel.register(server, EVENT_READ | EVENT_PRIORITY);
    const one = new Uint8Array(1);
    expect(() => sys.recv(server, one, 0, 1, sys.MSG_OOB)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'recv' }));
    sys.send(client, new Uint8Array([0x21]), 0, 1, sys.MSG_OOB);
    const ready = sel.select(5000);
    expect(ready.length).toBe(1);
    expect(ready[0]![1] & EVENT_PRIORITY).toBe(EVENT_PRIORITY);
    expect(sys.recv(server, one, 0, 1, sys.MSG_OOB)).toBe(1);
    expect(one[0]).toBe(0x21);
  });

  it('writev gathers chunks into one write, on sockets and on pipes', () => {
    const [a, b] = sys.socketpair().map(owned) as [number, number];
    const chunks = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3]), new Uint8Array([4, 5, 6])];
    expect(sys.writev(a, chunks)).toBe(6);
    const buf = new Uint8Array(16);
    expect(sys.read(b, buf)).toBe(6);
    expect([...buf.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sys.writev(a, [])).toBe(0);

    const [r, w] = sys.pipe().map(owned) as [number, number];
    expect(sys.writev(w, chunks)).toBe(6);
    expect(sys.read(r, buf)).toBe(6);
    expect([...buf.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts in a batch until -1', () => {
    const [listener, endpoint] = listen(sys.AF_INET, '127.0.0.1');
    for (let i = 0; i < 5; i++) connect(endpoint);
    const sel = track(BACKENDS[0]!.create());
    sel.register(listener, EVENT_READ);
    const accepted: number[] = [];
    const deadline = Date.now() + 5000;
    while (accepted.length < 5 && Date.now() < deadline) {
      sel.select(100);
      for (let fd = sys.accept(listener); fd !== -1; fd = sys.accept(listener)) accepted.push(owned(fd));
    }
    expect(accepted.length).toBe(5);
    expect(new Set(accepted).size).toBe(5);
    expect(sys.accept(listener)).toBe(-1);
  });
});
