// Does a second worker process double the hello server's throughput? The
// reactor's hello server (examples/hello-reactor.ts) with --workers 1 and
// --workers 2 (N processes sharing one port through SO_REUSEPORT) under wrk,
// a new connection per request. After one warm-up run each, R rounds run the
// two configurations in turn (alternating which goes first). Per
// configuration: median requests/s, the 2-workers / 1-worker ratio (median of
// per-round ratios), the server's CPU µs per request summed over every
// process (the primary and the workers it forks, from
// /proc/PID/task/*/schedstat), how that CPU was spread over the workers (the
// kernel spreads the connections; a worker's CPU share stands for its share
// of the requests), and wrk's own CPU.
//
// CPU placement: with 4 or more CPUs the workers get CPUs 0..N-1 and wrk the
// rest (from CPU 2 on, the same for both configurations), so the ratio
// measures the server. With 2 or 3, 1 worker runs on CPU 0 and wrk on CPU 1;
// 2 workers and wrk share CPUs 0 and 1, so wrk takes CPU from the workers and
// the ratio cannot reach 2: the report says how far it can go, and shows
// what the machine can show instead, the server CPU per request with 1 and
// with 2 workers.
//
//   node dist/bench/workers.js [--rounds 5] [--duration 5] [--concurrency 20] [--warmup 2]
//                              [--style callbacks|generators|async] [--quick]
//
// Needs wrk (Debian: wrk). Listens on 127.0.0.1 only.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { packageRoot } from './build-c.js';
import { REACTOR_STYLES } from './lib/hello-servers.js';
import { missingLoadgen, runLoad } from './lib/load.js';
import { commandLine, oneOf, positiveInt } from '../support/options.js';
import { loadAverage1, machineCpuUs, machineInfo, machineLine } from './lib/machine.js';
import { childPids, cpuTimeUs, descendantPids, reapPids, startServer, type CpuSet, type ServerProcess } from '../support/proc.js';
import { fmt, median, pct, range, ratio, summarize } from './lib/stats.js';

/** The worker counts compared; the first is the reference. */
const WORKERS = [1, 2] as const;
/** The goal for 2 workers against 1, in requests/s. */
const GOAL = 1.7;
/** CPUs needed to give each worker and wrk cores of their own. */
const DEDICATED_CPUS = 4;
/** A process using more of its CPUs than this was the bottleneck. */
const SATURATED = 0.85;

interface Config {
  rounds: number;
  durationS: number;
  warmupS: number;
  concurrency: number;
  style: (typeof REACTOR_STYLES)[number];
  command: string;
}

function parseConfig(argv: string[]): Config {
  const cli = commandLine(
    'workers',
    'node dist/bench/workers.js [options]',
    {
      rounds: { type: 'string', arg: 'R', help: 'counted rounds, each running both configurations (default: 5; 2 with --quick)' },
      duration: { type: 'string', arg: 'S', help: 'seconds per wrk run (default: 5; 2 with --quick)' },
      warmup: { type: 'string', arg: 'S', help: 'seconds of the warm-up run of each configuration (default: 2; 1 with --quick)' },
      concurrency: { type: 'string', default: '20', arg: 'C', help: "wrk's connections" },
      style: { type: 'string', default: 'callbacks', arg: 'STYLE', help: `the hello server's style: ${REACTOR_STYLES.join(', ')}` },
      quick: { type: 'boolean', default: false, help: 'a short run: fewer and shorter rounds' },
    },
    argv,
  );
  const { values } = cli;
  return cli.check(() => configOf(values, argv));
}

function configOf(values: { rounds?: string; duration?: string; warmup?: string; concurrency: string; style: string; quick: boolean }, argv: string[]): Config {
  const quick = values.quick;
  return {
    rounds: positiveInt('rounds', values.rounds, quick ? 2 : 5),
    // Seconds: wrk takes whole ones.
    durationS: positiveInt('duration', values.duration, quick ? 2 : 5),
    warmupS: positiveInt('warmup', values.warmup, quick ? 1 : 2),
    concurrency: positiveInt('concurrency', values.concurrency),
    style: oneOf('style', values.style, REACTOR_STYLES),
    command: ['node dist/bench/workers.js', ...argv].join(' '),
  };
}

