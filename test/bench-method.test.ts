// How the server benchmarks count a run and compare servers: the other load
// on the server's core read from /proc/stat sees a real process burning that
// core, waiting for quiet gives up after its limit, paired ratios are taken
// round by round, a round a server did not count in is made up by another,
// the minimal node:net keep-alive server answers every request it is sent,
// however the bytes are split, and two saved reports are compared ratio by
// ratio.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { diffReports, diffTable } from '../bench/lib/diff.js';
import { otherLoad, parseCpuLine, readCpu, waitForQuiet } from '../bench/lib/quiet.js';
import { counts, measureRounds, pairedRatios, type Sample, type Subject } from '../bench/lib/rounds.js';
import type { LoadResult } from '../bench/lib/load.js';
import { probeKeepAlive } from '../bench/lib/load.js';
import { clockTicks, hasTaskset, startServer } from '../support/proc.js';

const STAT = `cpu  100 0 50 1000 10 0 5 0 0 0
cpu0 60 1 30 500 4 2 3 4 0 0
cpu1 40 0 20 500 6 0 2 0 0 0
intr 1 2 3
`;

describe("a CPU's time from /proc/stat", () => {
  it('reads the cpuN line: busy is everything but idle and iowait, steal included', () => {
    const us = 1e6 / clockTicks();
    expect(parseCpuLine(STAT, 0)).toEqual({ busyUs: (60 + 1 + 30 + 2 + 3 + 4) * us, totalUs: (60 + 1 + 30 + 2 + 3 + 4 + 500 + 4) * us });
    expect(parseCpuLine(STAT, 1)?.busyUs).toBe(62 * us);
    // "cpu1" is not "cpu10", and a CPU the machine does not have is undefined.
    expect(parseCpuLine(STAT, 10)).toBeUndefined();
    expect(parseCpuLine('', 0)).toBeUndefined();
  });

  it("counts the share of the core that was not the server's own", () => {
    const before = { busyUs: 1000, totalUs: 10_000 };
    const after = { busyUs: 6000, totalUs: 20_000 };
    expect(otherLoad(before, after, 0)).toBeCloseTo(0.5);
    expect(otherLoad(before, after, 4000)).toBeCloseTo(0.1);
    expect(otherLoad(before, before, 0)).toBeNaN();
  });

  it('reads this machine: CPU 0 exists and its time only grows', async () => {
    const a = readCpu(0)!;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const b = readCpu(0)!;
    expect(b.totalUs).toBeGreaterThanOrEqual(a.totalUs);
    expect(b.busyUs).toBeGreaterThanOrEqual(a.busyUs);
    expect(readCpu(availableParallelism() + 64)).toBeUndefined();
  });

  // A real process pinned to a core makes that core busy, whatever else runs.
  it.skipIf(!hasTaskset())('sees a process burning a core as other load on it, and waiting for quiet gives up at its limit', async () => {
    const cpu = availableParallelism() - 1;
    const burner = spawn('taskset', ['-c', String(cpu), process.execPath, '-e', "console.log('ready'); for (;;) {}"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await createInterface({ input: burner.stdout! })[Symbol.asyncIterator]().next();
      const before = readCpu(cpu)!;
      await new Promise((resolve) => setTimeout(resolve, 400));
      const after = readCpu(cpu)!;
      expect(otherLoad(before, after, 0)).toBeGreaterThan(0.7);
      const started = performance.now();
      const waited = await waitForQuiet({ cpu, threshold: 0.5, maxWaitMs: 600 }, 200);
      expect(waited.load).toBeGreaterThan(0.5);
      expect(waited.waitedMs).toBeGreaterThanOrEqual(600);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      burner.kill('SIGKILL');
    }
  });
});

describe('rounds and paired ratios', () => {
  it('pairs two servers round by round, leaving out rounds either lacks', () => {
    const a = new Map([
      [1, 12],
      [2, 11],
      [3, 30],
      [5, 10],
    ]);
    const c = new Map([
      [1, 10],
      [2, 10],
      [4, 10],
      [5, 8],
    ]);
    expect(pairedRatios(a, c)).toEqual([1.2, 1.1, 1.25]);
    expect(pairedRatios(a, new Map())).toEqual([]);
    expect(pairedRatios(new Map([[1, 5]]), new Map([[1, 0]]))).toEqual([]);
  });

  const result = (complete: number, failed = 0): LoadResult => ({
    generator: 'embedded',
    complete,
    failed,
    non200: 0,
    unfinished: 0,
    elapsedS: 0.01,
    requestsPerSecond: complete * 100,
    cpuUs: 0,
  });

  it('runs more rounds until every server has its rounds paired with the reference, and rotates the order', async () => {
    const order: string[] = [];
    // b's first counted run and c's second have a failed request. (Each
    // subject runs once per round: its nth call is the warm-up, then round n.)
    const failing = new Set(['b@1', 'c@2']);
    const subject = (name: string): Subject => {
      let calls = 0;
      return {
        name,
        pids: [process.pid],
        async load() {
          order.push(name);
          return failing.has(`${name}@${calls++}`) ? result(10, 1) : result(10);
        },
      };
    };
    const subjects = [subject('c'), subject('a'), subject('b')];
    const samples = new Map<string, Sample[]>();
    const report = await measureRounds(subjects, {
      runs: 2,
      maxRounds: 5,
      requests: 10,
      warmup: 1,
      reference: subjects[0],
      onSample: (s, sample) => samples.set(s.name, [...(samples.get(s.name) ?? []), sample]),
    });
    // Round 1: b failed; round 2: c failed, so nothing pairs in it; after
    // round 3, a has two pairs (1, 3) and b one (3); round 4 gives b its second.
    expect(report).toEqual({ rounds: 4, noisyRuns: 0, waitedMs: 0 });
    expect(order.slice(0, 3)).toEqual(['c', 'a', 'b']); // the warm-up
    expect(order.slice(3)).toEqual(['c', 'a', 'b', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    const countedRounds = (name: string) => samples.get(name)!.filter(counts).map((s) => s.run);
    expect(countedRounds('c')).toEqual([1, 3, 4]);
    expect(countedRounds('a')).toEqual([1, 2, 3, 4]);
    expect(countedRounds('b')).toEqual([2, 3, 4]);
    for (const s of samples.get('a')!) expect(s).toMatchObject({ quiet: true, otherLoad: NaN });
  });

  it('with bracket, runs the reference around every subject and compares each run with the reference runs just before and after', async () => {
    const order: string[] = [];
    // Each run's CPU µs per request, through a clock the runs advance by
    // cost × 1,000 requests (the warm-up costs nothing).
    let clockUs = 0;
    const cost = new Map([
      ['c', [10, 12, 14, 16, 18, 20, 22, 24, 26]],
      ['a', [22, 26, 30, 34, 38]],
      ['b', [13, 15, 17, 19, 21]],
    ]);
    const calls = new Map<string, number>();
    const subject = (name: string): Subject => ({
      name,
      pids: [1],
      async load() {
        order.push(name);
        const k = calls.get(name) ?? 0;
        calls.set(name, k + 1);
        clockUs += k === 0 ? 0 : cost.get(name)![k - 1]! * 1000; // the warm-up costs nothing
        return result(1000);
      },
    });
    const [c, a, b] = [subject('c'), subject('a'), subject('b')];
    const clock = () => clockUs;
    const samples: Array<[string, Sample]> = [];
    const report = await measureRounds([c, a, b], {
      runs: 2,
      requests: 1000,
      warmup: 1,
      reference: c,
      bracket: true,
      clock,
      onSample: (s, sample) => samples.push([s.name, sample]),
    });
    expect(report.rounds).toBe(2);
    // Warm-up, then c a c b c (round 1), b c a c (round 2: the last c of round 1 opens it).
    expect(order).toEqual(['c', 'a', 'b', 'c', 'a', 'c', 'b', 'c', 'b', 'c', 'a', 'c']);
    const of = (name: string) => samples.filter(([n]) => n === name).map(([, s]) => [s.run, s.cpuUsPerRequest[0], s.referenceCpuUsPerRequest]);
    expect(of('c')).toEqual([[1, 10, undefined], [1, 12, undefined], [1, 14, undefined], [2, 16, undefined], [2, 18, undefined]]);
    expect(of('a')).toEqual([[1, 22, 11], [2, 26, 17]]);
    expect(of('b')).toEqual([[1, 13, 13], [2, 15, 15]]);
    // A subject's sample is reported after the reference run that follows it.
    expect(samples.map(([n]) => n)).toEqual(['c', 'a', 'c', 'b', 'c', 'b', 'c', 'a', 'c']);
  });

  it('with restart, starts every subject afresh before each round after the first, warms it up again, and reads the new process', async () => {
    const events: string[] = [];
    // Each subject's "process" is a number; its clock is per pid, so a run
    // read through the old pid after a restart would see no time pass.
    const spent = new Map<number, number>();
    let nextPid = 100;
    const subject = (name: string) => {
      let pid = nextPid++;
      return {
        name,
        get pids() {
          return [pid];
        },
        async restart() {
          pid = nextPid++;
          events.push(`restart ${name} → ${pid}`);
        },
        async load(requests: number) {
          events.push(`${name}@${pid}:${requests}`);
          spent.set(pid, (spent.get(pid) ?? 0) + requests * 3);
          return result(requests);
        },
      };
    };
    const [c, a] = [subject('c'), subject('a')];
    const samples: Array<[string, Sample]> = [];
    const report = await measureRounds([c, a], {
      runs: 2,
      requests: 10,
      warmup: 1,
      reference: c,
      bracket: true,
      restart: (s) => s.restart(),
      clock: (pid) => spent.get(pid) ?? 0,
      onSample: (s, sample) => samples.push([s.name, sample]),
    });
    expect(report.rounds).toBe(2);
    expect(events).toEqual([
      'c@100:1', 'a@101:1', // the first warm-up
      'c@100:10', 'a@101:10', 'c@100:10', // round 1
      'restart c → 102', 'c@102:1', 'restart a → 103', 'a@103:1', // fresh processes, warmed up
      'a@103:10', 'c@102:10', // round 2 (the last c of round 1 opened it)
    ]);
    // Every run measured the process it loaded: 3 µs per request.
    for (const [, sample] of samples) expect(sample.cpuUsPerRequest).toEqual([3]);
  });

  it('stops at maxRounds when the pairs never come', async () => {
    let runs = 0;
    const broken: Subject = { name: 'broken', pids: [process.pid], load: async () => (runs++, result(0)) };
    const ok: Subject = { name: 'c', pids: [process.pid], load: async () => result(5) };
    const report = await measureRounds([ok, broken], { runs: 2, maxRounds: 4, requests: 5, warmup: 0, reference: ok, onSample: () => {} });
    expect(report.rounds).toBe(4);
    expect(runs).toBe(1 + 4); // the warm-up, then one run per round
  });
});

describe('the minimal node:net keep-alive server', () => {
  const script = join(import.meta.dirname, '..', 'dist', 'bench', 'servers', 'net-minimal.js');

  it('keeps its connections and answers every request, split anywhere or pipelined', async () => {
    const server = await startServer(process.execPath, [script, '--port', '0']);
    try {
      expect(await probeKeepAlive(server.url)).toBeUndefined();
      const { port } = new URL(server.url);
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      let got = '';
      socket.on('data', (chunk) => (got += chunk.toString('latin1')));
      await new Promise((resolve) => socket.once('connect', resolve));
      const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
      const pieces = [request.slice(0, 25), request.slice(25, 27) + request.repeat(3), request.slice(0, 3), request.slice(3)];
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const deadline = Date.now() + 3000;
      while ((got.match(/HTTP\/1\.1 200 OK/g) ?? []).length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      socket.destroy();
      expect((got.match(/HTTP\/1\.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world/g) ?? []).length).toBe(5);
      expect(got.replace(/HTTP\/1\.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world/g, '')).toBe('');
    } finally {
      await server.stop();
    }
  });
});

describe('comparing two saved reports', () => {
  const report = (callbacks: number, dgram: number) => ({
    config: {},
    servers: [
      { name: 'c-epoll', cpuRatio: { median: 1, n: 7 } },
      { name: 'reactor callbacks', cpuRatio: { median: callbacks, n: 7 } },
      { name: 'never paired', cpuRatio: { median: NaN, n: 0 } },
    ],
    keepalive: { servers: [{ name: 'reactor async', cpuRatio: { median: 1.3, n: 5 } }] },
    dgram: { rows: [{ name: 'C epoll echo', cpuRatio: { median: 1 } }, { name: 'node:dgram', cpuRatio: { median: dgram } }] },
  });

  it('pairs the ratios both reports have and gives the change in per cent', () => {
    const rows = diffReports(report(1.2, 3), { ...report(1.26, 3), keepalive: undefined });
    expect(rows.map((r) => [r.table, r.name, r.first, r.second])).toEqual([
      ['hello', 'reactor callbacks', 1.2, 1.26],
      ['datagrams', 'node:dgram', 3, 3],
    ]);
    expect(rows[0]!.changePct).toBeCloseTo(5);
    expect(diffTable(rows, 'a', 'b')).toMatch(/\| hello \| reactor callbacks \| .* \| 1\.200 \| 1\.260 \| \+5\.0% \(largest\) \|/);
  });

  it('exits 1 when a ratio moved more than --tolerance, 0 otherwise (node dist/bench/diff.js)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-diff-'));
    try {
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      writeFileSync(a, JSON.stringify(report(1.2, 3)));
      writeFileSync(b, JSON.stringify(report(1.26, 3.03)));
      const script = join(import.meta.dirname, '..', 'dist', 'bench', 'diff.js');
      const strict = spawnSync(process.execPath, [script, '--first', a, '--second', b, '--tolerance', '3'], { encoding: 'utf8' });
      expect(strict.status).toBe(1);
      expect(strict.stdout).toMatch(/1 of 3 ratios moved by more than 3%: hello reactor callbacks\n/);
      const loose = spawnSync(process.execPath, [script, '--first', a, '--second', b, '--tolerance', '6'], { encoding: 'utf8' });
      expect(loose.status).toBe(0);
      const none = spawnSync(process.execPath, [script, '--first', a, '--second', join(dir, 'missing.json')], { encoding: 'utf8' });
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/missing\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
