// Half-close on ReactorSocket as net.Socket does it, on every backend (the
// reactor attached: node:http and the stream events need Node's loop): a
// client that sends its request and then FIN (`socket.end(request)`,
// `nc -N`, a script's shutdown(SHUT_WR)), the FIN in the request's segment
// or after a delay, gets node:http's whole reply before end of stream,
// whether the handler replies on the request's 'end' or in setImmediate,
// with allowHalfOpen false or true; the event order and the write after the
// peer's FIN are net.Socket's, checked against a net.Socket in the same
// exchange; no fd is left behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DefaultSelector, EVENT_WRITE, listen, Reactor, ReactorSocket, sys, type TcpServer } from '../lib/index.js';
import { BACKENDS, enc, fdsChangedSince, openFds, owned, release, track } from './helpers.js';

const reactors: Reactor[] = [];
const tcpServers: TcpServer[] = [];
const netServers: NetServer[] = [];
afterEach(async () => {
  for (const s of tcpServers.splice(0)) s.close();
  // Before the selectors are closed (helpers.ts): a reactor detaches first.
  for (const r of reactors.splice(0)) r.close();
  await Promise.all(netServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client as `nc -N` is: connects, writes `request`, sends FIN in the same
 * breath (`finAfterMs` undefined: shutdown(SHUT_WR) right after the write,
 * so both are queued before the server reads) or `finAfterMs` later, and
 * reads until the server's FIN. Resolves with what it read.
 */
async function client(port: number, request: string, finAfterMs?: number): Promise<string> {
  const fd = owned(sys.socket(sys.AF_INET, sys.SOCK_STREAM));
  if (sys.connect(fd, '127.0.0.1', port) === -1) {
    // A loopback connect completes in the kernel: wait for it here.
    const sel = track(new DefaultSelector());
    sel.register(fd, EVENT_WRITE);
    expect(sel.select(5000)).toHaveLength(1);
    sel.close();
    expect(sys.getsockoptError(fd)).toBe(0);
  }
  expect(sys.write(fd, enc(request))).toBe(request.length);
  if (finAfterMs === undefined) sys.shutdown(fd, sys.SHUT_WR);
  else setTimeout(() => sys.shutdown(fd, sys.SHUT_WR), finAfterMs);
  const parts: Buffer[] = [];
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + 5000;
  for (;;) {
    const n = sys.read(fd, buf);
    if (n === 0) break;
    if (n > 0) parts.push(Buffer.from(buf.subarray(0, n)));
    else if (Date.now() > deadline) throw new Error(`no end of stream after 5 s; read so far: ${JSON.stringify(Buffer.concat(parts).toString())}`);
    else await sleep(2);
  }
  if (finAfterMs !== undefined) await sleep(finAfterMs + 5); // its FIN has gone
  release(fd);
  return Buffer.concat(parts).toString();
}

const REQUEST = 'GET /half-closed HTTP/1.1\r\nHost: x\r\n\r\n';

type ReplyWhen = "on the request's 'end'" | 'in setImmediate';

/** A node:http server over ReactorSockets the reactor's TcpServer accepts:
 * each connection is handed to node:http with server.emit('connection'),
 * and node:http replies as `when` says. */
function httpOverReactor(reactor: Reactor, allowHalfOpen: boolean, when: ReplyWhen): { port: number; sockets: ReactorSocket[]; http: HttpServer } {
  const http = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const reply = () => res.end(`${req.method} ${req.url} answered`);
      if (when === 'in setImmediate') setImmediate(reply);
      else reply();
    });
  });
  const sockets: ReactorSocket[] = [];
  const tcp = listen(reactor, { port: 0 }, (fd: number) => {
    const socket = new ReactorSocket({ reactor, fd, allowHalfOpen });
    sockets.push(socket);
    http.emit('connection', socket);
  });
  tcpServers.push(tcp);
  return { port: tcp.port, sockets, http };
}

const closed = (s: Duplex): Promise<unknown> => (s.closed ? Promise.resolve() : once(s, 'close'));

/**
 * The same exchange over any server-side socket: the peer sends 'question'
 * and FIN together; the socket answers in setImmediate from its 'data'
 * listener; with allowHalfOpen it ends with 'bye' 20 ms after 'end', without
 * it a write after the automatic end fails. `play` is given to the server's
 * connection handler, which calls it with the socket at once (before any
 * read). `done` resolves with the socket's events and what the peer read.
 */
