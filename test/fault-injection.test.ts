// Faults injected for real with strace (-e inject): EINTR on every
// backend's wait, on accept and on read/write; EAGAIN on accept; ENOMEM and
// ENOSPC on epoll_ctl. The selector and a reactor echo server keep working,
// the caller gets the documented error where one is due, and no byte of a
// checksummed 10 MB echo is lost or duplicated.
//
// The echo server runs in a child; strace attaches to it once it listens,
// so that Node's start-up (which reads its modules with read(2) and does
// not expect EINTR there) is left alone. Under run() libuv does not poll,
// so the waits hit are the selector's own.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { binding } from '../lib/native.js';
import { BACKENDS, DIST_INDEX, isLibkqueue } from './helpers.js';

// strace must exist and be allowed to trace (some containers forbid ptrace).
const strace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;

/** The syscalls a backend waits in, in this build. */
const WAITS: Record<string, string[]> = {
  epoll: ['epoll_pwait2', 'epoll_wait'],
  poll: ['ppoll', 'poll'],
  select: ['pselect6'],
  io_uring: ['io_uring_enter'],
  // libkqueue's kevent() waits in epoll from user space.
  kqueue: isLibkqueue ? ['epoll_wait', 'epoll_pwait'] : ['kevent'],
};

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const ECHO_SERVER = `
import { writeSync } from 'node:fs';
import { EVENT_READ, Reactor, sys } from LIB;
const r = new Reactor();
r.on('error', (e) => writeSync(2, 'reported: ' + (e.code ?? e) + ' ' + (e.syscall ?? '') + '\\n'));
// The end of stdin stops the server, which then exits (under strace still).
r.addHandler(0, () => {
  if (sys.read(0, new Uint8Array(64)) === 0) {
    r.removeHandler(0);
    r.stop();
  }
}, EVENT_READ);
const server = r.listen({ port: 0 }, function* (stream) {
  for (;;) {
    const chunk = yield* stream.read();
    if (chunk.length === 0) return;
    yield* stream.write(chunk);
  }
});
writeSync(1, 'listening ' + server.port + '\\n');
r.run();
`;

async function startEcho(backend: string): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', ECHO_SERVER.replaceAll('LIB', JSON.stringify(DIST_INDEX))], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_SELECTORS_BACKEND: backend },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`server exited with ${c}: ${stderr}`)));
  });
  return { child, port: Number(/^listening (\d+)$/.exec(line)![1]), stderr: () => stderr };
}

