// The Unix stream server (listen with a `path`), on every backend, under
// run() and attach(): the three handler forms serving clients that connect
// with sys.connect and real peers (python3, socat), peer credentials, the
// idle timeout, graceful close removing the socket file; a stale socket file
// taken over, a regular file refused, a replaced file left alone, abstract
// names; bad input refused with coded errors and no fd or file left; out
// of fds in a child, every client answered or cleanly refused.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { type Coroutine, EVENT_READ, type FdStream, listen, Reactor, sys, UnixServer } from '../lib/index.js';
import { BACKENDS, DIST_INDEX, enc, fdsChangedSince, openFds, reactorWithFds, thrown, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nsu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let names = 0;
const socketPath = () => join(dir, `s${names++}.sock`);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A client connected to `path` with sys.connect (Unix sockets connect at once). */
function connectTo(path: string): number {
  const fd = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM);
  try {
    expect(sys.connect(fd, path)).toBe(0);
  } catch (err) {
    sys.close(fd);
    throw err;
  }
  return fd;
}

/** Sends `line` (if not empty), reads until end of stream; closes the fd. */
function* exchange(reactor: Reactor, fd: number, line: string): Coroutine<string> {
  if (line !== '') sys.send(fd, enc(line));
  let got = '';
  const buf = new Uint8Array(256);
  for (;;) {
    yield reactor.readable(fd);
    const n = sys.recv(fd, buf);
    if (n === 0) break;
    if (n > 0) got += dec(buf.subarray(0, n));
  }
  sys.close(fd);
  return got;
}

/** Runs `body` as a task under run(), closing `servers` when it ends
 * however it ends (so run() returns), and gives its result. */
function driven<T>(reactor: Reactor, servers: UnixServer[], body: () => Coroutine<T>): T {
  const task = reactor.spawn(function* () {
    try {
      return yield* body();
    } finally {
      for (const s of servers) s.close();
    }
  });
  reactor.run();
  return task.result() as T;
}

/** A real peer: python3 connects to `path`, sends `line`, prints all it reads back. */
function pythonPeer(path: string, line: string): { pid: number; output: Promise<string> } {
  const code = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
    's.connect(sys.argv[1])',
    's.sendall(sys.argv[2].encode())',
    'out = b""',
    'while True:',
    '    d = s.recv(4096)',
    '    if not d: break',
    '    out += d',
    'sys.stdout.write(out.decode())',
  ].join('\n');
  return childOutput('python3', ['-c', code, path, line]);
}

