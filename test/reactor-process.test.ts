// Child processes on the reactor (spawnProcess) and the sys calls under it
// (sys.spawn, sys.waitpid, sys.kqueueWatchExit): real children (sh, cat,
// tr, sleep, true, node), on every backend, under run() and under attach(),
// with the exit seen by the reactor itself (a pidfd, or kqueue's
// EVFILT_PROC, else SIGCHLD: reactor-process-sigchld.test.ts forces that one). run() in a child node process is the point: Node's loop is
// blocked there, so child_process could not see anything.
import { spawn as nodeSpawn, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type ExitStatus, Reactor, spawnProcess, type Subprocess, sys, type SystemError } from '../lib/index.js';
import { BACKENDS, fdsChangedSince, fdsNewSince, openFds, pipe, release, runNodeOutput, thrown, track } from './helpers.js';
import { drive, exists, MODES, readAll } from './process-helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function closeAll(child: Subprocess): void {
  for (const s of [child.stdin, child.stdout, child.stderr]) s?.close();
}

describe.each(BACKENDS)('spawnProcess on $name', ({ create }) => {
  const reactorOf = () => new Reactor({ selector: track(create()) });

  describe.each(MODES)('under %s()', (mode) => {
    it('reads stdout and stderr, then sees exit code 3; the child is reaped, no fd left', async () => {
      const reactor = reactorOf();
      const before = openFds();
      const child = spawnProcess(reactor, 'sh', ['-c', 'echo out; echo err >&2; exit 3']);
      const [out, err, status] = await drive(reactor, mode, function* () {
        const out: string = yield* readAll(child.stdout);
        const err: string = yield* readAll(child.stderr);
        const status: ExitStatus = yield child.exited;
        return [out, err, status] as const;
      });
      expect(out).toBe('out\n');
      expect(err).toBe('err\n');
      expect(status).toEqual({ code: 3, signal: null });
      expect(child.exitStatus).toEqual(status);
      expect(exists(child.pid)).toBe(false); // no zombie
      expect(child.kill()).toBe(false); // reaped: its pid is not ours to signal
      closeAll(child);
      expect(await fdsChangedSince(before)).toEqual([]);
      reactor.close();
    });

    it('stdin piped to tr: written, ended, read back', async () => {
      const reactor = reactorOf();
      const child = spawnProcess(reactor, 'tr', ['a-z', 'A-Z'], { stderr: 'inherit' });
      const out = await drive(reactor, mode, function* () {
        yield* child.stdin!.write('hello, ');
        yield* child.stdin!.write('child\n');
        child.stdin!.close(); // end of file for tr
        const out: string = yield* readAll(child.stdout);
        yield child.exited;
        return out;
      });
      expect(out).toBe('HELLO, CHILD\n');
      expect(child.exitStatus).toEqual({ code: 0, signal: null });
      expect(child.stderr).toBeNull();
      closeAll(child);
      reactor.close();
    });

    it('a child killed by kill() ends with SIGTERM, one killed from outside with kill -9 with SIGKILL', async () => {
      const reactor = reactorOf();
      const a = spawnProcess(reactor, 'sleep', ['30'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      const b = spawnProcess(reactor, 'sleep', ['30'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      expect(a.stdin).toBeNull();
      const [sa, sb] = await drive(reactor, mode, function* () {
        yield reactor.sleep(20);
        expect(a.kill()).toBe(true);
        expect(spawnSync('kill', ['-9', String(b.pid)]).status).toBe(0);
        const sa: ExitStatus = yield a.exited;
        const sb: ExitStatus = yield b.exited;
        return [sa, sb];
      });
      expect(sa).toEqual({ code: null, signal: 'SIGTERM' });
      expect(sb).toEqual({ code: null, signal: 'SIGKILL' });
      expect(exists(a.pid) || exists(b.pid)).toBe(false);
      reactor.close();
    });

    it('a child that closes its stdout early: end of stream first, the exit later', async () => {
      const reactor = reactorOf();
      const child = spawnProcess(reactor, 'sh', ['-c', 'echo early; exec 1>&-; sleep 0.2; echo late >&2; exit 5']);
      const [out, doneAtEof, err, status] = await drive(reactor, mode, function* () {
        const out: string = yield* readAll(child.stdout);
        const doneAtEof = child.exited.done;
        const err: string = yield* readAll(child.stderr);
        const status: ExitStatus = yield child.exited;
        return [out, doneAtEof, err, status] as const;
      });
      expect(out).toBe('early\n');
      expect(doneAtEof).toBe(false); // still running when its stdout ended
      expect(err).toBe('late\n');
      expect(status).toEqual({ code: 5, signal: null });
      closeAll(child);
      reactor.close();
    });

    it('back-pressure on stdin: the write waits until a late reader drains it, no byte lost', async () => {
      const reactor = reactorOf();
      const child = spawnProcess(reactor, 'sh', ['-c', 'sleep 0.2; exec cat'], { stderr: 'inherit' });
      const data = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
      const [waited, got, status] = await drive(reactor, mode, function* () {
        const reader = reactor.spawn(function* () {
          const parts: Uint8Array[] = [];
          for (;;) {
            const chunk: Uint8Array = yield* child.stdout!.read();
            if (chunk.length === 0) break;
            parts.push(chunk);
          }
          return Buffer.concat(parts);
        });
        const op = child.stdin!.write(data);
        const waited = child.stdin!.writeQueueSize > 0; // the pipe took only part of it
        yield* op;
        yield* child.stdin!.drain();
        child.stdin!.close();
        const got: Buffer = yield reader;
        const status: ExitStatus = yield child.exited;
        return [waited, got, status] as const;
      });
      expect(waited).toBe(true);
      expect(got.length).toBe(data.length);
      expect(got.equals(Buffer.from(data))).toBe(true);
      expect(status).toEqual({ code: 0, signal: null });
      closeAll(child);
      reactor.close();
    });

    it('a child that never reads its stdin: the write waits, and fails with EPIPE once it is killed (no hang)', async () => {
      const reactor = reactorOf();
      const child = spawnProcess(reactor, 'sleep', ['30'], { stdout: 'ignore', stderr: 'ignore' });
      const [error, queued, status] = await drive(reactor, mode, function* () {
        reactor.callLater(50, () => child.kill());
        let error: unknown;
        const queued = (() => {
          child.stdin!.write(new Uint8Array(1 << 20));
          return child.stdin!.writeQueueSize;
        })();
        try {
          yield* child.stdin!.drain();
        } catch (err) {
          error = err;
        }
        const status: ExitStatus = yield child.exited;
        return [error, queued, status] as const;
      });
      expect(queued).toBeGreaterThan(0);
      expect((error as SystemError).code).toBe('EPIPE');
      expect(status).toEqual({ code: null, signal: 'SIGTERM' });
      closeAll(child);
      reactor.close();
    });

    it('cwd and env are honoured; a bare name is found in the PATH of env', async () => {
      const reactor = reactorOf();
      const dir = realpathSync(tmpdir());
      const child = spawnProcess(reactor, 'sh', ['-c', 'pwd; echo "$GREETING"; echo "${HOME-unset}"'], {
        cwd: dir,
        env: { GREETING: 'hi there', PATH: process.env['PATH'] },
        stderr: 'inherit',
      });
      const out = await drive(reactor, mode, function* () {
        const out: string = yield* readAll(child.stdout);
        yield child.exited;
        return out;
      });
      expect(out).toBe(`${dir}\nhi there\nunset\n`);
      closeAll(child);
      reactor.close();
    });

    it("'ignore' gives /dev/null, an fd of ours is handed over as it is (and stays ours)", async () => {
      const reactor = reactorOf();
      const [r, w] = pipe();
      const child = spawnProcess(reactor, 'sh', ['-c', 'cat; echo to-fd; echo "stdin was empty"'], { stdin: 'ignore', stdout: w, stderr: 'ignore' });
      expect(child.stdout).toBeNull();
      const status = await drive(reactor, mode, function* () {
        return (yield child.exited) as ExitStatus;
      });
      expect(status.code).toBe(0);
      expect(sys.getFdFlags(w)).toEqual({ nonBlocking: true, closeOnExec: true }); // ours, untouched
      const buf = new Uint8Array(100);
      expect(dec(buf.subarray(0, sys.read(r, buf)))).toBe('to-fd\nstdin was empty\n');
      reactor.close();
    });
  });

  it('exec failure (ENOENT, EACCES) is a SystemError from spawnProcess, and nothing is left open', async () => {
    const reactor = reactorOf();
    const before = openFds();
    const enoent = thrown(() => spawnProcess(reactor, 'no-such-program-here', ['x'])) as SystemError & { path: string };
    expect(enoent.code).toBe('ENOENT');
    expect(enoent.syscall).toBe('posix_spawn');
    expect(enoent.path).toBe('no-such-program-here');
    expect((thrown(() => spawnProcess(reactor, '/no/such/file')) as SystemError).code).toBe('ENOENT');
    // A file that is not executable, through posix_spawn itself (a path: no PATH search).
    expect((thrown(() => spawnProcess(reactor, '/etc/passwd')) as SystemError).code).toBe('EACCES');
    // A cwd that does not exist fails in the child's chdir, reported the same way.
    expect((thrown(() => spawnProcess(reactor, 'true', [], { cwd: '/no/such/dir' })) as SystemError).code).toBe('ENOENT');
    expect(reactor.selector.getMap().size).toBe(0);
    expect(await fdsChangedSince(before)).toEqual([]);
    reactor.close();
  });
});

describe('spawnProcess beside Node and in a blocked Node', () => {
  it("Node's own child_process child running at the same time still gets its 'exit' (nothing reaps it but Node)", async () => {
    const nodeChild = nodeSpawn('sh', ['-c', 'sleep 0.2; exit 7'], { stdio: 'ignore' });
    const nodeExit = new Promise<number | null>((resolve) => nodeChild.on('exit', (code) => resolve(code)));
    const reactor = new Reactor();
    // Under run(): Node's loop is blocked while its child exits.
    const ours = Array.from({ length: 5 }, (_, i) => spawnProcess(reactor, 'sh', ['-c', `sleep 0.3; exit ${i}`], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }));
    reactor.run();
    expect(ours.map((c) => c.exitStatus?.code)).toEqual([0, 1, 2, 3, 4]);
    expect(await nodeExit).toBe(7);
    // And attached, both at once.
    const nodeChild2 = nodeSpawn('sh', ['-c', 'exit 9'], { stdio: 'ignore' });
    const nodeExit2 = new Promise<number | null>((resolve) => nodeChild2.on('exit', (code) => resolve(code)));
    reactor.attach();
    const again = spawnProcess(reactor, 'sh', ['-c', 'sleep 0.1; exit 4'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    expect(await again.exited).toEqual({ code: 4, signal: null });
    expect(await nodeExit2).toBe(9);
    reactor.close();
  });

  it('run() in a child node process: spawns, reads, sees the exit, and returns, with stderr inherited and no fd or zombie left', () => {
    const { stdout, stderr } = runNodeOutput(`
      import { Reactor, spawnProcess } from LIB;
      import { readdirSync } from 'node:fs';
      const reactor = new Reactor();
      const fdsBefore = readdirSync('/dev/fd').length;
      const child = spawnProcess(reactor, 'sh', ['-c', 'echo from-grandchild; echo to-stderr >&2; exit 2'], { stderr: 'inherit' });
      let out = '';
      reactor.spawn(function* () {
        for (;;) {
          const chunk = yield* child.stdout.read();
          if (chunk.length === 0) break;
          out += new TextDecoder().decode(chunk);
        }
        child.stdin.close();
        child.stdout.close();
      });
      reactor.run(); // returns once the child has exited and its pipes are closed
      let gone = false;
      try { process.kill(child.pid, 0); } catch (err) { gone = err.code === 'ESRCH'; }
      const fdsAfter = readdirSync('/dev/fd').length;
      reactor.close();
      console.log(JSON.stringify({ out, status: child.exitStatus, gone, fdsFlat: fdsAfter === fdsBefore }));
    `);
    expect(JSON.parse(stdout)).toEqual({ out: 'from-grandchild\n', status: { code: 2, signal: null }, gone: true, fdsFlat: true });
    expect(stderr).toContain('to-stderr');
  });

  it(`resources: ${Number(process.env['SPAWN_CHILDREN'] ?? 2000)} children (true, stdout piped) leave fds and RSS flat`, () => {
    const total = Number(process.env['SPAWN_CHILDREN'] ?? 2000);
    const reactor = new Reactor();
    const trueProgram = spawnSync('sh', ['-c', 'command -v true'], { encoding: 'utf8' }).stdout.trim();
    const batch = 16;
    let started = 0;
    let exited = 0;
    let failed = 0;
    let rssAtTenth = 0;
    let mostFds = 0;
    const fdsBefore = openFds();
    const startOne = (): void => {
      started++;
      const child = spawnProcess(reactor, trueProgram, [], { stdin: 'ignore', stderr: 'ignore' });
      child.exited.addDoneCallback((f) => {
        if (f.result().code !== 0) failed++;
        child.stdout!.close();
        exited++;
        if (exited % 100 === 0) mostFds = Math.max(mostFds, openFds().length);
        if (exited === total / 10) rssAtTenth = process.memoryUsage().rss;
        if (started < total) startOne();
      });
    };
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) startOne();
    reactor.run();
    const seconds = (performance.now() - t0) / 1000;
    expect(exited).toBe(total);
    expect(failed).toBe(0);
    // At most `batch` children at once, each with a pipe end and a pidfd (or kqueue) of ours.
    expect(mostFds).toBeLessThanOrEqual(fdsBefore.length + 2 * batch + 2);
    expect(fdsNewSince(fdsBefore)).toEqual([]);
    // Under AddressSanitizer (scripts/asan.sh) freed memory waits in its
    // quarantine, so RSS is not a measure of leaks there (valgrind checks those).
    if (!(process.env['LD_PRELOAD'] ?? '').includes('libasan')) {
      expect(process.memoryUsage().rss - rssAtTenth).toBeLessThan(32 * 1024 * 1024);
    }
    console.log(`spawnProcess: ${total} children in ${seconds.toFixed(1)} s`);
    reactor.close();
  }, 180_000);
});

describe('spawnProcess and sys.spawn: bad input and capabilities', () => {
  it('throws coded errors for bad arguments, leaving no fd behind', async () => {
    const before = openFds();
    const reactor = new Reactor();
    const code = (f: () => unknown) => (thrown(f) as { code?: string } | undefined)?.code;
    expect(code(() => spawnProcess({} as Reactor, 'true'))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => spawnProcess(reactor, 42 as unknown as string))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => spawnProcess(reactor, ''))).toBe('ERR_INVALID_ARG_VALUE');
    expect(code(() => spawnProcess(reactor, 'true', ['a\0b']))).toBe('ERR_INVALID_ARG_VALUE');
    expect(code(() => spawnProcess(reactor, 'true', [], { stdin: 'bogus' as 'pipe' }))).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => spawnProcess(reactor, 'true', [], { stdout: -3 }))).toBe('ERR_INVALID_FD');
    expect(code(() => spawnProcess(reactor, 'true', [], { env: { A: 1 as unknown as string } }))).toBe('ERR_INVALID_ARG_TYPE');
    const child = spawnProcess(reactor, 'true', [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    expect(code(() => child.kill('SIGNOPE' as NodeJS.Signals))).toBe('ERR_INVALID_ARG_VALUE');
    reactor.run();
    expect(child.exitStatus).toEqual({ code: 0, signal: null });
    reactor.close();
    expect(code(() => spawnProcess(reactor, 'true'))).toBe('ERR_REACTOR_CLOSED');
    // (fdsChangedSince waits for libkqueue's late release of a closed kqueue's fds, R5.)
    expect(await fdsChangedSince(before)).toEqual([]);
  });

  it('sys.spawn hands the child no fd of ours beyond 0, 1 and 2; sys.waitpid reaps it and only it', () => {
    const [r, w] = pipe();
    sys.setNonBlocking(w, false);
    // Our fds that a child could inherit: those open and not close-on-exec (Node's stdio, the test runner's).
    const inheritable = openFds().filter((fd) => fd > 2 && !sys.getFdFlags(fd).closeOnExec);
    const candidates = openFds().filter((fd) => fd > 2);
    const probe = candidates.map((fd) => `(: <&${fd}) 2>/dev/null && echo ${fd};`).join(' ');
    const pid = sys.spawn('sh', ['-c', `${probe} true`], { stdio: ['ignore', w, 'inherit'] });
    release(w);
    let status = sys.waitpid(pid);
    while (status === null) status = sys.waitpid(pid, true);
    expect(status).toEqual({ code: 0, signal: null });
    expect((thrown(() => sys.waitpid(pid)) as SystemError).code).toBe('ECHILD');
    let text = '';
    const buf = new Uint8Array(4096);
    for (let n; (n = sys.read(r, buf)) > 0; ) text += dec(buf.subarray(0, n));
    const seen = text.split('\n').filter(Boolean).map(Number);
    expect(seen.filter((fd) => !inheritable.includes(fd))).toEqual([]);
    expect(seen).not.toContain(r);
  });

  it('sys.waitpid and sys.kqueueWatchExit check their arguments; kqueueWatchExit exists only with kqueue', () => {
    const code = (f: () => unknown) => (thrown(f) as { code?: string } | undefined)?.code;
    expect(code(() => sys.waitpid(0))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => sys.waitpid(1.5))).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => sys.waitpid(1))).toBe('ECHILD'); // init is nobody's child here
    if (sys.supports('kqueueWatchExit')) {
      expect(code(() => sys.kqueueWatchExit(-1))).toBe('ERR_OUT_OF_RANGE');
      const pid = sys.spawn('sleep', ['0.05'], { stdio: ['ignore', 'ignore', 'ignore'] });
      const kq = sys.kqueueWatchExit(pid);
      expect(kq).toBeGreaterThan(2);
      sys.waitpid(pid, true);
      sys.close(kq);
    } else {
      expect(code(() => sys.kqueueWatchExit(1))).toBe('ERR_NOT_SUPPORTED');
    }
  });
});
