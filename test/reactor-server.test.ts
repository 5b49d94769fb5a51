// The TCP server helper and the examples built on it, over 127.0.0.1: the
// echo server under 200 concurrent connections, the hello server in its
// three styles and with two workers, the chat server, and errors.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids } from '../support/proc.js';
import { type FdStream, Reactor, sys } from '../lib/index.js';

const dist = (p: string) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const children: ChildProcess[] = [];

// SIGTERM, not SIGKILL: the multi-worker hello passes it on to its workers,
// which would otherwise outlive it.
afterEach(async () => {
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
});

/** Starts a server program with --port 0 and resolves to its port. */
async function startExample(script: string, ...args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [dist(script), ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
  return { port, child };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** One client: sends `messages` messages one after another, each after the
 * previous one came back whole; resolves to the digests of what it sent
 * and what it received. */
async function echoClient(port: number, id: number, messages: number): Promise<[string, string]> {
  const socket = await connect(port);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let pending = 0;
  let wake: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    received.update(d);
    pending -= d.length;
    if (pending === 0) wake?.();
  });
  for (let i = 0; i < messages; i++) {
    // Sizes vary so that some messages cross the server's read size.
    const msg = Buffer.alloc(1 + ((id * 7919 + i * 104729) % 3000), `${id}:${i};`);
    sent.update(msg);
    pending += msg.length;
    const back = new Promise<void>((resolve) => (wake = resolve));
    socket.write(msg);
    await back;
  }
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
  return [sent.digest('hex'), received.digest('hex')];
}

async function httpGet(port: number): Promise<string> {
  const socket = await connect(port);
  socket.write('GET / HTTP/1.0\r\n\r\n');
  let reply = '';
  socket.on('data', (d) => (reply += d.toString()));
  await new Promise((resolve) => socket.once('close', resolve));
  return reply;
}

