// Signals in the reactor's loop: real signals, in child processes, since the
// point is a reactor under run() whose thread (and Node's own loop) is
// blocked in select. Each child prints what it saw as JSON.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Reactor, addSignalHandler, removeSignalHandler, sys } from '../lib/index.js';
import { binding } from '../lib/native.js';
import { BACKENDS, defaultBackend, DIST_INDEX, fdsChangedSince, kqueueLimit, openFds, thrown } from './helpers.js';

const SIGUSR2 = 12;

/** Runs `code` (an ES module; LIB is the built package) in a child; its exit status, signal and stdout. */
function child(code: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code.replaceAll('LIB', JSON.stringify(DIST_INDEX))], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr };
}

/** The child's report: the JSON object it printed last; fails with its stderr if it did not exit 0. */
function report(code: string): Record<string, unknown> {
  const r = child(code);
  if (r.status !== 0) throw new Error(`child exited with ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.split('\n').pop()!) as Record<string, unknown>;
}

describe.each(BACKENDS)('signals on $name', ({ backend }) => {
  it('runs the callback in a pass of run(), from a blocked select and from inside a handler', () => {
    const out = report(`
      import { spawn } from 'node:child_process';
      import { Reactor, selectorClass } from LIB;
      const seen = [];
      const reactor = new Reactor({ selector: new (selectorClass(${JSON.stringify(backend)}))() });
      // Sent from inside a timer callback, that is during a pass.
      reactor.addSignalHandler('SIGUSR2', (name) => {
        seen.push(['timer', name, reactor.running]);
        reactor.removeSignalHandler('SIGUSR2');
      });
      reactor.callLater(10, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.run(); // returns once the handler removed itself: nothing left
      // Sent by another process while run() blocks in select without limit:
      // no timer, no callback, only the signal's handler to wait for.
      reactor.addSignalHandler('SIGHUP', (name) => {
        seen.push(['blocked', name, reactor.running]);
        reactor.removeSignalHandler('SIGHUP');
      });
      spawn('sh', ['-c', 'sleep 0.2; kill -HUP ' + process.pid], { stdio: 'ignore' });
      const t0 = performance.now();
      reactor.run();
      const waited = performance.now() - t0;
      reactor.close();
      console.log(JSON.stringify({ seen, waited }));
    `);
    expect(out.seen).toEqual([
      ['timer', 'SIGUSR2', true],
      ['blocked', 'SIGHUP', true],
    ]);
    expect(out.waited).toBeGreaterThanOrEqual(150);
  });

  it('runs the callback in a reactor pass under attach()', () => {
    const out = report(`
      import { Reactor, selectorClass } from LIB;
      const reactor = new Reactor({ selector: new (selectorClass(${JSON.stringify(backend)}))() });
      const seen = [];
      let inPass = false;
      reactor.addSignalHandler(${SIGUSR2}, (name) => {
        seen.push(name);
        if (seen.length === 2) reactor.close();
      });
      reactor.attach();
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 10);
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 60);
      const guard = setTimeout(() => { console.log(JSON.stringify({ seen, timedOut: true })); process.exit(0); }, 5000);
      reactor.on('close', () => { clearTimeout(guard); console.log(JSON.stringify({ seen })); });
    `);
    expect(out).toEqual({ seen: ['SIGUSR2', 'SIGUSR2'] });
  });
});

describe('signals and Node\'s own listeners', () => {
  it('chains to Node\'s listener installed after the reactor\'s handler, and keeps its own on top', () => {
    const out = report(`
      import { Reactor } from LIB;
      import { binding } from ${JSON.stringify(DIST_INDEX.replace(/index\.js$/, 'native.js'))};
      const order = [];
      const reactor = new Reactor();
      reactor.addSignalHandler('SIGUSR2', () => {
        order.push('reactor');
        reactor.removeSignalHandler('SIGUSR2');
      });
      process.on('SIGUSR2', () => order.push('node'));
      const oursOnTop = binding.signals.installed(${SIGUSR2});
      reactor.callLater(5, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.run();
      order.push('run returned');
      // Node's listener runs once Node's loop runs again.
      setTimeout(() => console.log(JSON.stringify({ order, oursOnTop })), 50);
    `);
    expect(out).toEqual({ order: ['reactor', 'run returned', 'node'], oursOnTop: true });
  });

  it('chains to Node\'s listener installed before the reactor\'s handler, which it leaves in place on removal', () => {
    const out = report(`
      import { Reactor } from LIB;
      const order = [];
      process.on('SIGUSR2', () => order.push('node'));
      const reactor = new Reactor();
      reactor.addSignalHandler('SIGUSR2', () => {
        order.push('reactor');
        reactor.removeSignalHandler('SIGUSR2');
      });
      reactor.callLater(5, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.run();
      reactor.close();
      setTimeout(() => {
        order.push('again');
        // libuv's handler is back in place: Node's listener alone runs.
        process.kill(process.pid, 'SIGUSR2');
        setTimeout(() => console.log(JSON.stringify({ order })), 50);
      }, 50);
    `);
    expect(out).toEqual({ order: ['reactor', 'node', 'again', 'node'] });
  });

  it('keeps handling the signal after Node stops listening (libuv puts back SIG_DFL)', () => {
    const r = child(`
      import { Reactor } from LIB;
      const reactor = new Reactor();
      const seen = [];
      const listener = () => seen.push('node');
      process.on('SIGUSR2', listener);
      reactor.addSignalHandler('SIGUSR2', () => {
        seen.push('reactor');
        reactor.removeSignalHandler('SIGUSR2');
      });
      process.off('SIGUSR2', listener);
      reactor.callLater(5, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.run();
      reactor.close();
      setTimeout(() => console.log(JSON.stringify({ seen })), 50);
    `);
    expect(r.signal).toBe(null);
    expect(JSON.parse(r.stdout)).toEqual({ seen: ['reactor'] });
  });

  it('handles SIGTERM and SIGINT instead of dying by them (Node\'s own exit handler is not chained), on a bare ReactorCore', () => {
    const out = report(`
      import { ReactorCore, addSignalHandler, removeSignalHandler } from LIB;
      const reactor = new ReactorCore();
      const seen = [];
      for (const sig of ['SIGTERM', 'SIGINT']) {
        addSignalHandler(reactor, sig, (name) => {
          seen.push(name);
          removeSignalHandler(reactor, name);
        });
      }
      reactor.callLater(5, () => process.kill(process.pid, 'SIGTERM'));
      reactor.callLater(30, () => process.kill(process.pid, 'SIGINT'));
      reactor.run();
      reactor.close();
      console.log(JSON.stringify({ seen }));
    `);
    expect(out).toEqual({ seen: ['SIGTERM', 'SIGINT'] });
  });

  it('puts back the default action on removal: the process then dies by the signal', () => {
    const r = child(`
      import { Reactor } from LIB;
      const reactor = new Reactor();
      reactor.addSignalHandler('SIGUSR2', () => {});
      process.kill(process.pid, 'SIGUSR2'); // handled: the pipe holds it
      console.log(reactor.removeSignalHandler('SIGUSR2'), reactor.removeSignalHandler('SIGUSR2'));
      reactor.close();
      process.kill(process.pid, 'SIGUSR2');
      setTimeout(() => console.log('survived'), 200);
    `);
    expect(r.stdout).toBe('true false');
    expect(r.signal).toBe('SIGUSR2');
  });

  it('puts back the default action when the reactor closes', () => {
    const r = child(`
      import { Reactor } from LIB;
      const reactor = new Reactor();
      reactor.addSignalHandler('SIGUSR2', () => {});
      reactor.close();
      process.kill(process.pid, 'SIGUSR2');
      setTimeout(() => console.log('survived'), 200);
    `);
    expect(r.signal).toBe('SIGUSR2');
  });
});

describe('several reactors', () => {
  it('wakes every reactor that handles the signal: two in one thread, one in a worker_thread', () => {
    const out = report(`
      import { Worker } from 'node:worker_threads';
      import { Reactor } from LIB;
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        import(\${JSON.stringify(${JSON.stringify(DIST_INDEX)})}).then(({ Reactor }) => {
          const reactor = new Reactor();
          let got = 0;
          reactor.addSignalHandler('SIGUSR2', () => { got++; reactor.removeSignalHandler('SIGUSR2'); });
          parentPort.postMessage('ready');
          reactor.run(); // this worker's thread blocks in select until the signal
          reactor.close();
          parentPort.postMessage(got);
        });
      \`, { eval: true, execArgv: [] });
      const seen = [];
      const a = new Reactor();
      const b = new Reactor();
      a.addSignalHandler('SIGUSR2', () => { seen.push('a'); a.removeSignalHandler('SIGUSR2'); });
      b.addSignalHandler('SIGUSR2', () => { seen.push('b'); b.removeSignalHandler('SIGUSR2'); });
      a.attach();
      b.attach();
      const fromWorker = await new Promise((resolve) => {
        worker.once('message', () => {
          process.kill(process.pid, 'SIGUSR2');
          worker.once('message', resolve);
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      a.close();
      b.close();
      console.log(JSON.stringify({ seen: seen.sort(), fromWorker }));
    `);
    expect(out).toEqual({ seen: ['a', 'b'], fromWorker: 1 });
  });
});

