// ReactorSocket, the node:stream Duplex over a reactor-driven socket, on
// every backend (the reactor attached to Node's loop): connect, byte-exact
// echo, back-pressure both ways, half-close, errors as Node system errors,
// socket options, timeouts, wrapped fds and Unix sockets, and no fd left
// behind.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, EVENT_READ, Reactor, ReactorSocket, sys } from '../lib/index.js';
import { BACKENDS, fdsChangedSince, kqueueLimit, openFds, socketpair, track } from './helpers.js';

const servers: Server[] = [];
const reactors: Reactor[] = [];
afterEach(async () => {
  // Before the selectors are closed (helpers.ts): a reactor detaches first.
  for (const r of reactors.splice(0)) r.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A node:net server on 127.0.0.1 (or a Unix path) calling `onConnection`. */
async function listen(onConnection: (socket: Socket) => void, path?: string): Promise<Server> {
  const server = createServer(onConnection);
  servers.push(server);
  if (path === undefined) server.listen(0, '127.0.0.1');
  else server.listen(path);
  await once(server, 'listening');
  return server;
}

/** Resolves once the stream has emitted 'close' (at once if it already has). */
const closed = (stream: ReactorSocket): Promise<unknown> => (stream.closed ? Promise.resolve() : once(stream, 'close'));
/** No fd left open or closed by the test (helpers.ts: fdsChangedSince). */
async function expectFdsBackTo(before: number[]): Promise<void> {
  expect(await fdsChangedSince(before)).toEqual([]);
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => parts.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

describe.each(BACKENDS)('ReactorSocket on $name', ({ backend, create }) => {
  function attached(): Reactor {
    const reactor = new Reactor({ selector: track(create()) });
    reactors.push(reactor);
    reactor.attach();
    return reactor;
  }

  // Its flow control modifies a registration in place: libkqueue's R1.
  it.skipIf(kqueueLimit(backend, 'kqueueReAddFails'))('connects, echoes 4 MB byte-exact through a node:net echo server, and closes its fd', async () => {
    const reactor = attached();
    const server = await listen((s) => s.pipe(s));
    const before = openFds();
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    expect(socket.connecting).toBe(true);
    expect(socket.pending).toBe(true);
    await once(socket, 'connect');
    expect(socket.connecting).toBe(false);
    expect(socket.readyState).toBe('open');
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(socket.remotePort).toBe(portOf(server));
    expect(socket.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });

    const data = randomBytes(4 << 20);
    const received = collect(socket);
    // Many writes of odd sizes, then end(): the echo ends when we do.
    for (let off = 0; off < data.length; off += 100_003) socket.write(data.subarray(off, off + 100_003));
    socket.end();
    const echoed = await received;
    expect(echoed.length).toBe(data.length);
    expect(sha(echoed)).toBe(sha(data));
    await closed(socket);
    expect(socket.bytesWritten).toBe(data.length);
    expect(socket.bytesRead).toBe(data.length);
    expect(socket.fd).toBe(-1);
    expect(reactor.selector.getMap().size).toBe(0);
    await expectFdsBackTo(before);
  });

  it('write() says false when the peer does not read, and drains once it does', async () => {
    const reactor = attached();
    let peer: Socket | undefined;
    const server = await listen((s) => {
      peer = s;
      s.pause();
    });
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    await once(socket, 'connect');
    const data = randomBytes(16 << 20);
    let accepted = true;
    let off = 0;
    // Write until the stream says stop: the kernel buffers filled and the
    // writable side is holding back.
    while (accepted && off < data.length) {
      accepted = socket.write(data.subarray(off, off + 65536));
      off += 65536;
    }
    expect(accepted).toBe(false);
    expect(off).toBeLessThan(data.length);
    // Nothing moves while the peer is paused.
    await new Promise((r) => setTimeout(r, 50));
    expect(socket.writableLength).toBeGreaterThan(0);
    const received = collect(peer!);
    peer!.resume();
    await once(socket, 'drain');
    socket.end(data.subarray(off));
    expect(sha(await received)).toBe(sha(data));
    socket.destroy();
    await closed(socket);
    reactor.close();
  });

  it('stops reading while paused (back-pressure to the kernel) and resumes byte-exact', async () => {
    const reactor = attached();
    const data = randomBytes(8 << 20);
    let drained = false;
    const server = await listen((s) => {
      s.end(data, () => (drained = true));
    });
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server), readableHighWaterMark: 64 * 1024 });
    socket.pause();
    await once(socket, 'connect');
    socket.read(0); // start reading into the buffer up to the high-water mark
    await new Promise((r) => setTimeout(r, 100));
    // The buffer is full, the fd is no longer watched for reading, and so
    // the sender cannot finish: the kernel's windows hold the rest.
    expect(socket.readableLength).toBeGreaterThanOrEqual(64 * 1024);
    expect(reactor.selector.getMap().get(socket.fd)?.events ?? 0).not.toBe(EVENT_READ);
    expect(drained).toBe(false);
    const received = collect(socket);
    socket.resume();
    expect(sha(await received)).toBe(sha(data));
    await closed(socket);
    reactor.close();
  });

  it('keeps the writable side open after the peer ends when allowHalfOpen is set', async () => {
    const reactor = attached();
    let answered!: Promise<string>;
    const server = await listen((s) => {
      s.end('question?');
      answered = collect(s).then((b) => b.toString());
    });
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server), allowHalfOpen: true });
    const question = await collect(socket);
    expect(question.toString()).toBe('question?');
    expect(socket.writable).toBe(true);
    socket.end('answer!');
    expect(await answered).toBe('answer!');
    await closed(socket);
    reactor.close();
  });

  // The refusal is read from SO_ERROR, which libkqueue consumes (R4).
  it.skipIf(kqueueLimit(backend, 'kqueueEatsSoError'))('reports a refused connection as net.Socket does: ECONNREFUSED with errno, syscall, address and port', async () => {
    const reactor = attached();
    const before = openFds();
    // A port nobody listens on: bind one, close it.
    const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
    sys.bind(fd, '127.0.0.1', 0);
    const { port } = sys.getsockname(fd) as sys.InetAddress;
    sys.close(fd);
    const socket = createConnection(reactor, { host: '127.0.0.1', port });
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException & { address: string; port: number }];
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-111);
    expect(err.syscall).toBe('connect');
    expect(err.address).toBe('127.0.0.1');
    expect(err.port).toBe(port);
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    await closed(socket);
    expect(socket.destroyed).toBe(true);
    await expectFdsBackTo(before);
  });

  it('resolves a host name, and writes made before the connection is up go out once it is', async () => {
    const reactor = attached();
    const server = await listen((s) => s.pipe(s));
    const socket = new ReactorSocket({ reactor });
    const lookups: unknown[] = [];
    socket.on('lookup', (err, address) => lookups.push([err, address]));
    socket.connect(portOf(server), 'localhost');
    socket.end('early bytes');
    const echoed = await collect(socket);
    expect(echoed.toString()).toBe('early bytes');
    expect(lookups).toHaveLength(1);
    reactor.close();
  });

  it('maps setNoDelay and setKeepAlive to TCP_NODELAY and SO_KEEPALIVE', async () => {
    const reactor = attached();
    const server = await listen(() => {});
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    // Called while connecting: applied once connected, as net.Socket does.
    socket.setNoDelay(true).setKeepAlive(true);
    await once(socket, 'connect');
    expect(sys.getsockopt(socket.fd, sys.IPPROTO_TCP, sys.TCP_NODELAY)).not.toBe(0);
    expect(sys.getsockopt(socket.fd, sys.SOL_SOCKET, sys.SO_KEEPALIVE)).not.toBe(0);
    socket.setNoDelay(false).setKeepAlive(false);
    expect(sys.getsockopt(socket.fd, sys.IPPROTO_TCP, sys.TCP_NODELAY)).toBe(0);
    expect(sys.getsockopt(socket.fd, sys.SOL_SOCKET, sys.SO_KEEPALIVE)).toBe(0);
    socket.destroy();
    reactor.close();
  });

  it("emits 'timeout' after the idle time, and not while data flows", async () => {
    const reactor = attached();
    let peer: Socket | undefined;
    const server = await listen((s) => (peer = s));
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    await once(socket, 'connect');
    socket.on('data', () => {});
    let timeouts = 0;
    const start = performance.now();
    socket.setTimeout(150, () => timeouts++);
    // Activity every 40 ms for 300 ms keeps it from firing.
    for (let i = 0; i < 7; i++) {
      await new Promise((r) => setTimeout(r, 40));
      peer!.write('x');
    }
    expect(timeouts).toBe(0);
    await once(socket, 'timeout');
    expect(performance.now() - start).toBeGreaterThanOrEqual(150 + 240);
    expect(socket.destroyed).toBe(false); // a timeout only tells
    socket.destroy();
    reactor.close();
  });

  it('wraps a connected fd (a socketpair) and closes it when destroyed', async () => {
    const reactor = attached();
    const [a, b] = socketpair();
    const socket = new ReactorSocket({ reactor, fd: a });
    expect(socket.pending).toBe(false);
    sys.write(b, new TextEncoder().encode('from the other end'));
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('from the other end');
    socket.write('back');
    await new Promise((r) => setTimeout(r, 20));
    const buf = new Uint8Array(16);
    expect(new TextDecoder().decode(buf.subarray(0, sys.read(b, buf)))).toBe('back');
    socket.destroy();
    await closed(socket);
    // The fd is closed: the other end reads end of stream. (With select and
    // poll, the attached reactor's helper thread may be inside a wait on the
    // fd, which holds the socket open in the kernel until the wait returns.)
    let n = sys.read(b, buf);
    for (let i = 0; n === -1 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      n = sys.read(b, buf);
    }
    expect(n).toBe(0);
    reactor.close();
  });

  it('connects to a Unix socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reactor-socket-'));
    try {
      const reactor = attached();
      const path = join(dir, 's');
      await listen((s) => s.end('over unix'), path);
      const socket = createConnection(reactor, { path });
      expect((await collect(socket)).toString()).toBe('over unix');
      reactor.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('destroy() while connecting closes the fd and never connects', async () => {
    const reactor = attached();
    const server = await listen(() => {});
    const before = openFds();
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    let connected = false;
    socket.on('connect', () => (connected = true));
    socket.destroy();
    await closed(socket);
    await new Promise((r) => setTimeout(r, 20));
    expect(connected).toBe(false);
    expect(reactor.selector.getMap().size).toBe(0);
    await expectFdsBackTo(before);
  });

  // libkqueue reads (and so clears) the pending ECONNRESET in kevent (R4).
  it.skipIf(kqueueLimit(backend, 'kqueueEatsSoError'))('surfaces a reset from the peer as ECONNRESET from recv', async () => {
    const reactor = attached();
    const server = await listen((s) => {
      // SO_LINGER 0 makes close() send RST: resetAndDestroy() does that.
      s.once('data', () => s.resetAndDestroy());
    });
    const socket = createConnection(reactor, { host: '127.0.0.1', port: portOf(server) });
    socket.on('data', () => {});
    socket.write('trigger');
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
    expect(err.syscall).toBe('recv');
    expect(err.errno).toBe(-104);
    reactor.close();
  });
});

describe('ReactorSocket arguments', () => {
  it('rejects a missing reactor and a bad port with coded errors', () => {
    expect(() => new ReactorSocket({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const reactor = new Reactor();
    try {
      expect(() => createConnection(reactor, { port: 70000 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
      expect(() => new ReactorSocket({ reactor }).setTimeout(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    } finally {
      reactor.close();
    }
  });
});
