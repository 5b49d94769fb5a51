// Graceful shutdown of the TCP server: close() stops accepting, the open
// connections finish, `closed` settles once the last one is closed and
// `connections` counts them; on every backend, under run() and attach().
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type Coroutine, type FdStream, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, fdsChangedSince, kqueueLimit, reactorWithFds } from './helpers.js';

/** A client socket connected to 127.0.0.1:port (the connect ended), or the errno that ended it. */
function* connectTo(reactor: Reactor, port: number): Coroutine<number> {
  const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
  try {
    if (sys.connect(fd, '127.0.0.1', port) === -1) {
      yield reactor.writable(fd);
      const errno = sys.getsockoptError(fd);
      if (errno !== 0) {
        sys.close(fd);
        return -errno;
      }
    }
  } catch (err) {
    sys.close(fd);
    return (err as { errno: number }).errno;
  }
  return fd;
}

describe.each(BACKENDS)('TcpServer.close on $name', ({ backend, create }) => {
  // libkqueue closes its own hold on a closed fd a moment later (R5), so the
  // listening socket still accepts right after close() there.
  it.skipIf(kqueueLimit(backend, 'kqueueLateFdRelease'))('stops accepting, lets the open connections finish, then settles closed (run())', async () => {
    const [reactor, before] = reactorWithFds(create);
    const log: string[] = [];
    const server = reactor.listen({ port: 0 }, function* (stream: FdStream) {
      const line: Uint8Array = yield* stream.readUntil('\n');
      stream.write(line);
    });
    server.closed.addDoneCallback(() => log.push(`closed with ${server.connections} connections`));
    const task = reactor.spawn(function* () {
      const a: number = yield* connectTo(reactor, server.port);
      const b: number = yield* connectTo(reactor, server.port);
      yield reactor.sleep(30); // both accepted
      log.push(`open ${server.connections}`);
      server.close();
      server.close(); // idempotent
      log.push(`after close: ${server.connections} open, closed done ${server.closed.done}`);
      const refused: number = yield* connectTo(reactor, server.port);
      log.push(`a new connection: ${refused < 0 ? 'refused' : 'accepted'}`);
      if (refused >= 0) sys.close(refused);
      // The open connections are still served.
      sys.send(a, enc('one\n'));
      yield reactor.readable(a);
      const buf = new Uint8Array(16);
      log.push(`a got ${new TextDecoder().decode(buf.subarray(0, sys.recv(a, buf)))}`.trim());
      yield reactor.sleep(10);
      log.push(`open ${server.connections}, closed done ${server.closed.done}`);
      sys.send(b, enc('two\n'));
      yield server.closed; // a coroutine can wait for it
      log.push(`b's handler ended: ${server.connections} open`);
      sys.close(a);
      sys.close(b);
    });
    reactor.run();
    expect(task.fulfilled).toBe(true);
    reactor.close();
    expect(log).toEqual([
      'open 2',
      'after close: 2 open, closed done false',
      'a new connection: refused',
      'a got one',
      'open 1, closed done false',
      'closed with 0 connections',
      "b's handler ended: 0 open",
    ]);
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});

describe('TcpServer.close', () => {
  it('settles closed at once when no connection is open, and counts async handlers under attach()', async () => {
    const reactor = new Reactor();
    reactor.attach();
    const idle = reactor.listen({ port: 0 }, function* () {});
    idle.close();
    expect(idle.closed.done).toBe(true);
    expect(idle.connections).toBe(0);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = reactor.listen({ port: 0 }, async (stream: FdStream) => {
      await gate;
      await stream.write('bye\n');
    });
    const client = net.connect(server.port, '127.0.0.1');
    const received = new Promise<string>((resolve) => {
      let text = '';
      client.on('data', (d: Buffer) => (text += d.toString()));
      client.on('end', () => resolve(text));
    });
    while (server.connections === 0) await new Promise((r) => setTimeout(r, 5));
    server.close();
    expect(server.connections).toBe(1);
    expect(server.closed.done).toBe(false);
    release();
    await server.closed;
    expect(server.connections).toBe(0);
    expect(await received).toBe('bye\n');
    client.destroy();
    reactor.close();
  });

  it('does not count connections handed to a plain-function handler, which owns its fd', async () => {
    const reactor = new Reactor();
    reactor.attach();
    const fds: number[] = [];
    const server = reactor.listen({ port: 0 }, (fd: number) => fds.push(fd));
    const client = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    while (fds.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.connections).toBe(0);
    server.close();
    expect(server.closed.done).toBe(true);
    for (const fd of fds) sys.close(fd);
    client.destroy();
    reactor.close();
  });
});
