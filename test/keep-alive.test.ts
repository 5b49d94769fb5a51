// The keep-alive hello servers (--keep-alive) over real loopback sockets:
// examples/hello.ts and each style of examples/hello-reactor.ts on every
// available backend, the C epoll server (bench/c/hello_epoll.c) and the
// node:net one. Each: two requests in turn on one connection; pipelined
// requests in one write, answered in order with exactly that many replies;
// one request split byte by byte, answered once; clients leaving mid-request
// leave no fd behind; `Connection: close` honoured; and without
// --keep-alive, one reply and the close as before. HTTP/1.0 (RFC 9112
// §9.3): a request with `Connection: keep-alive` keeps the connection and
// its reply says `Connection: keep-alive`; one without it gets its reply
// and the close; HTTP/1.0 and 1.1 requests pipelined together get each its
// own reply, in order, also to a client that reads nothing for a while
// (python3, a 4 KiB receive buffer: more replies than the kernel holds, so
// the server queues them; once per server's own code, not per backend).
// And ab -k (an HTTP/1.0 client nobody here wrote, which waits for the
// close unless the reply says the connection is kept) completes 2,000
// requests, every one on a kept connection, against each server. node:http: two requests on one connection, HTTP/1.0 keep-alive
// and ab -k too.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPath, startServer, type ServerProcess } from '../support/proc.js';
import { processFdCount, settledFdCount } from './fds.js';
import { backendHas, BACKENDS } from './helpers.js';

const dist = (p: string) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const REPLY = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world';
const ONCE_REPLY = 'HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world';
const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
/** The reply to an HTTP/1.0 request that keeps the connection. */
const REPLY10 = 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 11\r\n\r\nhello world';
/** What ab -k sends (ab 2.3). */
const GET10_KEEP = 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n';
const GET10 = 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n';

interface Client {
  socket: net.Socket;
  /** Everything received so far (latin1). */
  received(): string;
  /** Resolves once `n` bytes have arrived, or after `ms` with what came. */
  waitFor(n: number, ms?: number): Promise<string>;
  /** Resolves true once the server ended the connection, false after `ms`. */
  ended(ms?: number): Promise<boolean>;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    let isEnded = false;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      wake();
    });
    socket.on('end', () => {
      isEnded = true;
      wake();
    });
    socket.on('error', () => {
      isEnded = true;
      wake();
    });
    const until = (done: () => boolean, ms: number) =>
      new Promise<void>((res) => {
        if (done()) return res();
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          res();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          res();
        }, ms);
        waiters.add(check);
      });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        received: () => got,
        waitFor: async (n, ms = 3000) => {
          await until(() => got.length >= n || isEnded, ms);
          return got;
        },
        ended: async (ms = 3000) => {
          await until(() => isEnded, ms);
          return isEnded;
        },
      });
    });
    socket.once('error', reject);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ab (apache2-utils) as the HTTP/1.0 keep-alive client: a missing ab skips
// those tests, named as such.
const hasAb = onPath('ab');
const AB_REQUESTS = 2000;

interface AbResult {
  complete: number | undefined;
  failed: number | undefined;
  keptAlive: number | undefined;
  non2xx: number | undefined;
  /** ab's exit status (0 when it finished), and what it printed. */
  status: number | string | null;
  output: string;
}

/** Runs `ab -k -n 2000 -c 10` against the port and reads its report. ab's
 * socket timeout is 5 s, so a server that keeps connections without saying
 * so fails it (apr_pollset_poll: The timeout specified has expired) instead
 * of hanging the test. */
function abKeepAlive(port: number): Promise<AbResult> {
  return new Promise((resolve) => {
    execFile('ab', ['-k', '-n', String(AB_REQUESTS), '-c', '10', '-s', '5', `http://127.0.0.1:${port}/`], { timeout: 25_000 }, (err, stdout, stderr) => {
      const field = (name: string): number | undefined => {
        const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(stdout);
        return m === null ? undefined : Number(m[1]);
      };
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({
        complete: field('Complete requests'),
        failed: field('Failed requests'),
        keptAlive: field('Keep-Alive requests'),
        non2xx: field('Non-2xx responses'),
        status: e === null ? 0 : (e.code ?? e.signal ?? null),
        output: stdout + stderr,
      });
    });
  });
}