interface Placement {
  /** CPUs of the server and every worker it forks (undefined: not pinned). */
  server?: CpuSet;
  loadgen?: CpuSet;
  wrkThreads: number;
  /** Whether the workers and wrk have CPUs of their own. */
  dedicated: boolean;
}

function placement(cores: number, workers: number, concurrency: number): Placement {
  const max = Math.max(...WORKERS);
  if (cores >= DEDICATED_CPUS) {
    // wrk on the CPUs that no configuration's workers use, a thread per CPU.
    return {
      server: workers === 1 ? 0 : `0-${workers - 1}`,
      loadgen: `${max}-${cores - 1}`,
      wrkThreads: Math.min(cores - max, concurrency),
      dedicated: true,
    };
  }
  if (cores < 2) return { wrkThreads: 1, dedicated: false };
  return workers === 1
    ? { server: 0, loadgen: 1, wrkThreads: 1, dedicated: false }
    : { server: '0,1', loadgen: '0,1', wrkThreads: 1, dedicated: false };
}

function progress(line: string): void {
  process.stderr.write(`[workers] ${line}\n`);
}

interface Running {
  workers: number;
  placement: Placement;
  server: ServerProcess;
  /** The processes that serve: the primary itself with 1 worker, else its forked workers. */
  workerPids: number[];
  /** Every process of the server (primary and workers), whose CPU is the server's cost. */
  allPids: number[];
}

async function start(cfg: Config, workers: number, cores: number): Promise<Running> {
  const script = join(packageRoot(), 'dist', 'examples', 'hello-reactor.js');
  const where = placement(cores, workers, cfg.concurrency);
  const args = [script, '--style', cfg.style, '--host', '127.0.0.1', '--port', '0', '--workers', String(workers)];
  const server = await startServer(process.execPath, args, { cpu: where.server, timeoutMs: 20_000 });
  // The primary prints `listening on` once every worker listens: all are forked by now.
  const forked = workers === 1 ? [] : childPids(server.pid);
  const running: Running = {
    workers,
    placement: where,
    server,
    workerPids: workers === 1 ? [server.pid] : forked,
    allPids: [server.pid, ...forked],
  };
  if (running.workerPids.length !== workers) {
    await stopAll([running]);
    throw new Error(`hello-reactor --workers ${workers} runs ${forked.length} worker processes`);
  }
  progress(`started --workers ${workers}: pids ${running.allPids.join(', ')} at ${server.url}, server CPUs ${where.server ?? 'any'}, wrk CPUs ${where.loadgen ?? 'any'}`);
  return running;
}

/** Stops every server and makes sure that no worker outlives its primary. */
async function stopAll(running: readonly Running[]): Promise<void> {
  await Promise.all(running.map((r) => r.server.stop()));
  const killed = await reapPids(running.flatMap((r) => r.allPids));
  if (killed.length > 0) progress(`had to SIGKILL processes still running after their server stopped: ${killed.join(', ')}`);
}

interface Sample {
  round: number;
  requestsPerSecond: number;
  complete: number;
  failed: number;
  non200: number;
  elapsedS: number;
  /** CPU of every server process during the run, µs. */
  serverCpuUs: number;
  /** CPU of each worker during the run, µs. */
  workerCpuUs: number[];
  loadgenCpuUs: number;
  /** CPU the rest of the machine used during the run (other processes, and
   * interrupt work charged to no process), in cores. */
  otherCores: number;
  /** CPU nothing used during the run, in cores. */
  idleCores: number;
  valid: boolean;
}

async function measure(cfg: Config, r: Running, round: number, durationS: number): Promise<Sample> {
  const t0 = performance.now();
  const machine0 = machineCpuUs();
  const before = r.allPids.map(cpuTimeUs);
  const load = await runLoad('wrk', {
    url: r.server.url,
    requests: 0,
    concurrency: cfg.concurrency,
    durationS,
    cpu: r.placement.loadgen,
    threads: r.placement.wrkThreads,
    timeoutS: durationS + 30,
  });
  const used = r.allPids.map((pid, i) => cpuTimeUs(pid) - before[i]!);
  const machine1 = machineCpuUs();
  const machineUs = machine1.busy - machine0.busy;
  const wallUs = (performance.now() - t0) * 1000;
  const serverCpuUs = used.reduce((a, b) => a + b, 0);
  const byPid = new Map(r.allPids.map((pid, i) => [pid, used[i]!]));
  return {
    round,
    requestsPerSecond: load.requestsPerSecond,
    complete: load.complete,
    failed: load.failed,
    non200: load.non200,
    elapsedS: load.elapsedS,
    serverCpuUs,
    workerCpuUs: r.workerPids.map((pid) => byPid.get(pid)!),
    loadgenCpuUs: load.cpuUs,
    otherCores: Math.max(0, machineUs - serverCpuUs - load.cpuUs) / wallUs,
    idleCores: (machine1.total - machine0.total - machineUs) / wallUs,
    valid: load.failed === 0 && load.non200 === 0 && load.complete > 0,
  };
}

