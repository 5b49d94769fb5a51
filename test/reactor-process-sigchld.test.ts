// spawnProcess with the exit seen through SIGCHLD (the strategy forced with
// `exitWatcher: 'sigchld'`, which works everywhere): real children (sh,
// sleep, cat), on every backend, under run() and under attach(). Each
// SIGCHLD (and a first look right after a child is registered) tries
// waitpid(pid, WNOHANG) for this reactor's children alone, so Node's own
// child_process children must still get their 'exit'; one SIGCHLD can
// stand for several exits. Also: forcing a strategy, and closing a reactor
// on children still running.
import { spawn as nodeSpawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { type ExitStatus, exitWatcher, Reactor, spawnProcess, sys } from '../lib/index.js';
import { BACKENDS, fdsChangedSince, openFds, thrown, track } from './helpers.js';
import { drive, exists, MODES, readAll } from './process-helpers.js';

const QUIET = { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', exitWatcher: 'sigchld' } as const;

describe.each(BACKENDS)('spawnProcess with the sigchld exit watcher on $name', ({ create }) => {
  const reactorOf = () => new Reactor({ selector: track(create()) });

  describe.each(MODES)('under %s()', (mode) => {
    it('reads stdout and stderr, then sees exit code 3; reaped, and the SIGCHLD handler and its pipe gone', async () => {
      const reactor = reactorOf();
      const before = openFds();
      const child = reactor.spawnProcess('sh', ['-c', 'echo out; echo err >&2; exit 3'], { exitWatcher: 'sigchld' });
      const [out, err, status] = await drive(reactor, mode, function* () {
        const out: string = yield* readAll(child.stdout);
        const err: string = yield* readAll(child.stderr);
        const status: ExitStatus = yield child.exited;
        return [out, err, status] as const;
      });
      expect([out, err, status]).toEqual(['out\n', 'err\n', { code: 3, signal: null }]);
      expect(exists(child.pid)).toBe(false);
      for (const s of [child.stdin, child.stdout, child.stderr]) s?.close();
      expect(await fdsChangedSince(before)).toEqual([]);
      reactor.close();
    });

    it('a child that exited before the reactor ran a single pass is seen and reaped', async () => {
      const reactor = reactorOf();
      const child = spawnProcess(reactor, 'true', [], QUIET);
      // Let it exit (and its SIGCHLD go by) before the reactor runs a pass.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const status = await drive(reactor, mode, function* () {
        return (yield child.exited) as ExitStatus;
      });
      expect(status).toEqual({ code: 0, signal: null });
      expect(exists(child.pid)).toBe(false);
      reactor.close();
    });

    it('children killed by a signal: kill() gives SIGTERM, kill -9 from outside SIGKILL', async () => {
      const reactor = reactorOf();
      const a = spawnProcess(reactor, 'sleep', ['30'], QUIET);
      const b = spawnProcess(reactor, 'sleep', ['30'], QUIET);
      const [sa, sb] = await drive(reactor, mode, function* () {
        yield reactor.sleep(20);
        expect(a.kill()).toBe(true);
        process.kill(b.pid, 'SIGKILL');
        const sa: ExitStatus = yield a.exited;
        const sb: ExitStatus = yield b.exited;
        return [sa, sb];
      });
      expect(sa).toEqual({ code: null, signal: 'SIGTERM' });
      expect(sb).toEqual({ code: null, signal: 'SIGKILL' });
      expect(exists(a.pid) || exists(b.pid)).toBe(false);
      expect(a.kill()).toBe(false);
      reactor.close();
    });

    it('twelve children ending at the same moment (one end of file for all) are all reaped, each with its own code', async () => {
      const reactor = reactorOf();
      const before = openFds();
      const [r, w] = sys.pipe();
      sys.setNonBlocking(r, false);
      // Each child blocks in cat on the same pipe; closing its write end ends them all at once.
      const children = Array.from({ length: 12 }, (_, i) => spawnProcess(reactor, 'sh', ['-c', `cat >/dev/null; exit ${i}`], { ...QUIET, stdin: r }));
      sys.close(r);
      const statuses = await drive(reactor, mode, function* () {
        yield reactor.sleep(50);
        sys.close(w);
        const out: ExitStatus[] = [];
        for (const c of children) out.push((yield c.exited) as ExitStatus);
        return out;
      });
      expect(statuses.map((s) => s.code)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(children.filter((c) => exists(c.pid))).toEqual([]);
      expect(await fdsChangedSince(before)).toEqual([]);
      reactor.close();
    });

    it("Node's own child_process child running at the same time still gets its 'exit' and code", async () => {
      const reactor = reactorOf();
      const nodeChild = nodeSpawn('sh', ['-c', 'sleep 0.1; exit 7'], { stdio: 'ignore' });
      const nodeExit = new Promise<number | null>((resolve) => nodeChild.on('exit', (code) => resolve(code)));
      const ours = Array.from({ length: 3 }, (_, i) => spawnProcess(reactor, 'sh', ['-c', `sleep 0.2; exit ${i + 1}`], QUIET));
      const codes = await drive(reactor, mode, function* () {
        const out: Array<number | null> = [];
        for (const c of ours) out.push(((yield c.exited) as ExitStatus).code);
        return out;
      });
      expect(codes).toEqual([1, 2, 3]);
      expect(await nodeExit).toBe(7);
      expect(exists(nodeChild.pid!)).toBe(false);
      reactor.close();
    });
  });
});

describe('choosing the exit watcher, and closing a reactor on running children', () => {
  it('exitWatcher() gives the best strategy here; a forced one that does not work is ERR_NOT_SUPPORTED naming it, nothing started', async () => {
    const best = exitWatcher().name;
    expect(best).toBe(sys.supports('pidfdOpen') ? 'pidfd' : sys.supports('kqueueWatchExit') ? 'kqueue' : 'sigchld');
    expect(exitWatcher('sigchld').name).toBe('sigchld');
    const reactor = new Reactor();
    const before = openFds();
    for (const [name, capability] of [['pidfd', 'pidfdOpen'], ['kqueue', 'kqueueWatchExit']] as const) {
      if (sys.supports(capability)) {
        expect(exitWatcher(name).name).toBe(name);
        continue;
      }
      const err = thrown(() => spawnProcess(reactor, 'true', [], { exitWatcher: name })) as Error & { code: string };
      expect(err.code).toBe('ERR_NOT_SUPPORTED');
      expect(err.message).toContain(`'${name}'`);
    }
    const bad = thrown(() => spawnProcess(reactor, 'true', [], { exitWatcher: 'poll' as never })) as TypeError & { code: string };
    expect(bad).toBeInstanceOf(TypeError);
    expect(bad.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(await fdsChangedSince(before)).toEqual([]);
    reactor.close();
  });

  const available = (['pidfd', 'kqueue', 'sigchld'] as const).filter((name) => {
    try {
      return exitWatcher(name) !== undefined;
    } catch {
      return false;
    }
  });

  it.each(available)(
    "with %s: close() on a running child rejects its exited with ERR_REACTOR_CLOSED (not killed), reaps one already exited, keeps nothing registered",
    async (name) => {
      const before = openFds();
      const reactor = new Reactor();
      const running = spawnProcess(reactor, 'sleep', ['30'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', exitWatcher: name });
      const done = spawnProcess(reactor, 'true', [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', exitWatcher: name });
      // `done` exits, but no pass has seen it yet.
      await new Promise((resolve) => setTimeout(resolve, 100));
      reactor.close();
      await expect(done.exited).resolves.toEqual({ code: 0, signal: null });
      expect(exists(done.pid)).toBe(false);
      await expect(running.exited).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
      expect(exists(running.pid)).toBe(true); // not killed
      expect(await fdsChangedSince(before)).toEqual([]); // no pidfd, kqueue or signal pipe left
      expect(running.kill('SIGKILL')).toBe(true);
      expect(sys.waitpid(running.pid, true)).toEqual({ code: null, signal: 'SIGKILL' });
    },
  );
});