describe('idle timeouts of the example servers', () => {
  const servers: Array<[string, string[]]> = [
    ['examples/echo-reactor.js', []],
    ['examples/chat-reactor.js', []],
    ...['callbacks', 'generators', 'async'].map((style): [string, string[]] => ['examples/hello-reactor.js', ['--style', style]]),
  ];
  for (const [script, args] of servers) {
    it(`${script} ${args.join(' ')} --idle-timeout 300 closes silent clients and serves the others`, async () => {
      const { port } = await startExample(script, ...args, '--idle-timeout', '300');
      const start = performance.now();
      const idle = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
      const closedAt = idle.map(
        (s) =>
          new Promise<number>((resolve) => {
            s.on('data', () => {}); // chat greets each client: not an answer
            s.on('error', () => {});
            s.once('close', () => resolve(performance.now() - start));
          }),
      );
      // A client that talks meanwhile is served as usual.
      if (script.includes('hello')) {
        expect(await httpGet(port)).toMatch(/hello world$/);
      } else {
        const talker = await connect(port);
        const reply = new Promise<string>((resolve) => {
          let got = '';
          talker.on('data', (d) => {
            got += d.toString();
            if (got.includes('ping')) resolve(got);
          });
        });
        talker.write(script.includes('chat') ? 'ping\n' : 'ping');
        if (script.includes('echo')) expect(await reply).toBe('ping');
        talker.destroy();
      }
      const times = await Promise.all(closedAt);
      for (const t of times) {
        expect(t).toBeGreaterThanOrEqual(250);
        expect(t).toBeLessThan(3000);
      }
    });
  }

  it('a bad --idle-timeout is refused with the usage and exit code 2', async () => {
    for (const script of ['examples/echo-reactor.js', 'examples/chat-reactor.js', 'examples/hello-reactor.js']) {
      const child = spawn(process.execPath, [dist(script), '--idle-timeout=-5', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(err).toMatch(/^\S+-reactor: --idle-timeout must be an integer >= 0, got -5\nUsage: [^]*\n  --idle-timeout MS /);
    }
  });
});

describe('reactor TCP servers', () => {
  it('the echo example echoes 200 concurrent connections x 100 messages byte-exact', async () => {
    const { port } = await startExample('examples/echo-reactor.js');
    const results = await Promise.all(Array.from({ length: 200 }, (_, id) => echoClient(port, id, 100)));
    for (const [sent, received] of results) expect(received).toBe(sent);
  }, 120_000);

  for (const style of ['callbacks', 'generators', 'async']) {
    it(`the hello example answers in the ${style} style`, async () => {
      const { port } = await startExample('examples/hello-reactor.js', '--style', style);
      const replies = await Promise.all(Array.from({ length: 50 }, () => httpGet(port)));
      for (const r of replies) expect(r).toBe('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
    });
  }

  it('the hello example with --workers 2 serves from two processes sharing the port', async () => {
    const { port, child } = await startExample('examples/hello-reactor.js', '--style', 'callbacks', '--workers', '2');
    const replies = await Promise.all(Array.from({ length: 100 }, () => httpGet(port)));
    for (const r of replies) expect(r).toMatch(/hello world$/);
    // Two worker processes of the parent hold listeners on the port. Read
    // from /proc rather than ps, which hangs under the sanitizers' preload.
    expect(childPids(child.pid!)).toHaveLength(2);
  });

  it('the chat example relays lines between clients', async () => {
    const { port } = await startExample('examples/chat-reactor.js');
    const lines = (s: net.Socket) => {
      let buf = '';
      const waiters: Array<(l: string) => void> = [];
      const queue: string[] = [];
      s.on('data', (d) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const w = waiters.shift();
          if (w) w(line);
          else queue.push(line);
        }
      });
      return () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : waiters.push(resolve)));
    };
    const alice = await connect(port);
    const nextA = lines(alice);
    expect(await nextA()).toMatch(/^welcome, user1/);
    const bob = await connect(port);
    const nextB = lines(bob);
    expect(await nextB()).toMatch(/^welcome, user2; 1 other/);
    expect(await nextA()).toBe('* user2 joined');
    // A line split across two writes arrives whole.
    alice.write('hel');
    await new Promise((r) => setTimeout(r, 20));
    alice.write('lo bob\n');
    expect(await nextB()).toBe('user1: hello bob');
    bob.end();
    expect(await nextA()).toBe('* user2 left');
    alice.destroy();
  });

  it('listen() with callback, generator and async handlers in one attached reactor', async () => {
    const r = new Reactor();
    const errors: Error[] = [];
    r.on('error', (e: Error) => errors.push(e));
    r.attach();
    try {
      const cb = r.listen({ port: 0 }, (fd: number) => {
        sys.send(fd, new TextEncoder().encode('cb'));
        sys.close(fd);
      });
      const gen = r.listen({ port: 0 }, function* (s: FdStream) {
        const req = yield* s.readUntil('\n');
        s.write(req);
        throw new Error('generator handler failed');
      });
      const asy = r.listen({ port: 0 }, async (s: FdStream) => {
        const req = await s.readUntil('\n');
        s.write(req);
      });
      const ask = async (port: number, text: string) => {
        const socket = await connect(port);
        socket.write(text);
        let reply = '';
        socket.on('data', (d) => (reply += d.toString()));
        await new Promise((resolve) => socket.once('close', resolve));
        return reply;
      };
      expect(await ask(cb.port, '')).toBe('cb');
      expect(await ask(gen.port, 'gen\n')).toBe('gen\n');
      expect(await ask(asy.port, 'async\n')).toBe('async\n');
      // The failing generator's connection was still closed, and its error reported.
      expect(errors.map((e) => e.message)).toEqual(['generator handler failed']);
      for (const s of [cb, gen, asy]) s.close();
    } finally {
      r.close();
    }
  });

  it('a port in use is a system error with code, errno and syscall', () => {
    const r = new Reactor();
    const a = r.listen({ port: 0 }, () => {});
    expect(() => r.listen({ port: a.port }, () => {})).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    a.close();
    r.close();
  });
});