// python3 as a client that reads nothing for a while: its receive buffer
// set small before connecting (which Node's sockets cannot do), it sends in
// a thread, waits, then reads `want` bytes and prints them. A missing
// python3 skips that test, named as such.
const hasPython = onPath('python3');
const SLOW_READER = `
import socket, sys, threading, time
port, want = int(sys.argv[1]), int(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', port))
sender = threading.Thread(target=s.sendall, args=(data,))
sender.start()
time.sleep(0.5)
s.settimeout(10)
got = bytearray()
while len(got) < want:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
sender.join()
sys.stdout.buffer.write(got)
`;

/** What the slow reader got for `requests` (latin1). */
function slowReader(port: number, requests: string, want: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', SLOW_READER, String(port), String(want)], { encoding: 'latin1', timeout: 20_000, maxBuffer: 16 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
    child.stdin!.end(Buffer.from(requests, 'latin1'));
  });
}

/** Checks ab's report: every request answered, none failed, all kept alive. */
function expectAllKeptAlive(r: AbResult): void {
  expect({ status: r.status, complete: r.complete, failed: r.failed, keptAlive: r.keptAlive, non2xx: r.non2xx }, r.output).toEqual({
    status: 0,
    complete: AB_REQUESTS,
    failed: 0,
    keptAlive: AB_REQUESTS,
    non2xx: undefined,
  });
}

interface ServerCase {
  name: string;
  command: () => [string, string[]];
  /** Run the (slow) test of a client that reads nothing for a while: once
   * per way of queueing replies (each server's own code, on the default
   * backend, and edge-triggered), not on every backend. */
  backPressure?: boolean;
}

