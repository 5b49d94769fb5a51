// Event delivery through the Reactor against C: a one-byte ping-pong between
// the two ends of a socketpair, both read ends reactor handlers, everything
// in one thread pinned to one core. Measured side by side in one run, in
// alternating rounds so that the machine's drift hits every program alike:
//   - C: epoll_wait + read + write in a loop (bench/c/pingpong.c)
//   - the reactor's run() (owns the thread, blocks in select)
//   - the reactor's attach() (woken by libuv inside Node's event loop)
// Reported: median round trips/s and CPU µs per round trip (user + system
// of the process), each as the median of per-round ratios to C.
//
//   node dist/bench/pingpong.js [--round-trips 100000] [--rounds 5] [--cpu 1] [--backend epoll]
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { EVENT_READ, Reactor, selectorClass, sys, type BackendName } from '../lib/index.js';
import { compileC } from './build-c.js';
import { pinned } from '../support/proc.js';
import { median } from './lib/stats.js';

const run = promisify(execFile);

interface Result {
  perSecond: number;
  cpuUsPerRoundTrip: number;
}

// One measurement in this process: `roundTrips` round trips, the handlers
// doing exactly what the C loop does (read one byte, write it back).
async function measure(mode: 'run' | 'attach', roundTrips: number, backend: string | undefined): Promise<Result> {
  const Selector = backend === undefined ? undefined : selectorClass(backend as BackendName);
  const reactor = new Reactor(Selector === undefined ? {} : { selector: new Selector() });
  const [a, b] = sys.socketpair();
  const buf = new Uint8Array(1);
  let count = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  reactor.addHandler(
    a,
    (fd) => {
      if (sys.read(fd, buf) === 1) sys.write(fd, buf);
    },
    EVENT_READ,
  );
  reactor.addHandler(
    b,
    (fd) => {
      if (sys.read(fd, buf) !== 1) return;
      if (++count === roundTrips) {
        reactor.removeHandler(a);
        reactor.removeHandler(b);
        finished();
      } else sys.write(fd, buf);
    },
    EVENT_READ,
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  sys.write(b, buf);
  if (mode === 'run') reactor.run();
  else {
    reactor.attach();
    await done;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  reactor.close();
  sys.close(a);
  sys.close(b);
  return { perSecond: roundTrips / seconds, cpuUsPerRoundTrip: (cpu.user + cpu.system) / roundTrips };
}

export interface PingPongOptions {
  roundTrips: number;
  rounds: number;
  /** The one CPU every program is pinned to. */
  cpu?: number;
  backend?: string;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export interface PingPongRow {
  name: string;
  /** Per round. */
  results: Result[];
  /** Medians of the per-round ratios to the C loop. */
  perSecondRatio: number;
  cpuRatio: number;
}

export interface PingPongReport {
  rows: PingPongRow[];
  markdown: string;
}

/** The C loop, run(), and attach(), alternating over the rounds; each row
 * with the median of its per-round ratios to C. */
export async function runPingPong(options: PingPongOptions): Promise<PingPongReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { roundTrips, rounds, cpu, backend } = options;
  const binary = await compileC('pingpong');
  const self = fileURLToPath(import.meta.url);
  const extra = backend === undefined ? [] : ['--backend', backend];
  const programs: Array<[string, () => Promise<Result>]> = [
    ['C epoll loop', async () => JSON.parse((await run(...pinned(cpu, binary, [String(roundTrips)]))).stdout) as Result],
    ...(['run', 'attach'] as const).map((mode): [string, () => Promise<Result>] => [
      `reactor ${mode}()`,
      async () => {
        const [cmd, args] = pinned(cpu, process.execPath, [self, '--child', mode, '--round-trips', String(roundTrips), ...extra]);
        return JSON.parse((await run(cmd, args)).stdout) as Result;
      },
    ]),
  ];
  const results = programs.map(() => [] as Result[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < programs.length; k++) {
      const i = (k + round) % programs.length;
      log(`ping-pong round ${round + 1}/${rounds}: ${programs[i]![0]}`);
      results[i]!.push(await programs[i]![1]());
    }
  }
  const c = results[0]!;
  const ratio = (mine: Result[], f: (r: Result) => number) => median(mine.map((r, i) => f(r) / f(c[i]!)));
  const rows = programs.map(([name], i) => ({
    name,
    results: results[i]!,
    perSecondRatio: ratio(results[i]!, (r) => r.perSecond),
    cpuRatio: ratio(results[i]!, (r) => r.cpuUsPerRoundTrip),
  }));
  const lines = [
    `A one-byte ping-pong over a socketpair, ${roundTrips} round trips, every program on ${cpu === undefined ? 'any CPU' : `CPU ${cpu}`}, backend ${backend ?? 'default'}; medians of ${rounds} rounds (ratios: median of per-round ratios to the C loop).`,
    '',
    '| program | round trips/s | × C | CPU µs/round trip | × C |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${median(r.results.map((x) => x.perSecond)).toFixed(0)} | ${r.perSecondRatio.toFixed(2)} | ` +
        `${median(r.results.map((x) => x.cpuUsPerRoundTrip)).toFixed(2)} | ${r.cpuRatio.toFixed(2)} |`,
    ),
  ];
  return { rows, markdown: lines.join('\n') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'round-trips': { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '5' },
      cpu: { type: 'string', default: '1' },
      backend: { type: 'string' },
      child: { type: 'string' },
    },
  });
  const roundTrips = Number(values['round-trips']);
  if (values.child === 'run' || values.child === 'attach') {
    // Warm the JIT on a tenth of the work, then measure.
    await measure(values.child, Math.ceil(roundTrips / 10), values.backend);
    console.log(JSON.stringify(await measure(values.child, roundTrips, values.backend)));
    return;
  }
  const report = await runPingPong({ roundTrips, rounds: Number(values.rounds), cpu: Number(values.cpu), ...(values.backend === undefined ? {} : { backend: values.backend }) });
  console.log(`\n${report.markdown}`);
}

// Run as a program (node dist/bench/pingpong.js), not when run.ts imports it;
// the children it starts are this program too.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