/** Attaches strace with `injects` to `pid` and resolves once it traces. */
async function attach(pid: number, syscalls: string[], injects: string[], log: string): Promise<ChildProcess> {
  const args = ['-f', '-qq', '-o', log, '-p', String(pid), '-e', `trace=${syscalls.join(',')}`];
  for (const inject of injects) args.push('-e', `inject=${inject}`);
  const tracer = spawn('strace', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(tracer);
  const deadline = Date.now() + 10_000;
  while (!/TracerPid:\s+[1-9]/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) {
    if (Date.now() > deadline) throw new Error('strace did not attach');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return tracer;
}

/** Sends `bytes` on one connection and resolves to the sha256 of what came back. */
function echo(port: number, bytes: Buffer): Promise<{ sent: string; received: string; length: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const hash = createHash('sha256');
    let length = 0;
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      length += d.length;
      if (length >= bytes.length) socket.end();
    });
    socket.on('close', () => resolve({ sent: createHash('sha256').update(bytes).digest('hex'), received: hash.digest('hex'), length }));
    socket.on('error', reject);
    // In pieces of varied size, so that reads and writes split anywhere.
    let at = 0;
    const pump = (): void => {
      while (at < bytes.length) {
        const n = Math.min(bytes.length - at, 1 + ((at * 7919) % 100_000));
        const more = socket.write(bytes.subarray(at, at + n));
        at += n;
        if (!more) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

async function tenMegabytes(port: number): Promise<void> {
  const parts = Array.from({ length: 4 }, () => randomBytes(2.5 * 2 ** 20));
  const results = await Promise.all(parts.map((p) => echo(port, p)));
  for (const [i, r] of results.entries()) {
    expect(r.length).toBe(parts[i]!.length);
    expect(r.received).toBe(r.sent);
  }
}

const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((resolve) => p.once('exit', (code) => resolve(code)));

/** Ends the server's stdin, so that it stops and exits while still traced,
 * and waits for both to exit. (Detaching strace instead could catch the
 * server between the entry and the exit of a syscall it injects into, which
 * then returns ENOSYS: strace's own race, not the server's.) */
async function finish(child: ChildProcess, tracer: ChildProcess): Promise<number | null> {
  child.stdin!.end();
  const code = await exited(child);
  await exited(tracer);
  return code;
}

describe.runIf(strace).each(BACKENDS.filter((b) => b.name !== 'DefaultSelector'))('faults injected on $name', ({ backend }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-inject-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('EINTR on the wait, accept, read and write: a 10 MB echo arrives whole and nothing is reported', async () => {
    const { child, port, stderr } = await startEcho(backend);
    const waits = WAITS[backend]!;
    const log = join(dir, 'log');
    const tracer = await attach(child.pid!, [...waits, 'accept', 'accept4', 'read', 'write'], [
      `${waits.join(',')}:error=EINTR:when=1+2`,
      'accept,accept4:error=EINTR:when=1+2',
      'read,write:error=EINTR:when=2+3',
    ], log);
    await tenMegabytes(port);
    expect(await finish(child, tracer)).toBe(0);
    const injected = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('(INJECTED)'));
    for (const names of [waits, ['accept', 'accept4'], ['read'], ['write']]) {
      expect(injected.some((l) => names.some((n) => new RegExp(`\\b${n}\\(`).test(l))), `EINTR injected into ${names.join('/')}`).toBe(true);
    }
    expect(stderr()).toBe('');
  }, 120_000);

  it('EAGAIN on accept: the listener stays readable, every connection is served', async () => {
    const { child, port, stderr } = await startEcho(backend);
    const log = join(dir, 'log');
    const tracer = await attach(child.pid!, ['accept', 'accept4'], ['accept,accept4:error=EAGAIN:when=1+2'], log);
    await tenMegabytes(port);
    expect(await finish(child, tracer)).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/accept4?\(.*EAGAIN.*\(INJECTED\)/);
    expect(stderr()).toBe('');
  }, 120_000);
});

describe.runIf(strace && binding.backends.includes('epoll'))('epoll_ctl refused', () => {
  // Node's own loop calls epoll_ctl too, and does not survive a refusal: a
  // first run, traced only, counts the main thread's epoll_ctl calls up to
  // the selector's second registration; the second run refuses exactly that
  // one. The script is the same both times, so the count is too.
  const code = `
    import { writeSync } from 'node:fs';
    import * as lib from ${JSON.stringify(DIST_INDEX)};
    const sel = new lib.EpollSelector();
    const [a, b] = lib.sys.socketpair();
    const [c, d] = lib.sys.socketpair();
    sel.register(a, lib.EVENT_READ, 'a');
    let error = null;
    try { sel.register(c, lib.EVENT_READ, 'c'); }  // refused in the second run
    catch (e) { error = { code: e.code, syscall: e.syscall, errno: e.errno }; }
    const afterRefusal = [...sel.getMap().keys()];
    if (error !== null) sel.register(c, lib.EVENT_READ, 'c');
    lib.sys.write(b, new Uint8Array([1]));
    lib.sys.write(d, new Uint8Array([1]));
    const ready = sel.select(1000).map(([k]) => k.data).sort();
    writeSync(1, JSON.stringify({ epfd: sel.pollableFd(), a, c, error, afterRefusal: afterRefusal.length, ready }));
    process.exit(0);`;
  const run = (extra: string[], log: string) =>
    spawnSync('strace', ['-qq', '-o', log, '-e', 'trace=epoll_ctl', ...extra, process.execPath, '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  it.each(['ENOMEM', 'ENOSPC'])('%s: register throws the kernel error, the selector is unchanged and goes on', (errno) => {
    const dir = mkdtempSync(join(tmpdir(), 'ns-ctl-'));
    try {
      const first = run([], join(dir, 'first'));
      expect(first.stderr).toBe('');
      const { epfd, c } = JSON.parse(first.stdout) as { epfd: number; c: number };
      const calls = readFileSync(join(dir, 'first'), 'utf8').split('\n').filter((l) => l.startsWith('epoll_ctl('));
      const nth = calls.findIndex((l) => l.startsWith(`epoll_ctl(${epfd}, EPOLL_CTL_ADD, ${c},`)) + 1;
      expect(nth).toBeGreaterThan(0);
      const second = run(['-e', `inject=epoll_ctl:error=${errno}:when=${nth}`], join(dir, 'second'));
      expect(second.stderr).toBe('');
      expect(readFileSync(join(dir, 'second'), 'utf8')).toContain('(INJECTED)');
      expect(JSON.parse(second.stdout)).toMatchObject({
        error: { code: errno, syscall: 'epoll_ctl', errno: expect.any(Number) },
        afterRefusal: 1,
        ready: ['a', 'c'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