const perRequest = (us: number, s: Sample) => us / s.complete;

function describe(workers: number, s: Sample): string {
  const shares = s.workerCpuUs.length > 1 ? `, per worker ${s.workerCpuUs.map((us) => pct(us / s.serverCpuUs)).join(' / ')}` : '';
  return (
    `--workers ${workers} round ${s.round}: ${fmt(s.requestsPerSecond)} req/s, server ${fmt(perRequest(s.serverCpuUs, s))} µs/req ` +
    `(${fmt(s.serverCpuUs / 1e6 / s.elapsedS, 2)} cores${shares}), wrk ${fmt(perRequest(s.loadgenCpuUs, s))} µs/req ` +
    `(${fmt(s.loadgenCpuUs / 1e6 / s.elapsedS, 2)} cores), rest of the machine ${fmt(s.otherCores, 2)} cores, idle ${fmt(s.idleCores, 2)} cores` +
    (s.valid ? '' : `, INVALID: ${s.failed} failed, ${s.non200} non-2xx`)
  );
}

/** The median over rounds of this configuration's figure divided by the reference's of the same round. */
function pairedRatio(mine: Sample[], reference: Sample[], figure: (s: Sample) => number): number {
  const ratios: number[] = [];
  for (const s of mine) {
    const ref = reference.find((r) => r.round === s.round);
    if (ref !== undefined) ratios.push(figure(s) / figure(ref));
  }
  return median(ratios);
}

interface Row {
  workers: number;
  placement: Placement;
  valid: Sample[];
  runs: number;
  failed: number;
  rps: ReturnType<typeof summarize>;
  serverUsPerRequest: number;
  serverCores: number;
  /** Median share of the server's CPU per worker, in worker order. */
  shares: number[];
  loadgenUsPerRequest: number;
  loadgenCores: number;
  otherCores: number;
  idleCores: number;
}

function summarizeConfig(workers: number, where: Placement, samples: Sample[]): Row {
  const valid = samples.filter((s) => s.valid);
  const med = (f: (s: Sample) => number) => median(valid.map(f));
  return {
    workers,
    placement: where,
    valid,
    runs: samples.length,
    failed: samples.reduce((n, s) => n + s.failed + s.non200, 0),
    rps: summarize(valid.map((s) => s.requestsPerSecond)),
    serverUsPerRequest: med((s) => perRequest(s.serverCpuUs, s)),
    serverCores: med((s) => s.serverCpuUs / 1e6 / s.elapsedS),
    shares: Array.from({ length: workers }, (_, i) => med((s) => s.workerCpuUs[i]! / s.serverCpuUs)),
    loadgenUsPerRequest: med((s) => perRequest(s.loadgenCpuUs, s)),
    loadgenCores: med((s) => s.loadgenCpuUs / 1e6 / s.elapsedS),
    otherCores: med((s) => s.otherCores),
    idleCores: med((s) => s.idleCores),
  };
}

function cpus(set: CpuSet | undefined): string {
  return set === undefined ? 'any' : String(set);
}