describe('signal handler input and state', () => {
  it('refuses bad input with coded errors, leaving no fd and no handler behind', async () => {
    const before = openFds();
    const reactor = new Reactor();
    const cases: Array<[() => unknown, string, string]> = [
      [() => reactor.addSignalHandler('SIGFOO' as NodeJS.Signals, () => {}), 'ERR_UNKNOWN_SIGNAL', 'TypeError'],
      [() => reactor.addSignalHandler(9999, () => {}), 'ERR_UNKNOWN_SIGNAL', 'TypeError'],
      [() => reactor.addSignalHandler({} as NodeJS.Signals, () => {}), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => reactor.addSignalHandler('SIGKILL', () => {}), 'ERR_SIGNAL_UNCATCHABLE', 'Error'],
      [() => reactor.addSignalHandler('SIGSTOP', () => {}), 'ERR_SIGNAL_UNCATCHABLE', 'Error'],
      [() => reactor.addSignalHandler('SIGSEGV', () => {}), 'ERR_SIGNAL_UNCATCHABLE', 'Error'],
      [() => reactor.addSignalHandler('SIGUSR2', 'nope' as never), 'ERR_INVALID_ARG_TYPE', 'TypeError'],
      [() => reactor.removeSignalHandler('SIGFOO' as NodeJS.Signals), 'ERR_UNKNOWN_SIGNAL', 'TypeError'],
    ];
    for (const [call, code, name] of cases) {
      const err = thrown(call) as Error & { code: string };
      expect(err?.code, String(call)).toBe(code);
      expect(err.name).toBe(name);
    }
    expect(binding.signals.installed(SIGUSR2)).toBe(false);
    expect(reactor.removeSignalHandler('SIGUSR2')).toBe(false);
    reactor.close();
    expect(thrown(() => reactor.addSignalHandler('SIGUSR2', () => {}))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(await fdsChangedSince(before)).toEqual([]);
  });

  it('takes a signal number as its name, replaces the callback, and releases the pipe with the last handler', async () => {
    const reactor = new Reactor();
    const before = openFds();
    addSignalHandler(reactor, SIGUSR2, () => {});
    addSignalHandler(reactor, 'SIGUSR2', () => {});
    addSignalHandler(reactor, 'SIGWINCH', () => {});
    expect(binding.signals.installed(SIGUSR2)).toBe(true);
    expect((await fdsChangedSince(before)).length).toBe(2); // the pipe
    expect(removeSignalHandler(reactor, 'SIGUSR2')).toBe(true);
    expect(binding.signals.installed(SIGUSR2)).toBe(false);
    expect(removeSignalHandler(reactor, SIGUSR2)).toBe(false);
    expect(removeSignalHandler(reactor, 'SIGWINCH')).toBe(true);
    expect(await fdsChangedSince(before)).toEqual([]);
    addSignalHandler(reactor, 'SIGUSR2', () => {});
    reactor.close(); // releases it too, with the selector
    expect(binding.signals.installed(SIGUSR2)).toBe(false);
    // The closed selector's fd and the reactor's timerfd where there is one;
    // libkqueue releases its own a moment later (R5).
    if (!kqueueLimit(defaultBackend(), 'kqueueLateFdRelease')) expect((await fdsChangedSince(before)).length).toBe(sys.supports('timerfd') ? 2 : 1);
  });

  it('reports a callback that throws and goes on', () => {
    const out = report(`
      import { Reactor } from LIB;
      const reactor = new Reactor();
      const errors = [];
      reactor.on('error', (err) => errors.push(err.message));
      let calls = 0;
      reactor.addSignalHandler('SIGUSR2', () => {
        calls++;
        if (calls === 2) reactor.removeSignalHandler('SIGUSR2');
        throw new Error('boom ' + calls);
      });
      reactor.callLater(5, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.callLater(30, () => process.kill(process.pid, 'SIGUSR2'));
      reactor.run();
      reactor.close();
      console.log(JSON.stringify({ errors }));
    `);
    expect(out).toEqual({ errors: ['boom 1', 'boom 2'] });
  });
});

describe("the core's 'close' event", () => {
  it('is emitted once, after everything is removed; a listener that throws is reported', () => {
    const reactor = new Reactor();
    const seen: string[] = [];
    reactor.on('error', (err: Error) => seen.push(`error ${err.message}`));
    reactor.on('close', () => {
      seen.push(`close ${reactor.closed}`);
      throw new Error('from a close listener');
    });
    reactor.on('close', () => seen.push('second listener'));
    reactor.close();
    reactor.close();
    expect(seen).toEqual(['close true', 'error from a close listener', 'second listener']);
  });
});
