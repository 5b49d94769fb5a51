// Event delivery through the Reactor against C: a one-byte ping-pong between
// two ends, both read ends reactor handlers, everything in one thread pinned
// to one core. Two transports: the two sides of a socketpair, and two pipes
// (a -> b over one, b -> a over the other), whose kernel path is cheaper and
// so leaves the reactor's own cost a larger share: the stricter baseline.
// Measured side by side in one run, in alternating rounds so that the
// machine's drift hits every program alike:
//   - C: epoll_wait + read + write in a loop (bench/c/pingpong.c [--pipes])
//   - the reactor's run() (owns the thread, blocks in select)
//   - the reactor's attach() (woken by libuv inside Node's event loop)
// Reported: median round trips/s and CPU µs per round trip (user + system
// of the process), each as the median of per-round ratios to the C loop of
// the same transport.
//
//   node dist/bench/pingpong.js [--round-trips 100000] [--rounds 5] [--cpu 1] [--backend epoll]
//                               [--transport socketpair,pipes]
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { availableBackends, EVENT_READ, Reactor, selectorClass, sys, type BackendName } from '../lib/index.js';
import { compileC } from './build-c.js';
import { pinned } from '../support/proc.js';
import { commandLine, nonNegativeInt, oneOf, positiveInt } from '../support/options.js';
import { median } from './lib/stats.js';

const run = promisify(execFile);

/** What the two ends talk over. */
export type Transport = 'socketpair' | 'pipes';
export const TRANSPORTS: readonly Transport[] = ['socketpair', 'pipes'];

interface Result {
  perSecond: number;
  cpuUsPerRoundTrip: number;
}

/** The fds of the two ends: end k reads rd[k] and writes wr[k]; `all` to close. */
function ends(transport: Transport): { rd: [number, number]; wr: [number, number]; all: number[] } {
  if (transport === 'socketpair') {
    const [a, b] = sys.socketpair();
    return { rd: [a, b], wr: [a, b], all: [a, b] };
  }
  const [abRead, abWrite] = sys.pipe();
  const [baRead, baWrite] = sys.pipe();
  // End 0 reads what end 1 wrote and answers over the other pipe.
  return { rd: [abRead, baRead], wr: [baWrite, abWrite], all: [abRead, abWrite, baRead, baWrite] };
}