function report(cfg: Config, cores: number, rows: Row[]): string {
  const [one, two] = rows as [Row, Row];
  const rpsRatio = pairedRatio(two.valid, one.valid, (s) => s.requestsPerSecond);
  const cpuRatio = pairedRatio(two.valid, one.valid, (s) => perRequest(s.serverCpuUs, s));
  const lines = [
    `hello-reactor --style ${cfg.style}, \`wrk -c${cfg.concurrency} -d${cfg.durationS}s -H 'Connection: close'\` (a new connection per request) on 127.0.0.1; ` +
      `one ${cfg.warmupS} s warm-up run each, then ${cfg.rounds} rounds alternating the two; medians over valid runs, ratios are medians of per-round ratios.`,
    '',
    '| workers | server CPUs | wrk CPUs (threads) | requests/s | min–max | × 1 worker | server CPU µs/request (all processes) | × 1 worker | server CPU (cores) | CPU share per worker | wrk CPU µs/request | wrk CPU (cores) | rest of machine (cores) | valid runs | failed |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const isRef = r === one;
    lines.push(
      `| ${r.workers} | ${cpus(r.placement.server)} | ${cpus(r.placement.loadgen)} (${r.placement.wrkThreads}) | ${fmt(r.rps.median)} | ${range(r.rps)} ` +
        `| ${isRef ? '1.00×' : `${rpsRatio.toFixed(2)}×`} | ${fmt(r.serverUsPerRequest)} | ${isRef ? '1.00×' : `${cpuRatio.toFixed(2)}×`} ` +
        `| ${fmt(r.serverCores, 2)} | ${r.shares.map(pct).join(' / ')} | ${fmt(r.loadgenUsPerRequest)} | ${fmt(r.loadgenCores, 2)} | ${fmt(r.otherCores, 2)} ` +
        `| ${r.valid.length}/${r.runs} | ${r.failed} |`,
    );
  }
  lines.push(
    '',
    'Server CPU is the run time of every thread of the primary and of each worker it forked (/proc/PID/task/*/schedstat), divided by the replies; ' +
      'the share per worker is how that CPU split between the workers, a stand-in for how the kernel spread the connections. ' +
      '"rest of machine" is the busy CPU of the whole machine (/proc/stat) beyond the server and wrk: other processes, and interrupt work charged to neither.',
    '',
  );
  const verdict = `2 workers served ${rpsRatio.toFixed(2)}× the requests/s of 1 worker (goal ≥ ${GOAL}×)`;
  if (one.placement.dedicated) {
    const wrkBound = two.loadgenCores >= SATURATED * two.placement.wrkThreads;
    lines.push(
      `${verdict}: ${rpsRatio >= GOAL ? 'met' : 'not met'}.` +
        (wrkBound ? ` wrk used ${fmt(two.loadgenCores, 2)} of its ${two.placement.wrkThreads} threads' CPUs: the load generator, not the server, may have set the 2-worker figure.` : ''),
    );
  } else {
    // The most requests/s each configuration can reach on CPU alone: 1
    // worker and wrk each on a CPU of their own, whichever costs more per
    // request sets the pace; 2 workers and wrk share the CPUs, each request
    // costing both.
    const shared = Math.min(cores, 2);
    const max1 = 1e6 / Math.max(one.serverUsPerRequest, one.loadgenUsPerRequest);
    const max2 = (shared * 1e6) / (two.serverUsPerRequest + two.loadgenUsPerRequest);
    const ceiling = max2 / max1;
    const limited1 = one.serverCores < SATURATED && one.loadgenCores < SATURATED;
    lines.push(
      `${verdict}. This machine has ${cores} CPU${cores === 1 ? '' : 's'} and the load generator needs one too: ` +
        `wrk spends ${fmt(one.loadgenUsPerRequest)} µs of CPU per request, the 1-worker server ${fmt(one.serverUsPerRequest)}. ` +
        `With 1 worker on CPU ${cpus(one.placement.server)} and wrk on CPU ${cpus(one.placement.loadgen)}, the slower of the two caps requests/s at ${fmt(max1)}; ` +
        `with 2 workers and wrk sharing CPUs ${cpus(two.placement.server)}, every request costs both (${fmt(two.serverUsPerRequest)} + ${fmt(two.loadgenUsPerRequest)} µs), ` +
        `which caps requests/s at ${fmt(max2)}. So even on an otherwise idle machine the ratio can be at most ${ceiling.toFixed(2)}×` +
        (ceiling < GOAL ? `: this machine cannot show ${GOAL}×.` : '.'),
    );
    lines.push(
      '',
      `During the runs the 1-worker server used ${pct(one.serverCores)} of its CPU and wrk ${pct(one.loadgenCores)} of its; ` +
        `the rest of the machine took ${fmt(one.otherCores, 2)} cores (1 worker) and ${fmt(two.otherCores, 2)} cores (2 workers), ` +
        `and ${fmt(one.idleCores, 2)} and ${fmt(two.idleCores, 2)} cores were idle.` +
        (limited1
          ? ` Neither 1-worker process reached ${pct(SATURATED)} of its CPU (${fmt(one.rps.median)} of a possible ${fmt(max1)} requests/s): ` +
            'pinned to one CPU each, they wait for each other through loopback TCP and for whatever else runs on their CPU, ' +
            'while 2 workers and wrk can move to whichever CPU is free' +
            (rpsRatio > ceiling ? ', which is how the measured ratio exceeds the ceiling.' : '.')
          : ''),
    );
  }
  const capacityRatio = 2 / cpuRatio;
  lines.push(
    '',
    `What this machine can show: the server spends ${fmt(one.serverUsPerRequest)} µs of CPU per request with 1 worker and ${fmt(two.serverUsPerRequest)} µs with 2 ` +
      `(${cpuRatio.toFixed(2)}×, all processes counted), i.e. ${fmt(1e6 / one.serverUsPerRequest)} vs ${fmt(1e6 / two.serverUsPerRequest)} requests per server CPU-second. ` +
      (Math.abs(cpuRatio - 1) <= 0.1
        ? 'Sharing the port through SO_REUSEPORT costs no measurable CPU per request'
        : `A request costs ${Math.round(Math.abs(cpuRatio - 1) * 100)}% ${cpuRatio > 1 ? 'more' : 'less'} CPU with 2 workers ` +
          '(this figure does not separate a cost of sharing the port from that of each worker carrying half the load, ' +
          `so handling fewer connections per wake-up${one.placement.dedicated ? '' : ', nor from sharing CPUs with wrk'})`) +
      `, so with a CPU per worker and CPUs to spare for the load generator, 2 workers would serve up to ${capacityRatio.toFixed(2)}× the requests/s of 1 ` +
      `(2 ÷ ${cpuRatio.toFixed(2)}).`,
  );
  return lines.join('\n');
}

