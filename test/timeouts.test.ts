// Timeouts, blocking waits and EINTR, with real child processes and signals.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, sys } from '../lib/index.js';
import { BACKENDS, pipe, socketpair, track } from './helpers.js';

const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

describe.each(BACKENDS)('$name', ({ create }) => {
  it('timeout 0 and negative timeouts return at once', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    for (const timeout of [0, -1, -Infinity]) {
      const start = process.hrtime.bigint();
      expect(sel.select(timeout)).toEqual([]);
      expect(elapsedMs(start)).toBeLessThan(50);
    }
  });

  it('a 50 ms timeout waits at least 50 ms', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    const start = process.hrtime.bigint();
    expect(sel.select(50)).toEqual([]);
    expect(elapsedMs(start)).toBeGreaterThanOrEqual(50);
  });

  it('a 0.3 ms timeout is not rounded down to zero', () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      expect(sel.select(0.3)).toEqual([]);
      expect(elapsedMs(start)).toBeGreaterThanOrEqual(0.3);
    }
  });

  it('with an empty registration set, a timeout still waits', () => {
    const sel = track(create());
    const start = process.hrtime.bigint();
    expect(sel.select(20)).toEqual([]);
    expect(elapsedMs(start)).toBeGreaterThanOrEqual(20);
  });

  it('null blocks until a child process writes to a pipe', () => {
    const sel = track(create());
    const [r, w] = pipe();
    sel.register(r, EVENT_READ);
    // The child gets the write end as its stdout. A watchdog child writes
    // "timeout" after 15 s so that a broken wait fails instead of hanging.
    const writeLater = (ms: number, text: string) =>
      spawn(process.execPath, ['-e', `setTimeout(() => process.stdout.write(${JSON.stringify(text)}), ${ms})`], {
        stdio: ['ignore', w, 'ignore'],
      });
    const writer = writeLater(200, 'ok');
    const watchdog = writeLater(15_000, 'timeout');
    try {
      const start = process.hrtime.bigint();
      const ready = sel.select(null);
      expect(elapsedMs(start)).toBeGreaterThanOrEqual(100);
      expect(ready.map(([k, ev]) => [k.fd, ev])).toEqual([[r, EVENT_READ]]);
      const buf = new Uint8Array(16);
      const n = sys.read(r, buf);
      expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('ok');
    } finally {
      writer.kill();
      watchdog.kill();
    }
  });

  it('a signal during a blocking select(1000) leaves the call waiting for the remaining time', async () => {
    const sel = track(create());
    const [a] = socketpair();
    sel.register(a, EVENT_READ);
    let received = 0;
    const listener = () => {
      received++;
    };
    process.on('SIGUSR2', listener);
    try {
      // The child signals this process 200 ms into the wait: the syscall is
      // interrupted (EINTR) and must resume with the time left.
      const child = spawn('sh', ['-c', `sleep 0.2; kill -USR2 ${process.pid}`], { stdio: 'ignore' });
      const start = process.hrtime.bigint();
      expect(sel.select(1000)).toEqual([]);
      const waited = elapsedMs(start);
      expect(waited).toBeGreaterThanOrEqual(1000);
      expect(waited).toBeLessThan(5000);
      await new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // The JS listener runs once the thread is back in Node's loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received).toBe(1);
    } finally {
      process.off('SIGUSR2', listener);
    }
  });

  it('rejects non-number and NaN timeouts', () => {
    const sel = track(create());
    expect(() => sel.select('10' as unknown as number)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sel.select(NaN)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => sel.selectRaw({} as unknown as number)).toThrow(TypeError);
  });
});