// One measurement in this process: `roundTrips` round trips, the handlers
// doing exactly what the C loop does (read one byte, write it back).
async function measure(mode: 'run' | 'attach', transport: Transport, roundTrips: number, backend: string | undefined): Promise<Result> {
  const Selector = backend === undefined ? undefined : selectorClass(backend as BackendName);
  const reactor = new Reactor(Selector === undefined ? {} : { selector: new Selector() });
  const { rd, wr, all } = ends(transport);
  const [a, b] = rd;
  const [wa, wb] = wr;
  const buf = new Uint8Array(1);
  let count = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  reactor.addHandler(
    a,
    (fd) => {
      if (sys.read(fd, buf) === 1) sys.write(wa, buf);
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
      } else sys.write(wb, buf);
    },
    EVENT_READ,
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  sys.write(wb, buf);
  if (mode === 'run') reactor.run();
  else {
    reactor.attach();
    await done;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  reactor.close();
  for (const fd of all) sys.close(fd);
  return { perSecond: roundTrips / seconds, cpuUsPerRoundTrip: (cpu.user + cpu.system) / roundTrips };
}

export interface PingPongOptions {
  roundTrips: number;
  rounds: number;
  /** The one CPU every program is pinned to. */
  cpu?: number;
  backend?: string;
  /** The transports to measure, socketpair and pipes by default. */
  transports?: readonly Transport[];
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export interface PingPongRow {
  /** 'C epoll loop', 'reactor run()' or 'reactor attach()'. */
  name: string;
  transport: Transport;
  /** Per round. */
  results: Result[];
  /** Medians of the per-round ratios to the C loop of the same transport. */
  perSecondRatio: number;
  cpuRatio: number;
}

export interface PingPongReport {
  rows: PingPongRow[];
  markdown: string;
}

/** The C loop, run(), and attach() over each transport, alternating over
 * the rounds; each row with the median of its per-round ratios to the C loop
 * of its transport. */
export async function runPingPong(options: PingPongOptions): Promise<PingPongReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { roundTrips, rounds, cpu, backend } = options;
  const transports = options.transports ?? TRANSPORTS;
  const binary = await compileC('pingpong');
  const self = fileURLToPath(import.meta.url);
  const extra = backend === undefined ? [] : ['--backend', backend];
  interface Program {
    name: string;
    transport: Transport;
    measure: () => Promise<Result>;
  }
  const programs: Program[] = transports.flatMap((transport): Program[] => {
    const flag = transport === 'pipes' ? ['--pipes'] : [];
    return [
      {
        name: 'C epoll loop',
        transport,
        measure: async () => JSON.parse((await run(...pinned(cpu, binary, [...flag, String(roundTrips)]))).stdout) as Result,
      },
      ...(['run', 'attach'] as const).map((mode): Program => ({
        name: `reactor ${mode}()`,
        transport,
        measure: async () => {
          const argv = [self, '--child', mode, '--transport', transport, '--round-trips', String(roundTrips), ...extra];
          const [cmd, args] = pinned(cpu, process.execPath, argv);
          return JSON.parse((await run(cmd, args)).stdout) as Result;
        },
      })),
    ];
  });
  const results = programs.map(() => [] as Result[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < programs.length; k++) {
      const i = (k + round) % programs.length;
      log(`ping-pong round ${round + 1}/${rounds}: ${programs[i]!.name} over ${programs[i]!.transport}`);
      results[i]!.push(await programs[i]!.measure());
    }
  }
  const rows = programs.map((p, i): PingPongRow => {
    const c = results[programs.findIndex((q) => q.transport === p.transport && q.name === 'C epoll loop')]!;
    const ratio = (f: (r: Result) => number) => median(results[i]!.map((r, j) => f(r) / f(c[j]!)));
    return {
      name: p.name,
      transport: p.transport,
      results: results[i]!,
      perSecondRatio: ratio((r) => r.perSecond),
      cpuRatio: ratio((r) => r.cpuUsPerRoundTrip),
    };
  });
  const over = transports.length === 2 ? 'a socketpair and over two pipes (a → b over one, b → a over the other)' : transports[0] === 'pipes' ? 'two pipes (a → b over one, b → a over the other)' : 'a socketpair';
  const lines = [
    `A one-byte ping-pong over ${over}, ${roundTrips} round trips, every program on ${cpu === undefined ? 'any CPU' : `CPU ${cpu}`}, backend ${backend ?? 'default'}; ` +
      `medians of ${rounds} rounds (ratios: median of per-round ratios to the C loop of the same transport).`,
    '',
    '| transport | program | round trips/s | × C | CPU µs/round trip | × C |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.transport} | ${r.name} | ${median(r.results.map((x) => x.perSecond)).toFixed(0)} | ${r.perSecondRatio.toFixed(2)} | ` +
        `${median(r.results.map((x) => x.cpuUsPerRoundTrip)).toFixed(2)} | ${r.cpuRatio.toFixed(2)} |`,
    ),
  ];
  return { rows, markdown: lines.join('\n') };
}

async function main(): Promise<void> {
  const cli = commandLine('pingpong', 'node dist/bench/pingpong.js [options]', {
    'round-trips': { type: 'string', default: '100000', arg: 'N', help: 'round trips per measurement' },
    rounds: { type: 'string', default: '5', arg: 'R', help: 'rounds, each measuring every program' },
    cpu: { type: 'string', default: '1', arg: 'CPU', help: 'the CPU every program is pinned to' },
    backend: { type: 'string', arg: 'NAME', help: `the reactor's selector: ${availableBackends().join(', ')} (default: DefaultSelector)` },
    transport: { type: 'string', arg: 'A,B', help: `what the two ends talk over: ${TRANSPORTS.join(', ')} (default: both)` },
    child: { type: 'string', arg: 'MODE', help: 'measure one reactor mode alone, run or attach, and print the result as JSON (default: the whole comparison)' },
  });
  const { values } = cli;
  const roundTrips = cli.check(() => positiveInt('round-trips', values['round-trips']));
  const rounds = cli.check(() => positiveInt('rounds', values.rounds));
  const cpu = cli.check(() => nonNegativeInt('cpu', values.cpu));
  if (values.backend !== undefined) cli.check(() => oneOf('backend', values.backend!, availableBackends()));
  if (values.child !== undefined) cli.check(() => oneOf('child', values.child!, ['run', 'attach']));
  const transports = cli.check(() => (values.transport?.split(',') ?? TRANSPORTS).map((t) => oneOf('transport', t.trim(), TRANSPORTS)));
  if (values.child === 'run' || values.child === 'attach') {
    const transport = transports[0]!;
    // Warm the JIT on a tenth of the work, then measure.
    await measure(values.child, transport, Math.ceil(roundTrips / 10), values.backend);
    console.log(JSON.stringify(await measure(values.child, transport, roundTrips, values.backend)));
    return;
  }
  const report = await runPingPong({
    roundTrips,
    rounds,
    cpu,
    transports,
    ...(values.backend === undefined ? {} : { backend: values.backend }),
  });
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
