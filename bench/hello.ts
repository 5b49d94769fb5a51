// The classic hello-world benchmark: Apache Bench (`ab -n N -c 10`, a new
// connection per request) against each server in turn, all started side by
// side, the servers pinned to CPU 0 and ab to CPU 1. Reported per server: the
// server's own CPU µs per request (utime + stime of all its threads, from
// /proc/PID/stat before and after each run: 20,000 requests of ~50 µs span
// ~100 clock ticks, so the 10 ms tick costs ~1 %) and requests/s, medians
// over the rounds, and each as a ratio to the C epoll server measured in the
// same round.
//
//   node dist/bench/hello.js [--requests 20000] [--concurrency 10] [--rounds 5] [--clock stat|sched] [--servers epoll,c-epoll,...]
//
// Needs `ab` (Debian: apache2-utils) and a C compiler for the reference server.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';
import { helloServers, type HelloServer } from './lib/hello-servers.js';
import { cpuTimeUs, pinned, startServer, statCpuUs, type ServerProcess } from './lib/proc.js';
import { fmt, median, summarize } from './lib/stats.js';

const run = promisify(execFile);
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

interface AbResult {
  requestsPerSecond: number;
  failed: number;
  complete: number;
}

async function ab(url: string, requests: number, concurrency: number): Promise<AbResult> {
  const [cmd, args] = pinned(CLIENT_CPU, 'ab', ['-q', '-n', String(requests), '-c', String(concurrency), url]);
  const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20 });
  const field = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  return {
    requestsPerSecond: field(/Requests per second:\s+([\d.]+)/),
    failed: field(/Failed requests:\s+(\d+)/),
    complete: field(/Complete requests:\s+(\d+)/),
  };
}

interface Measurement {
  name: string;
  cpuUsPerRequest: number[];
  requestsPerSecond: number[];
  failed: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3000' },
      servers: { type: 'string' },
      // stat: utime + stime from /proc/PID/stat (10 ms ticks); sched: the
      // scheduler's nanosecond run time, for runs too short for ticks.
      clock: { type: 'string', default: 'stat' },
      extra: { type: 'string' },
    },
  });
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const cpuUs = values.clock === 'sched' ? cpuTimeUs : statCpuUs;
  if (!existsSync('/usr/bin/ab')) throw new Error('ab is missing: apt-get install apache2-utils');

  const wanted = values.servers?.split(',');
  const chosen = helloServers().filter((s) => wanted === undefined || wanted.includes(s.name));
  // Extra servers to compare, as NAME=SCRIPT (a Node program taking --port).
  for (const extra of values.extra?.split(',') ?? []) {
    const [name, script] = extra.split('=') as [string, string];
    chosen.push({ name, kind: 'hand-written loop', command: async () => [process.execPath, [script, '--port', '0']] });
  }
  const running: Array<{ spec: HelloServer; server: ServerProcess; m: Measurement }> = [];
  // Interrupted, it still stops every server it started.
  const interrupt = () => void Promise.all(running.map(({ server }) => server.stop())).then(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    for (const spec of chosen) {
      const [cmd, args] = await spec.command();
      const server = await startServer(cmd, args, { cpu: SERVER_CPU });
      running.push({ spec, server, m: { name: spec.name, cpuUsPerRequest: [], requestsPerSecond: [], failed: 0 } });
    }
    // JIT, caches and the listen queue warm up before anything is measured.
    for (const { server } of running) await ab(server.url, warmup, concurrency);
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no server always runs first or last.
      for (let k = 0; k < running.length; k++) {
        const { server, m } = running[(k + round) % running.length]!;
        const before = cpuUs(server.pid);
        const r = await ab(server.url, requests, concurrency);
        const after = cpuUs(server.pid);
        m.cpuUsPerRequest.push((after - before) / requests);
        m.requestsPerSecond.push(r.requestsPerSecond);
        m.failed += r.failed + (requests - r.complete);
      }
    }
  } finally {
    await Promise.all(running.map(({ server }) => server.stop()));
  }

  // Ratios are taken round by round, against the C server's run of the same
  // round (minutes apart at most), then the median: drift in the machine's
  // load between rounds cancels out of each ratio.
  const reference = running.find((r) => r.spec.name === 'c-epoll')?.m;
  const ratioToC = (mine: number[], theirs: number[] | undefined) =>
    theirs === undefined ? NaN : median(mine.map((v, i) => v / theirs[i]!));
  console.log(`\nab -n ${requests} -c ${concurrency}, server on CPU ${SERVER_CPU}, ab on CPU ${CLIENT_CPU}; medians of ${rounds} rounds (ratios: median of per-round ratios)\n`);
  console.log('| server | CPU µs/request | (min–max) | × C epoll | requests/s | × C epoll | failed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const { m } of running) {
    const cpu = summarize(m.cpuUsPerRequest);
    const rps = median(m.requestsPerSecond);
    console.log(
      `| ${m.name} | ${fmt(cpu.median)} | ${fmt(cpu.min)}–${fmt(cpu.max)} | ` +
        `${ratioToC(m.cpuUsPerRequest, reference?.cpuUsPerRequest).toFixed(2)} | ` +
        `${rps.toFixed(0)} | ${ratioToC(m.requestsPerSecond, reference?.requestsPerSecond).toFixed(2)} | ${m.failed} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