function exchange(allowHalfOpen: boolean): { play: (socket: Duplex) => void; done: (port: number) => Promise<{ log: string[]; peer: string }> } {
  const log: string[] = [];
  let closedSocket!: Promise<unknown>;
  let played!: () => void;
  const started = new Promise<void>((resolve) => (played = resolve));
  const play = (socket: Duplex): void => {
    // (Not events.once: it rejects on the 'error' that comes first.)
    closedSocket = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (chunk: Buffer) => {
      log.push(`data ${chunk.toString()}`);
      setImmediate(() => {
        log.push('answer');
        socket.write('answer');
      });
    });
    socket.on('end', () => {
      log.push(`end (writable ${socket.writable})`);
      if (allowHalfOpen) {
        setTimeout(() => {
          log.push(`still writable ${socket.writable}`);
          socket.end('bye');
        }, 20);
      }
    });
    socket.on('finish', () => {
      log.push('finish');
      if (!allowHalfOpen) {
        // The Duplex ended the writable side after 'end': net.Socket's write
        // then fails with EPIPE, 'ended by the other party'.
        socket.write('late', (err) => log.push(`late write: ${(err as NodeJS.ErrnoException | null)?.code} ${err?.message}`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => log.push(`error ${err.code}`));
    played();
  };
  const done = async (port: number) => {
    const peer = await client(port, 'question');
    await started;
    await closedSocket;
    log.push('close');
    return { log, peer };
  };
  return { play, done };
}

describe.each(BACKENDS)('ReactorSocket half-close on $name', ({ create }) => {
  function attached(): Reactor {
    const reactor = new Reactor({ selector: track(create()) });
    reactors.push(reactor);
    reactor.attach();
    return reactor;
  }

  it('a real peer (python3: sendall, then shutdown(SHUT_WR)) gets the whole reply before end of stream', async () => {
    const reactor = attached();
    const { port, sockets } = httpOverReactor(reactor, false, 'in setImmediate');
    const script = [
      'import socket, sys',
      `s = socket.create_connection(('127.0.0.1', ${port}))`,
      `s.sendall(${JSON.stringify(REQUEST)}.encode())`,
      's.shutdown(socket.SHUT_WR)',
      'data = b""',
      'while True:',
      '    chunk = s.recv(65536)',
      '    if not chunk: break',
      '    data += chunk',
      'sys.stdout.write(data.decode())',
    ].join('\n');
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nGET \/half-closed answered$/);
    await closed(sockets[0]!);
  });

  describe.each([false, true])('allowHalfOpen %s', (allowHalfOpen) => {
    it.each<[ReplyWhen, string, number | undefined]>([
      ["on the request's 'end'", 'with the request', undefined],
      ['in setImmediate', 'with the request', undefined],
      ["on the request's 'end'", '30 ms after it', 30],
      ['in setImmediate', '30 ms after it', 30],
    ])("node:http replying %s answers a client whose FIN comes %s, then closes the fd", async (when, _fin, finAfterMs) => {
      const reactor = attached();
      const before = openFds();
      const { port, sockets } = httpOverReactor(reactor, allowHalfOpen, when);
      const reply = await client(port, REQUEST, finAfterMs);
      expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(reply.endsWith('\r\n\r\nGET /half-closed answered')).toBe(true);
      expect(sockets).toHaveLength(1);
      await closed(sockets[0]!);
      expect(sockets[0]!.fd).toBe(-1);
      tcpServers.pop()!.close();
      expect(reactor.selector.getMap().size).toBe(0);
      expect(await fdsChangedSince(before)).toEqual([]);
    });

    it("matches net.Socket: 'end' after the reply scheduled from 'data', the writable side as allowHalfOpen says, then close", async () => {
      // net.Socket: a node:net server's connection.
      const theirs = exchange(allowHalfOpen);
      const netServer = createNetServer({ allowHalfOpen }, theirs.play);
      netServers.push(netServer);
      netServer.listen(0, '127.0.0.1');
      await once(netServer, 'listening');
      const expected = await theirs.done((netServer.address() as AddressInfo).port);

      const reactor = attached();
      const before = openFds();
      const ours = exchange(allowHalfOpen);
      const tcp = listen(reactor, { port: 0 }, (fd: number) => ours.play(new ReactorSocket({ reactor, fd, allowHalfOpen })));
      tcpServers.push(tcp);
      const got = await ours.done(tcp.port);

      // What net.Socket does, spelled out, so that both cannot be wrong together.
      expect(expected).toEqual({
        log: allowHalfOpen
          ? ['data question', 'answer', 'end (writable true)', 'still writable true', 'finish', 'close']
          : [
              'data question',
              'answer',
              'end (writable true)',
              'finish',
              'late write: EPIPE This socket has been ended by the other party',
              'error EPIPE',
              'close',
            ],
        peer: allowHalfOpen ? 'answerbye' : 'answer',
      });
      expect(got).toEqual(expected);
      tcpServers.pop()!.close();
      expect(reactor.selector.getMap().size).toBe(0);
      expect(await fdsChangedSince(before)).toEqual([]);
    });
  });
});
