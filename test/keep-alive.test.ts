// The keep-alive hello servers (--keep-alive) over real loopback sockets:
// examples/hello.ts and each style of examples/hello-reactor.ts on every
// available backend, the C epoll server (bench/c/hello_epoll.c) and the
// node:net one. Each: two requests in turn on one connection; pipelined
// requests in one write, answered in order with exactly that many replies;
// one request split byte by byte, answered once; clients leaving mid-request
// leave no fd behind; `Connection: close` honoured; and without
// --keep-alive, one reply and the close as before. node:http: two requests
// on one connection.
import { spawnSync } from 'node:child_process';
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

interface ServerCase {
  name: string;
  command: () => [string, string[]];
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
  ...backendNames.map((b) => ({ name: `examples/hello.ts --backend ${b}`, command: node('examples/hello.js', '--backend', b) })),
  ...BACKENDS.filter((b) => b.name !== 'DefaultSelector' && backendHas(b.backend, 'edge')).map((b) => ({
    name: `examples/hello.ts --backend ${b.name} --trigger edge`,
    command: node('examples/hello.js', '--backend', b.name, '--trigger', 'edge'),
  })),
  ...['callbacks', 'generators', 'async'].flatMap((style) =>
    backendNames.map((b) => ({
      name: `examples/hello-reactor.ts --style ${style} --backend ${b}`,
      command: node('examples/hello-reactor.js', '--style', style, '--backend', b),
    })),
  ),
  { name: 'bench/servers/net.ts (node:net)', command: node('bench/servers/net.js') },
];

function serverSuite(name: string, command: () => [string, string[]], prepare?: () => void): void {
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

for (const s of CASES) serverSuite(s.name, s.command);

if (hasCc) {
  serverSuite('bench/c/hello_epoll.c (C, epoll)', () => [cBinary, []], () => {
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
});