/** Set on SIGINT/SIGTERM: the handler stops everything and exits 130. */
let interrupted = false;

async function main(): Promise<number> {
  const cfg = parseConfig(process.argv.slice(2));
  const missing = missingLoadgen('wrk');
  if (missing !== undefined) {
    console.error(`bench/workers: ${missing}`);
    return 1;
  }
  const cores = availableParallelism();
  const machine = machineInfo();
  progress(machineLine(machine));
  const running: Running[] = [];
  let stopping: Promise<void> | undefined;
  const cleanup = () => (stopping ??= stopAll(running));
  // Interrupted, it still stops every server and worker it started, and
  // the load generator of the run under way.
  const interrupt = () => {
    interrupted = true;
    void cleanup().then(async () => {
      const left = descendantPids(process.pid);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Gone already.
        }
      }
      await reapPids(left, 1000);
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const samples = new Map<number, Sample[]>(WORKERS.map((n) => [n, []]));
  try {
    for (const n of WORKERS) running.push(await start(cfg, n, cores));
    for (const r of running) {
      progress(`warming up --workers ${r.workers}: ${cfg.warmupS} s`);
      await measure(cfg, r, 0, cfg.warmupS);
    }
    for (let round = 1; round <= cfg.rounds; round++) {
      // Alternate which configuration goes first, so that neither always
      // follows the other.
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const r of order) {
        const s = await measure(cfg, r, round, cfg.durationS);
        samples.get(r.workers)!.push(s);
        progress(describe(r.workers, s));
      }
    }
  } finally {
    await cleanup();
  }
  machine.loadAverage.push(loadAverage1());
  const rows = running.map((r) => summarizeConfig(r.workers, r.placement, samples.get(r.workers)!));
  console.log(`\nCommand: \`${cfg.command}\`\n\nMachine: ${machineLine(machine)}.\n`);
  console.log(report(cfg, cores, rows));
  return rows.every((r) => r.valid.length > 0) ? 0 : 1;
}

main().then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  (err) => {
    if (interrupted) return; // the run under way failed because it was stopped
    // A bad option is the user's mistake, not a crash: no stack trace.
    console.error(err instanceof RangeError ? `bench/workers: ${err.message}` : err);
    process.exit(1);
  },
);
