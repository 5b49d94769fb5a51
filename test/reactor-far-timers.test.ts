// Far timers under run() (lib/reactor/far-timer.ts): a deadline FAR_MS or
// more away wakes the wait through a timerfd instead of the wait's timeout,
// where there is a timerfd. On every backend: timers still fire on time,
// never early, and an earlier far timer added later is not held up by the
// later one the timerfd was armed for; a cancelled earliest timer costs an
// early wake-up, not a late or lost one; no CPU is spun on an expired
// timerfd; the timerfd is closed with the reactor. With strace: the timerfd
// is re-armed only when the earliest deadline moves earlier, not per wait.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, Reactor, sys } from '../lib/index.js';
import { FAR_MS } from '../lib/reactor/far-timer.js';
import { BACKENDS, fdsNewSince, openFds, pipe, release, runNode, socketpair, track } from './helpers.js';
import { fdTarget } from './fds.js';

const hasTimerfd = sys.supports('timerfd');
// strace must exist and be allowed to trace (some containers forbid ptrace).
const strace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;
/** How late a timer may fire on a loaded shared machine and still count as on time. */
const LATE_MS = 150;

describe.each(BACKENDS)('far timers under run() on $name', ({ backend, create }) => {
  const reactor = () => new Reactor({ selector: track(create()) });

  it('fire on time, and an earlier far timer added later is not held up by the armed one', () => {
    const r = reactor();
    // A real peer makes the loop add the earlier timer while it waits for
    // the later one: sh writes to a pipe 100 ms from now.
    const [rd, wr] = pipe();
    spawn('sh', ['-c', 'sleep 0.1; printf x'], { stdio: ['ignore', wr, 'ignore'] });
    release(wr);
    const start = r.time();
    const fired: Array<[string, number]> = [];
    let earlyAt = -1;
    r.callLater(1000, () => fired.push(['late', r.time() - start]));
    r.addHandler(rd, () => {
      sys.read(rd, new Uint8Array(8));
      r.removeHandler(rd);
      earlyAt = r.time() - start;
      r.callLater(4 * FAR_MS, () => fired.push(['early', r.time() - start]));
    }, EVENT_READ);
    r.run();
    expect(earlyAt).toBeGreaterThan(50);
    expect(fired.map(([name]) => name)).toEqual(['early', 'late']);
    const [[, early], [, late]] = fired as [[string, number], [string, number]];
    expect(early).toBeGreaterThanOrEqual(earlyAt + 4 * FAR_MS - 1);
    expect(early).toBeLessThan(earlyAt + 4 * FAR_MS + LATE_MS);
    expect(late).toBeGreaterThanOrEqual(999);
    expect(late).toBeLessThan(1000 + LATE_MS);
    r.close();
  });

  it('a cancelled earliest timer wakes the loop early for nothing; the next one fires on time', () => {
    const r = reactor();
    const start = r.time();
    const log: Array<[string, number]> = [];
    const first = r.callLater(2 * FAR_MS, () => log.push(['cancelled one', r.time() - start]));
    r.callLater(6 * FAR_MS, () => log.push(['second', r.time() - start]));
    r.callLater(5, () => first.cancel());
    r.run();
    expect(log.map(([name]) => name)).toEqual(['second']);
    expect(log[0]![1]).toBeGreaterThanOrEqual(6 * FAR_MS - 1);
    expect(log[0]![1]).toBeLessThan(6 * FAR_MS + LATE_MS);
    r.close();
  });

  it('run() returns once the far timers are gone, and a refreshed timer fires its delay after the refresh', () => {
    const r = reactor();
    const start = r.time();
    const log: number[] = [];
    const far = r.callLater(5000, () => {});
    const refreshed = r.callLater(2 * FAR_MS, () => log.push(r.time() - start));
    // Restarted a pass later: due 2 * FAR_MS after that, not at the first deadline.
    r.callLater(3 * FAR_MS, () => {
      refreshed.refresh();
      r.callLater(1, () => far.cancel());
    });
    // It fired at 2 * FAR_MS, before the refresh, and again 2 * FAR_MS after it;
    // run() does not wait out the cancelled 5 s timer the timerfd may hold.
    r.run();
    expect(log.length).toBe(2);
    expect(log[1]!).toBeGreaterThanOrEqual(5 * FAR_MS - 1);
    expect(r.time() - start).toBeLessThan(5 * FAR_MS + 1000);
    r.close();
  });

  it('fd handlers still run while a far timer waits, and the timer still fires', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const buf = new Uint8Array(16);
    let got = 0;
    const start = r.time();
    let firedAt = -1;
    r.addHandler(b, () => {
      sys.read(b, buf);
      if (++got < 20) r.callLater(2, () => sys.write(a, Uint8Array.of(got)));
    }, EVENT_READ);
    sys.write(a, Uint8Array.of(0));
    r.callLater(300, () => {
      firedAt = r.time() - start;
      r.removeHandler(b);
    });
    r.run();
    expect(got).toBe(20);
    expect(firedAt).toBeGreaterThanOrEqual(299);
    expect(firedAt).toBeLessThan(300 + LATE_MS);
    r.close();
  });

  it.runIf(hasTimerfd)('passes woken by fds read no clock while the timerfd holds the earliest deadline; a timer a handler adds still runs in its pass', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const buf = new Uint8Array(16);
    const ROUNDS = 300;
    let got = 0;
    let ranIn = -1;
    const far = r.callLater(10_000, () => {});
    // One byte per pass: the handler answers each with the next.
    r.addHandler(b, () => {
      sys.read(b, buf);
      if (++got === 100) r.callLater(0, () => (ranIn = got));
      if (got < ROUNDS) sys.write(a, Uint8Array.of(1));
      else {
        r.removeHandler(b);
        far.cancel();
      }
    }, EVENT_READ);
    sys.write(a, Uint8Array.of(1));
    const now = performance.now;
    let reads = 0;
    performance.now = function (this: typeof performance) {
      reads++;
      return now.call(this);
    };
    try {
      r.run();
    } finally {
      performance.now = now;
    }
    expect(got).toBe(ROUNDS);
    // The zero-delay timer came before the armed deadline: its pass checked
    // the clock and ran it, before the next byte's pass.
    expect(ranIn).toBe(100);
    // The first wait arms the timerfd, and the zero-delay timer's pass and
    // the one after it read the clock: a handful, not one per pass.
    expect(reads).toBeLessThan(10);
    r.close();
  });

  it.runIf(hasTimerfd)('watches one timerfd in the selector while far timers wait, closed with the reactor', () => {
    const selector = track(create());
    const before = openFds();
    const r = new Reactor({ selector });
    let during: number[] = [];
    let keys = 0;
    // The first wait is for the earlier of two far timers: on the timerfd.
    r.callLater(4 * FAR_MS, () => {});
    r.callLater(2 * FAR_MS, () => {
      during = fdsNewSince(before);
      keys = selector.getMap().size;
    });
    r.run();
    expect(during.map((fd) => fdTarget(fd))).toEqual(['anon_inode:[timerfd]']);
    expect(keys).toBe(1);
    r.close();
    expect(fdsNewSince(before)).toEqual([]);
    // A selector passed in stays open, and holds nothing of the reactor's.
    expect(selector.closed).toBe(false);
    expect(selector.getMap().size).toBe(0);
  });
});

