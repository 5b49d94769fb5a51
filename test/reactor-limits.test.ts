// The TCP server at its limits, in a child process per backend: out of fds
// (ulimit -n), every new client is answered or cleanly refused within a
// second and the condition is reported once per episode; with an idle
// timeout, 1,000 clients that send half a request hold no fd once it has
// passed, while a normal client is served throughout.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, DIST_INDEX, fdCeiling } from './helpers.js';
import { processFdCount, settledFdCount } from './fds.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** A server script in a child: prints "listening PORT", answers commands on
 * stdin with one line each. */
function startChild(backend: string, code: string, fdLimit?: number): Promise<{ child: ChildProcess; port: number; lines: Interface; ask: (cmd: string) => Promise<string> }> {
  const source = code.replaceAll('LIB', JSON.stringify(DIST_INDEX));
  const node = `"${process.execPath}" --input-type=module -e '${source.replaceAll("'", "'\\''")}'`;
  const child = spawn('sh', ['-c', fdLimit === undefined ? `exec ${node}` : `ulimit -n ${fdLimit} && exec ${node}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_SELECTORS_BACKEND: backend },
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  lines.on('line', (line) => {
    if (waiting !== null) {
      const w = waiting;
      waiting = null;
      w(line);
    } else queue.push(line);
  });
  const next = (): Promise<string> =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise((resolve, reject) => {
          waiting = resolve;
          child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
        });
  const ask = (cmd: string): Promise<string> => {
    child.stdin!.write(`${cmd}\n`);
    return next();
  };
  return next().then((line) => {
    const m = /^listening (\d+)$/.exec(line);
    if (m === null) throw new Error(`unexpected: ${line}`);
    return { child, port: Number(m[1]), lines, ask };
  });
}

type Outcome = 'answered' | 'refused' | 'timeout';

/** Connects and waits at most `ms` for a first byte ('answered') or a clean
 * close ('refused'); the socket stays open when answered (it holds its fd
 * in the server). */
function client(port: number, ms = 1000): Promise<{ outcome: Outcome; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => resolve({ outcome: 'timeout', socket }), ms);
    socket.once('data', () => {
      clearTimeout(timer);
      resolve({ outcome: 'answered', socket });
    });
    socket.once('end', () => {
      clearTimeout(timer);
      resolve({ outcome: 'refused', socket });
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve({ outcome: 'refused', socket });
    });
  });
}

// Each connection gets one line and is then held open: idle clients that
// keep their fds, until "release" closes them all.
const HOLDING_SERVER = `
import { Reactor, sys } from LIB;
const r = new Reactor();
const held = [];
const hi = new TextEncoder().encode('hi\\n');
const server = r.listen({ port: 0 }, (fd) => { sys.write(fd, hi); held.push(fd); });
let warnings = 0;
server.on('warning', (w) => { warnings++; if (w.code !== 'EMFILE' && w.code !== 'ENFILE') console.log('bad warning ' + w.code); });
createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'release') { for (const fd of held.splice(0)) sys.close(fd); console.log('released'); }
  if (cmd === 'stats') console.log('warnings=' + warnings + ' refused=' + server.refusedConnections + ' held=' + held.length);
});
r.attach();
console.log('listening ' + server.port);
`.replace('import {', "import { createInterface } from 'node:readline';\nimport {");

describe.each(BACKENDS.filter((b) => b.name !== 'DefaultSelector'))('TCP server limits on $name', ({ backend }) => {
  it('out of fds: every new client is answered or refused within 1 s, reported once per episode', async () => {
    const { ask, port } = await startChild(backend, HOLDING_SERVER, 64);
    const sockets: net.Socket[] = [];
    try {
      const outcomes: Outcome[] = [];
      for (let episode = 0; episode < 2; episode++) {
        for (let i = 0; i < 80; i++) {
          const c = await client(port);
          sockets.push(c.socket);
          outcomes.push(c.outcome);
        }
        expect(outcomes.filter((o) => o === 'timeout')).toEqual([]);
        expect(outcomes).toContain('refused');
        expect(await ask('stats')).toMatch(new RegExp(`^warnings=${episode + 1} `));
        // Fds free again: the next client is served, which ends the episode.
        expect(await ask('release')).toBe('released');
        const after = await client(port);
        sockets.push(after.socket);
        expect(after.outcome).toBe('answered');
        outcomes.length = 0;
      }
      const stats = /^warnings=(\d+) refused=(\d+)/.exec(await ask('stats'))!;
      expect(Number(stats[1])).toBe(2);
      expect(Number(stats[2])).toBeGreaterThan(0);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 60_000);

  it('without a warning listener, the episode goes to the reactor once, on stderr', async () => {
    const code = `