function childOutput(file: string, args: string[], input?: string): { pid: number; output: Promise<string> } {
  const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
  if (input !== undefined) child.stdin!.end(input);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const output = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited with ${code}`))));
  });
  return { pid: child.pid!, output };
}

/** The handler forms' servers: each answers a line with a tag and the line. */
function servers(reactor: Reactor, served: string[]): { plain: UnixServer; gen: UnixServer; asy: UnixServer } {
  const plain = listen(reactor, { path: socketPath() }, (fd: number) => {
    // Unix sockets deliver the client's first bytes with the connection's
    // readiness; a plain handler waits for them itself.
    reactor.addHandler(
      fd,
      () => {
        const buf = new Uint8Array(64);
        const n = sys.recv(fd, buf);
        if (n < 0) return;
        reactor.removeHandler(fd);
        sys.send(fd, enc(`plain:${dec(buf.subarray(0, n))}`));
        sys.close(fd);
        served.push('plain');
      },
      EVENT_READ,
    );
  });
  const gen = listen(reactor, { path: socketPath() }, function* (stream: FdStream) {
    const line: Uint8Array = yield* stream.readUntil('\n');
    yield* stream.write(`gen:${dec(line)}`);
    served.push('gen');
  });
  const asy = listen(reactor, { path: socketPath() }, async (stream: FdStream) => {
    const line = await stream.readUntil('\n');
    await stream.write(`async:${dec(line)}`);
    served.push('async');
  });
  return { plain, gen, asy };
}

describe.each(BACKENDS)('UnixServer on $name', ({ create }) => {
  it('serves plain and generator handlers under run(), sys.connect clients and python3; refuses async ones', async () => {
    const [reactor, before] = reactorWithFds(create);
    const errors: Array<{ code?: string }> = [];
    reactor.on('error', (e: { code?: string }) => errors.push(e));
    const served: string[] = [];
    const { plain, gen, asy } = servers(reactor, served);
    expect(plain).toBeInstanceOf(UnixServer);
    expect(gen.address).toBe(gen.path);
    expect(sys.getsockname(gen.fd)).toEqual({ family: sys.AF_UNIX, path: gen.path });
    const peer = pythonPeer(gen.path, 'from python\n');
    const log: string[] = [];
    const task = reactor.spawn(function* () {
      try {
        const [a, b, c] = [connectTo(plain.path), connectTo(gen.path), connectTo(asy.path)];
        log.push(yield* exchange(reactor, a, 'one\n'));
        log.push(yield* exchange(reactor, b, 'two\n'));
        // Closed unanswered (a send to it could already fail with EPIPE).
        log.push(`async: ${JSON.stringify(yield* exchange(reactor, c, ''))}`);
        for (let i = 0; i < 1000 && served.filter((s) => s === 'gen').length < 2; i++) yield reactor.sleep(5);
      } finally {
        for (const s of [plain, gen, asy]) s.close();
      }
    });
    reactor.run();
    task.result();
    reactor.close();
    expect(log).toEqual(['plain:one\n', 'gen:two\n', 'async: ""']);
    expect(await peer.output).toBe('gen:from python\n');
    expect(errors.map((e) => e.code)).toEqual(['ERR_REACTOR_NOT_RUNNING']);
    for (const s of [plain, gen, asy]) expect(existsSync(s.path)).toBe(false);
    expect(await fdsChangedSince(before)).toEqual([]);
  });

  it('serves all three handler forms under attach(), sys.connect clients, python3 and socat', async () => {
    const reactor = new Reactor({ selector: track(create()) });
    const errors: unknown[] = [];
    reactor.on('error', (e) => errors.push(e));
    reactor.attach();
    const before = openFds();
    const served: string[] = [];
    const { plain, gen, asy } = servers(reactor, served);
    const talk = (path: string, line: string) => reactor.spawn(exchange(reactor, connectTo(path), line));
    expect(await talk(plain.path, 'one\n')).toBe('plain:one\n');
    expect(await talk(gen.path, 'two\n')).toBe('gen:two\n');
    expect(await talk(asy.path, 'three\n')).toBe('async:three\n');
    expect(await pythonPeer(asy.path, 'from python\n').output).toBe('async:from python\n');
    expect(await childOutput('socat', ['-', `UNIX-CONNECT:${gen.path}`], 'from socat\n').output).toBe('gen:from socat\n');
    for (const s of [plain, gen, asy]) s.close();
    await Promise.all([plain.closed, gen.closed, asy.closed]);
    // Before reactor.close(), which closes the fds attach() opened.
    expect(await fdsChangedSince(before)).toEqual([]);
    reactor.close();
    expect(errors).toEqual([]);
    expect(served.sort()).toEqual(['async', 'async', 'gen', 'gen', 'plain']);
  });

  it('closes a silent client after the idle timeout, serving a talking one meanwhile (run())', () => {
    const reactor = new Reactor({ selector: track(create()) });
    const errors: unknown[] = [];
    reactor.on('error', (e) => errors.push(e));
    // The talker's own idle timeout and the test closing it race (both come
    // about 200 ms in): whichever ends its connection first, the handler ends
    // cleanly, at a line boundary.
    const server = listen(reactor, { path: socketPath(), idleTimeout: 200 }, function* (stream: FdStream) {
      for (;;) {
        let line: Uint8Array;
        try {
          line = yield* stream.readUntil('\n');
        } catch (err) {
          if ((err as { code?: string; partial?: Uint8Array }).code === 'ERR_STREAM_EOF' && (err as { partial: Uint8Array }).partial.length === 0) return;
          throw err;
        }
        yield* stream.write(line);
      }
    });
    const log: string[] = [];
    driven(reactor, [server], function* () {
      const silent = connectTo(server.path);
      const start = reactor.time();
      const talker = connectTo(server.path);
      sys.send(talker, enc('hi\n'));
      yield reactor.readable(talker);
      const buf = new Uint8Array(16);
      log.push(`talker got ${dec(buf.subarray(0, sys.recv(talker, buf))).trim()}`);
      yield reactor.readable(silent);
      const elapsed = reactor.time() - start;
      log.push(`silent read ${sys.recv(silent, buf)}`);
      log.push(`elapsed ${elapsed >= 150 && elapsed < 3000 ? 'ok' : elapsed}`);
      sys.close(silent);
      sys.close(talker);
      server.close();
      yield server.closed;
      log.push(`open ${server.connections}`);
    });
    reactor.close();
    expect(log).toEqual(['talker got hi', 'silent read 0', 'elapsed ok', 'open 0']);
    expect(errors).toEqual([]);
  });

  it('close() stops accepting, removes the socket file, and closed settles once the open connection ends (run())', () => {
    const reactor = new Reactor({ selector: track(create()) });
    const server = listen(reactor, { path: socketPath() }, function* (stream: FdStream) {
      yield* stream.write(yield* stream.readUntil('\n'));
    });
    const log: string[] = [];
    driven(reactor, [server], function* () {
      const a = connectTo(server.path);
      yield reactor.sleep(20); // accepted
      server.close();
      log.push(`file ${existsSync(server.path)}, open ${server.connections}, closed ${server.closed.done}`);
      log.push(`a new client: ${(thrown(() => connectTo(server.path)) as { code?: string }).code}`);
      log.push(`answer ${JSON.stringify(yield* exchange(reactor, a, 'last\n'))}`);
      yield server.closed;
      log.push(`closed, open ${server.connections}`);
    });
    reactor.close();
    expect(log).toEqual(['file false, open 1, closed false', 'a new client: ENOENT', 'answer "last\\n"', 'closed, open 0']);
  });

  it('takes over a stale socket file that a crashed server left', () => {
    const path = socketPath();
    const crashed = sys.socket(sys.AF_UNIX);
    sys.bind(crashed, path);
    sys.listen(crashed);
    sys.close(crashed); // the file stays
    expect(lstatSync(path).isSocket()).toBe(true);
    const reactor = new Reactor({ selector: track(create()) });
    const server = listen(reactor, { path }, function* (stream: FdStream) {
      yield* stream.write('fresh\n');
    });
    const got = driven(reactor, [server], () => exchange(reactor, connectTo(path), ''));
    reactor.close();
    expect(got).toBe('fresh\n');
    expect(existsSync(path)).toBe(false);
  });

  it('close() leaves a socket file that another server has put at the path since', () => {
    const path = socketPath();
    const reactor = new Reactor({ selector: track(create()) });
    const server = listen(reactor, { path }, (fd: number) => sys.close(fd));
    unlinkSync(path);
    const other = sys.socket(sys.AF_UNIX);
    try {
      sys.bind(other, path);
      sys.listen(other);
      const theirs = lstatSync(path, { bigint: true }).ino;
      server.close();
      expect(lstatSync(path, { bigint: true }).ino).toBe(theirs);
      sys.close(connectTo(path)); // still theirs to serve
    } finally {
      sys.close(other);
      reactor.close();
      rmSync(path, { force: true });
    }
  });
});

describe('UnixServer', () => {
  it('shows the peer\'s credentials on the accepted fd', async (ctx) => {
    if (!sys.supports('peerCredentials')) return ctx.skip('no way to ask for peer credentials in this build');
    const reactor = new Reactor();
    reactor.attach();
    const seen: number[] = [];
    const accepted: number[] = [];
    // The fd stays open until the peer is seen: closing it at once could
    // beat the peer's own send (EPIPE in python3).
    const server = listen(reactor, { path: socketPath() }, (fd: number) => {
      seen.push(sys.peerCredentials(fd).pid);
      accepted.push(fd);
    });
    const peer = pythonPeer(server.path, '');
    for (let i = 0; i < 400 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    for (const fd of accepted) sys.close(fd);
    await peer.output;
    server.close();
    reactor.close();
    expect(seen).toEqual([peer.pid]);
  });

  it('listens on an abstract name, which has no file', async (ctx) => {
    const name = `\0node-selectors-unix-server-${process.pid}`;
    const probe = sys.socket(sys.AF_UNIX);
    const refused = thrown(() => sys.bind(probe, `${name}-probe`));
    sys.close(probe);
    if (refused !== undefined) return ctx.skip('no abstract Unix socket names on this system');
    const reactor = new Reactor();
    reactor.attach();
    const server = reactor.listen({ path: name }, async (stream: FdStream) => {
      await stream.write('abstract\n');
    });
    expect(server.address).toBe(name);
    expect(await reactor.spawn(exchange(reactor, connectTo(name), ''))).toBe('abstract\n');
    server.close();
    await server.closed;
    expect(thrown(() => connectTo(name))).toMatchObject({ code: 'ECONNREFUSED' });
    reactor.close();
  });

  it('refuses a path where something other than a socket is (EADDRINUSE), leaving it untouched', async () => {
    const reactor = new Reactor();
    const before = openFds();
    const path = socketPath();
    writeFileSync(path, 'not a socket');
    expect(thrown(() => listen(reactor, { path }, () => {}))).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    expect(readFileSync(path, 'utf8')).toBe('not a socket');
    expect(await fdsChangedSince(before)).toEqual([]);
    reactor.close();
  });

  it('refuses bad input with coded errors, leaving no fd and no file', async () => {
    const reactor = new Reactor();
    const before = openFds();
    const path = socketPath();
    const cases: Array<[unknown, unknown, string]> = [
      [{ path: 5 }, () => {}, 'ERR_INVALID_ARG_TYPE'],
      [{ path: '' }, () => {}, 'ERR_INVALID_ARG_VALUE'],
      [{ path: `/tmp/${'x'.repeat(sys.UNIX_PATH_MAX)}` }, () => {}, 'ERR_INVALID_ARG_VALUE'],
      [{ path: 'a\0b' }, () => {}, 'ERR_INVALID_ARG_VALUE'],
      [{ path, port: 80 }, () => {}, 'ERR_INVALID_ARG_VALUE'],
      [{ path, reusePort: true }, () => {}, 'ERR_INVALID_ARG_VALUE'],
      [{ path, backlog: -1 }, () => {}, 'ERR_OUT_OF_RANGE'],
      [{ path, idleTimeout: -1 }, () => {}, 'ERR_OUT_OF_RANGE'],
      [{ path }, 'not a function', 'ERR_INVALID_ARG_TYPE'],
      [{ path: join(dir, 'missing', 's.sock') }, () => {}, 'ENOENT'],
    ];
    for (const [options, handler, code] of cases) {
      expect(thrown(() => listen(reactor, options as { path: string }, handler as () => void))).toMatchObject({ code });
      expect(existsSync(path)).toBe(false);
    }
    expect(await fdsChangedSince(before)).toEqual([]);
    reactor.close();
    const after = openFds();
    expect(thrown(() => listen(reactor, { path }, () => {}))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(existsSync(path)).toBe(false);
    expect(await fdsChangedSince(after)).toEqual([]);
  });
});

// Out of fds (ulimit -n 64 in a child): the shared accept path keeps its
// spare fd on a Unix listener too; every client is answered or cleanly
// refused, and the episode is reported once.
const HOLDING_UNIX_SERVER = `
import { createInterface } from 'node:readline';
import { Reactor, sys } from LIB;
const r = new Reactor();
const held = [];
const server = r.listen({ path: process.argv[1] }, (fd) => { sys.write(fd, new Uint8Array([104, 10])); held.push(fd); });
let warnings = 0;
server.on('warning', (w) => { if (w.code === 'EMFILE' || w.code === 'ENFILE') warnings++; });
createInterface({ input: process.stdin }).on('line', () => console.log('warnings=' + warnings + ' refused=' + server.refusedConnections));
r.attach();
console.log('listening');
`;

describe.each(BACKENDS.filter((b) => b.name !== 'DefaultSelector'))('UnixServer out of fds on $name', ({ backend }) => {
  it('answers or cleanly refuses every client within 1 s, reported once', async () => {
    const path = socketPath();
    const source = HOLDING_UNIX_SERVER.replaceAll('LIB', JSON.stringify(DIST_INDEX));
    const node = `"${process.execPath}" --input-type=module -e '${source.replaceAll("'", "'\\''")}' "${path}"`;
    const child = spawn('sh', ['-c', `ulimit -n 64 && exec ${node}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_SELECTORS_BACKEND: backend },
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const sockets: net.Socket[] = [];
    try {
      expect((await lines.next()).value).toBe('listening');
      const outcomes: string[] = [];
      for (let i = 0; i < 80; i++) {
        outcomes.push(
          await new Promise<string>((resolve) => {
            const socket = net.connect(path);
            sockets.push(socket);
            const timer = setTimeout(() => resolve('timeout'), 1000);
            const done = (outcome: string) => () => {
              clearTimeout(timer);
              resolve(outcome);
            };
            socket.once('data', done('answered'));
            socket.once('end', done('refused'));
            socket.once('error', done('refused'));
          }),
        );
      }
      expect(outcomes.filter((o) => o === 'timeout')).toEqual([]);
      expect(outcomes).toContain('answered');
      expect(outcomes).toContain('refused');
      child.stdin!.write('stats\n');
      expect((await lines.next()).value).toMatch(/^warnings=1 refused=[1-9]\d*$/);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGKILL');
    }
  }, 60_000);
});