describe.runIf(hasTimerfd)('the timerfd of a reactor never closed', () => {
  it('is released when the reactor is collected, as its selector is', async () => {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const before = openFds();
    (() => {
      const r = new Reactor();
      r.callLater(1, () => {});
      r.run();
    })();
    let left = fdsNewSince(before);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = fdsNewSince(before);
    }
    expect(left).toEqual([]);
  });

  it('is released when the worker thread that made it ends', () => {
    const out = runNode(`
      import { Worker } from 'node:worker_threads';
      import { readdirSync, readlinkSync } from 'node:fs';
      const timerfds = () => readdirSync('/proc/self/fd').filter((fd) => {
        try { return readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[timerfd]'; } catch { return false; }
      }).length;
      const before = timerfds();
      const w = new Worker(\`
        const { Reactor } = await import(\${JSON.stringify(LIB)});
        const { parentPort } = await import('node:worker_threads');
        const r = new Reactor();
        r.callLater(80, () => {});
        r.run();
        parentPort.postMessage('ran');
        // Ends, its reactor still open, once the parent has counted.
        parentPort.once('message', () => parentPort.close());
      \`, { eval: true });
      const during = await new Promise((resolve) => w.once('message', () => resolve(timerfds())));
      w.postMessage('end');
      await new Promise((resolve) => w.once('exit', resolve));
      console.log(JSON.stringify([during - before, timerfds() - before]));
    `);
    expect(JSON.parse(out)).toEqual([1, 0]);
  });
});

describe('far timers spin no CPU', () => {
  it('an expired timerfd is taken, not left readable: a far timer and near ones after it cost almost no CPU', () => {
    // In a child, so that other test files' CPU does not count.
    const out = runNode(`
      import { Reactor } from LIB;
      const r = new Reactor();
      const cpu = process.cpuUsage();
      // A far timer, then 300 ms of near ones (their waits keep a timeout,
      // and would return at once on a timerfd left readable).
      let ticks = 0;
      const tick = () => { if (++ticks < 8) r.callLater(40, tick); };
      r.callLater(150, tick);
      r.run();
      const used = process.cpuUsage(cpu);
      r.close();
      console.log((used.user + used.system) / 1000);
    `);
    // A loop spinning on a readable timerfd would use most of the 450 ms.
    expect(Number(out)).toBeLessThan(100);
  });
});

describe.runIf(hasTimerfd && strace)('far timers cost no syscall per wait', () => {
  it('re-arms the timerfd only when the earliest deadline moves earlier, not once per wait', () => {
    // 300 round trips through a socketpair (each a wait) while a 10 s idle
    // timer is pending and restarted by each message: one timerfd_settime.
    const script = `
      import { EVENT_READ, Reactor, sys } from LIB;
      const r = new Reactor();
      const [a, b] = sys.socketpair();
      const buf = new Uint8Array(16);
      let n = 0;
      const idle = r.callLater(10_000, () => {});
      r.addHandler(b, () => {
        sys.read(b, buf);
        idle.refresh();
        if (++n < 300) r.callLater(0, () => sys.write(a, buf.subarray(0, 1)));
        else { idle.cancel(); r.removeHandler(b); }
      }, EVENT_READ);
      sys.write(a, buf.subarray(0, 1));
      r.run();
      r.close();
      console.log(n);
    `.replaceAll('LIB', JSON.stringify(new URL('../dist/lib/index.js', import.meta.url).pathname));
    const r = spawnSync('strace', ['-f', '-qq', '-c', '-U', 'name,calls', '-e', 'trace=timerfd_settime,timerfd_create', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('300');
    const calls = Object.fromEntries([...r.stderr.matchAll(/^\s*(timerfd_\w+)\s+(\d+)\s*$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(calls).toEqual({ timerfd_create: 1, timerfd_settime: 1 });
  });
});