// The C server, compiled here with the system's compiler (tests never load
// bench/): a missing compiler skips it, named as such.
const hasCc = onPath(process.env['CC'] || 'cc');
let cDir: string | undefined;
let cBinary = '';
function compileCServer(): void {
  cDir = mkdtempSync(join(tmpdir(), 'hello-epoll-'));
  cBinary = join(cDir, 'hello_epoll');
  const source = fileURLToPath(new URL('../bench/c/hello_epoll.c', import.meta.url));
  const r = spawnSync(process.env['CC'] || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', cBinary, source], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling hello_epoll.c failed:\n${r.stderr}`);
}
afterAll(() => {
  if (cDir !== undefined) rmSync(cDir, { recursive: true, force: true });
});

const backendNames = BACKENDS.map((b) => (b.name === 'DefaultSelector' ? 'default' : b.name));
const node = (script: string, ...args: string[]) => (): [string, string[]] => [process.execPath, [dist(script), ...args]];
const CASES: ServerCase[] = [
  ...backendNames.map((b) => ({ name: `examples/hello.ts --backend ${b}`, command: node('examples/hello.js', '--backend', b), backPressure: b === 'default' })),
  ...BACKENDS.filter((b) => b.name !== 'DefaultSelector' && backendHas(b.backend, 'edge')).map((b) => ({
    name: `examples/hello.ts --backend ${b.name} --trigger edge`,
    command: node('examples/hello.js', '--backend', b.name, '--trigger', 'edge'),
    backPressure: true,
  })),
  ...['callbacks', 'generators', 'async'].flatMap((style) =>
    backendNames.map((b) => ({
      name: `examples/hello-reactor.ts --style ${style} --backend ${b}`,
      command: node('examples/hello-reactor.js', '--style', style, '--backend', b),
      backPressure: b === 'default',
    })),
  ),
  { name: 'bench/servers/net.ts (node:net)', command: node('bench/servers/net.js'), backPressure: true },
];

function serverSuite({ name, command, backPressure = false }: ServerCase, prepare?: () => void): void {
  describe(name, () => {
    let server: ServerProcess;
    /** The server's fds once it served a connection (lazy set-up done). */
    let baseFds = 0;
    beforeAll(async () => {
      prepare?.();
      const [cmd, args] = command();
      server = await startServer(cmd, [...args, '--keep-alive', '--port', '0']);
      const c = await connect(server.port);
      c.socket.write(GET);
      expect(await c.waitFor(REPLY.length)).toBe(REPLY);
      c.socket.destroy();
      await pause(50);
      baseFds = processFdCount(server.pid);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('answers two requests in turn on one connection', async () => {
      const c = await connect(server.port);
      c.socket.write(GET);
      expect(await c.waitFor(REPLY.length)).toBe(REPLY);
      c.socket.write('GET /again HTTP/1.1\r\nConnection: keep-alive\r\n\r\n');
      expect(await c.waitFor(2 * REPLY.length)).toBe(REPLY.repeat(2));
      c.socket.destroy();
    });

    it('answers pipelined requests sent in one write, in order, with exactly as many replies', async () => {
      const c = await connect(server.port);
      const requests = Array.from({ length: 25 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-N: ${'x'.repeat(i * 7)}\r\n\r\n`);
      c.socket.write(requests.join(''));
      expect(await c.waitFor(25 * REPLY.length)).toBe(REPLY.repeat(25));
      // Nothing more comes, and the connection stays open for more.
      await pause(100);
      expect(c.received().length).toBe(25 * REPLY.length);
      c.socket.write(GET);
      expect(await c.waitFor(26 * REPLY.length)).toBe(REPLY.repeat(26));
      c.socket.destroy();
    });

    it('answers one request split across many writes once, whole', async () => {
      const c = await connect(server.port);
      c.socket.setNoDelay(true);
      const req = 'GET /split HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n';
      for (let i = 0; i < req.length - 1; i++) {
        c.socket.write(req[i]!);
        await pause(i % 8 === 0 ? 3 : 0);
      }
      await pause(50);
      expect(c.received()).toBe(''); // not complete yet: no answer
      c.socket.write(req[req.length - 1]!);
      expect(await c.waitFor(REPLY.length)).toBe(REPLY);
      await pause(50);
      expect(c.received()).toBe(REPLY);
      c.socket.destroy();
    });

    it('holds no fd of clients that leave mid-request', async () => {
      expect(await settledFdCount(server.pid, baseFds)).toBe(baseFds);
      const clients = await Promise.all(Array.from({ length: 8 }, () => connect(server.port)));
      for (const [i, c] of clients.entries()) {
        // Half of them after a reply, all in the middle of a request.
        if (i % 2 === 0) {
          c.socket.write(GET);
          await c.waitFor(REPLY.length);
        }
        c.socket.write('GET /never-ends HTTP/1.1\r\nHost: 1');
      }
      // The server holds them (bounded wait), then lets them go.
      const deadline = Date.now() + 3000;
      while (processFdCount(server.pid) < baseFds + clients.length && Date.now() < deadline) await pause(20);
      expect(processFdCount(server.pid)).toBeGreaterThanOrEqual(baseFds + clients.length);
      for (const [i, c] of clients.entries()) {
        if (i % 4 === 3) c.socket.resetAndDestroy();
        else c.socket.end();
      }
      expect(await settledFdCount(server.pid, baseFds)).toBe(baseFds);
      for (const c of clients) c.socket.destroy();
    });

    it('closes the connection after the reply to Connection: close', async () => {
      const c = await connect(server.port);
      c.socket.write(GET);
      expect(await c.waitFor(REPLY.length)).toBe(REPLY);
      c.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect(await c.ended()).toBe(true);
      expect(c.received()).toBe(REPLY.repeat(2));
      c.socket.destroy();
    });

    it('keeps an HTTP/1.0 connection that asks for keep-alive, saying so in each reply', async () => {
      const c = await connect(server.port);
      c.socket.write(GET10_KEEP);
      expect(await c.waitFor(REPLY10.length)).toBe(REPLY10);
      expect(await c.ended(100)).toBe(false);
      // Any case, in a token list.
      c.socket.write('GET /2 HTTP/1.0\r\nconnection: KEEP-ALIVE\r\n\r\n');
      expect(await c.waitFor(2 * REPLY10.length)).toBe(REPLY10.repeat(2));
      c.socket.write('GET /3 HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n');
      expect(await c.waitFor(3 * REPLY10.length)).toBe(REPLY10.repeat(3));
      expect(await c.ended(100)).toBe(false);
      // Then one without keep-alive: its reply, then the close.
      c.socket.write(GET10);
      expect(await c.ended()).toBe(true);
      expect(c.received()).toBe(REPLY10.repeat(3) + REPLY);
      c.socket.destroy();
    });

    it('closes after the reply to HTTP/1.0 without keep-alive, or with keep-alive and close', async () => {
      for (const req of [GET10, 'GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n', 'GET / HTTP/1.0\r\nX-Connection: keep-alive\r\n\r\n']) {
        const c = await connect(server.port);
        c.socket.write(req + GET10_KEEP); // what follows the last request is ignored
        expect(await c.ended()).toBe(true);
        expect(c.received()).toBe(REPLY);
        c.socket.destroy();
      }
    });

    it('answers HTTP/1.0 keep-alive and HTTP/1.1 requests pipelined together in order, each with its reply', async () => {
      const c = await connect(server.port);
      const kinds = [10, 11, 11, 10, 10, 11, 10, 11, 11, 11, 10];
      c.socket.write(kinds.map((k, i) => (k === 10 ? GET10_KEEP.replace('GET /', `GET /${i}`) : GET.replace('GET /', `GET /${i}`))).join(''));
      const want = kinds.map((k) => (k === 10 ? REPLY10 : REPLY)).join('');
      expect(await c.waitFor(want.length)).toBe(want);
      // All HTTP/1.0, pipelined.
      c.socket.write(GET10_KEEP.repeat(20));
      expect(await c.waitFor(want.length + 20 * REPLY10.length)).toBe(want + REPLY10.repeat(20));
      await pause(50);
      expect(c.received().length).toBe(want.length + 20 * REPLY10.length);
      expect(await c.ended(50)).toBe(false);
      c.socket.destroy();
    });

    it('sees keep-alive in an HTTP/1.0 request split across many writes', async () => {
      const c = await connect(server.port);
      c.socket.setNoDelay(true);
      const req = 'GET /split HTTP/1.0\r\nHost: 127.0.0.1\r\nCoNnEcTiOn: Keep-Alive\r\n\r\n';
      // Cuts inside the version, the header name and the token.
      for (const part of ['GET /split HTTP/1', '.0\r\nHost: 127.0.0.1\r\nCoNn', 'EcTiOn: Ke', 'ep-A', 'live\r', '\n\r']) {
        c.socket.write(part);
        await pause(15);
      }
      expect(c.received()).toBe('');
      c.socket.write('\n');
      expect(await c.waitFor(REPLY10.length)).toBe(REPLY10);
      expect(await c.ended(100)).toBe(false);
      for (let i = 0; i < req.length; i++) {
        c.socket.write(req[i]!);
        await pause(i % 8 === 0 ? 3 : 0);
      }
      expect(await c.waitFor(2 * REPLY10.length)).toBe(REPLY10.repeat(2));
      expect(await c.ended(100)).toBe(false);
      c.socket.destroy();
    });

    it.skipIf(!backPressure || !hasPython)('answers a client that reads nothing for a while: every reply, in order, once it reads (needs python3)', async () => {
      // More replies (6 MB) than the kernel's buffers hold (loopback grows
      // the server's send buffer to 4 MiB) while the client, its receive
      // buffer 4 KiB, does not read: the server keeps the rest until the
      // socket is writable, reading nothing more meanwhile.
      const kinds = Array.from({ length: 100_000 }, (_, i) => (i % 7 < 3 ? 10 : 11));
      const requests = kinds.map((k) => (k === 10 ? 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' : 'GET / HTTP/1.1\r\n\r\n')).join('');
      const want = kinds.map((k) => (k === 10 ? REPLY10 : REPLY)).join('');
      const got = await slowReader(server.port, requests, want.length);
      expect(got.length).toBe(want.length);
      let i = 0;
      while (i < got.length && got.charCodeAt(i) === want.charCodeAt(i)) i++;
      expect(i, `the replies differ from byte ${i}`).toBe(want.length);
    });

    it.skipIf(!hasAb)('ab -k -n 2000 -c 10 completes, every request on a kept connection (needs ab: apache2-utils)', async () => {
      expectAllKeptAlive(await abKeepAlive(server.port));
      // And the server holds no connection ab left.
      expect(await settledFdCount(server.pid, baseFds)).toBe(baseFds);
    });

    it('without --keep-alive answers once and closes', async () => {
      const [cmd, args] = command();
      const once = await startServer(cmd, [...args, '--port', '0']);
      try {
        const c = await connect(once.port);
        c.socket.write(GET);
        expect(await c.ended()).toBe(true);
        expect(c.received()).toBe(ONCE_REPLY);
        c.socket.destroy();
      } finally {
        await once.stop();
      }
    });
  });
}

for (const s of CASES) serverSuite(s);

if (hasCc) {
  serverSuite({ name: 'bench/c/hello_epoll.c (C, epoll)', command: () => [cBinary, []], backPressure: true }, () => {
    if (cBinary === '') compileCServer();
  });
} else {
  describe.skip('bench/c/hello_epoll.c: no C compiler (cc) on PATH', () => {
    it('skipped', () => {});
  });
}

describe('bench/servers/http.ts --keep-alive (node:http)', () => {
  it('answers two requests on one connection, without Connection: close', async () => {
    const server = await startServer(process.execPath, [dist('bench/servers/http.js'), '--keep-alive', '--port', '0']);
    try {
      const c = await connect(server.port);
      c.socket.write(GET + GET);
      const deadline = Date.now() + 3000;
      while ((c.received().match(/hello world/g) ?? []).length < 2 && Date.now() < deadline) await c.waitFor(c.received().length + 1, 100);
      const replies = c.received().split('HTTP/1.1 200 OK').slice(1);
      expect(replies).toHaveLength(2);
      for (const r of replies) {
        expect(r).toMatch(/hello world$/);
        expect(r).not.toMatch(/connection: close/i);
      }
      expect(await c.ended(200)).toBe(false);
      c.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  it('keeps an HTTP/1.0 connection that asks for keep-alive, saying so', async () => {
    const server = await startServer(process.execPath, [dist('bench/servers/http.js'), '--keep-alive', '--port', '0']);
    try {
      const c = await connect(server.port);
      c.socket.write(GET10_KEEP);
      await c.waitFor(1);
      const deadline = Date.now() + 3000;
      while (!c.received().endsWith('hello world') && Date.now() < deadline) await c.waitFor(c.received().length + 1, 100);
      expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: keep-alive\r\n[^]*\r\n\r\nhello world$/i);
      expect(await c.ended(200)).toBe(false);
      c.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  it.skipIf(!hasAb)('ab -k -n 2000 -c 10 completes, every request on a kept connection (needs ab: apache2-utils)', async () => {
    const server = await startServer(process.execPath, [dist('bench/servers/http.js'), '--keep-alive', '--port', '0']);
    try {
      expectAllKeptAlive(await abKeepAlive(server.port));
    } finally {
      await server.stop();
    }
  });
});