import { Reactor, sys } from LIB;
const r = new Reactor();
const held = [];
const server = r.listen({ port: 0 }, (fd) => { sys.write(fd, new Uint8Array([104, 10])); held.push(fd); });
const reported = [];
r.on('error', (e) => reported.push(e.code + ':' + e.refused));
process.stdin.on('data', () => console.log(JSON.stringify(reported)));
r.attach();
console.log('listening ' + server.port);
`;
    const { ask, port } = await startChild(backend, code, 64);
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 80; i++) sockets.push((await client(port)).socket);
      const reported = JSON.parse(await ask('report')) as string[];
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatch(/^E[MN]FILE:\d+$/);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 60_000);

  // 1,000 slow clients, fewer where the backend watches fewer fds (select:
  // FD_SETSIZE, less the server's own fds and a margin).
  const slowCount = Math.min(1000, fdCeiling(backend) - 200);
  it(`idle timeout: ${slowCount} half-sent requests hold no fd once it has passed; a normal client is served meanwhile`, async () => {
    const code = `
import { Reactor } from LIB;
const r = new Reactor();
const server = r.listen({ port: 0, idleTimeout: 400 }, function* (stream) {
  yield* stream.readUntil('\\r\\n\\r\\n');
  yield* stream.write('HTTP/1.0 200 OK\\r\\nContent-Length: 11\\r\\n\\r\\nhello world');
});
let errors = 0;
const codes = new Set();
r.on('error', (e) => { errors++; codes.add(e?.code ?? String(e)); });
process.stdin.on('data', () => console.log('errors=' + errors + (errors > 0 ? ' ' + [...codes].join(',') : '')));
r.attach();
console.log('listening ' + server.port);
`;
    const { child, ask, port } = await startChild(backend, code);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const idleFds = processFdCount(child.pid!);
    const slow: net.Socket[] = [];
    const closedByServer: Promise<void>[] = [];
    try {
      for (let i = 0; i < slowCount; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.write('GET / HTTP/1.1\r\nHost: loc');
        closedByServer.push(new Promise((resolve) => s.once('close', () => resolve())));
        slow.push(s);
      }
      await Promise.all(slow.map((s) => new Promise((resolve) => (s.connecting ? s.once('connect', resolve) : resolve(undefined)))));
      // Served while the slow ones are held.
      const body = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'));
        let got = '';
        s.on('data', (d) => (got += d.toString()));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      expect(body).toMatch(/hello world$/);
      expect(processFdCount(child.pid!)).toBeGreaterThan(idleFds + slowCount / 2);
      // Every slow client is closed by the server once its timeout passed,
      // and the server is back to its idle fd count.
      await Promise.race([Promise.all(closedByServer), new Promise((_, reject) => setTimeout(() => reject(new Error('slow clients still open')), 10_000))]);
      expect(await settledFdCount(child.pid!, idleFds)).toBe(idleFds);
      expect(await ask('errors')).toBe('errors=0');
    } finally {
      for (const s of slow) s.destroy();
    }
  }, 60_000);
});
