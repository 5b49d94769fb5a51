// `npm run bench`: the project's benchmark, side by side in one run.
//
// 1. Selector micro-benchmarks (bench/micro.ts): the cost of one select()
//    with 1 ready fd among 1 .. 10,000 registered fds per backend (the C10K
//    curve), and of register/unregister and modify, each against a C loop
//    doing the same syscalls.
// 2. The classic hello-world table: every server of bench/lib/hello-servers.ts
//    pinned to one core, the load generator (bench/c/loadgen.c, or ab, or wrk)
//    on the other, a new connection per request with 10 in flight. After a
//    warm-up, rounds go round the servers in turn (rotating the order), each
//    server once per round (bench/lib/rounds.ts). Per server: the median over
//    the rounds of its CPU µs per request (the server's own CPU time from
//    /proc) divided by the C server's in the same round, with min–max, then
//    median CPU µs/request and requests/s, failed and non-200 replies. A run
//    with any failure is invalid; a run during which other work took more
//    than --quiet % of the server's core (bench/lib/quiet.ts) is noisy; both
//    are left out, and more rounds run until every server has R rounds
//    paired with the C server's (at most --max-rounds).
// 3. The keep-alive table: the C epoll keep-alive server, the hand-written
//    epoll loop, the reactor's styles, node:net, a minimal node:net keep-alive
//    server and node:http, each started with --keep-alive, pinned to one
//    core, loaded by `wrk -t1 -c50` (HTTP/1.1, every connection kept) on the
//    other for a fixed duration per run, in rounds as in 2. Per server: the
//    paired ratio to the C server, median server CPU µs per request
//    (schedstat), requests/s, requests per connection. A server that does not keep a connection (a
//    pipelined probe before the runs) is skipped; a run in which the server
//    closed a kept connection is invalid.
// 4. The embedded load generator's own CPU per request against ab and wrk.
//
// Besides, the event delivery through the reactor (bench/pingpong.ts), the
// datagram echo servers (bench/dgram.ts) and the database round trip
// (bench/db.ts). --only runs some sections alone
// (`npm run bench:hello` is `--only hello` under ab).
//
// Results: a markdown table on stdout and in bench/results/latest.md (quick
// runs: quick.md; --only runs: only-SECTIONS.md), the same as JSON, and PNG
// charts beside them.
//
//   npm run bench [-- --quick] [--loadgen embedded|ab|wrk] [--servers a,b] [--requests N] [--runs R] [--max-rounds R]
//                 [--quiet PCT] [--quiet-wait S]
//                 [--concurrency C] [--warmup N] [--skip-micro] [--skip-pingpong] [--skip-servers] [--skip-dgram] [--skip-db]
//                 [--only micro,pingpong,hello,keepalive,loadgens,dgram,db] [--clock sched|stat] [--extra NAME=SCRIPT,...]
//                 [--skip-keepalive] [--keepalive-seconds S] [--keepalive-connections C]
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './build-c.js';
import { writeCharts, type Charts } from './lib/charts.js';
import { C_SERVER, discoverHelloServers, KEEPALIVE_SERVERS, NET_MINIMAL, type CommandOptions, type HelloServer, type ServerKind } from './lib/hello-servers.js';
import { LOADGENS, missingLoadgen, probeKeepAlive, runLoad, type LoadgenName, type LoadOptions } from './lib/load.js';
import { loadAverage1, machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { cpuTimeUs, pinned, startServer, statCpuUs, type ServerProcess } from '../support/proc.js';
import { measureRounds, pairedByRound, pairedRatios, type RoundsReport, type Sample } from './lib/rounds.js';
import type { QuietOptions } from './lib/quiet.js';
import { commandLine, nonNegativeInt, numberIn, oneOf, positiveInt as int, type CommandLine, type OptionSpecs } from '../support/options.js';
import { fmt, pct, range, ratio, summarize, type Summary } from './lib/stats.js';
import { microTables, type MicroResult, type MicroRow } from './micro.js';
import { runDbBench, type DbReport } from './db.js';
import { runDgramBench, type DgramReport } from './dgram.js';
import { runPingPong, type PingPongReport, type Transport } from './pingpong.js';

/** A run whose load generator used more of its core than this was limited by it. */
const SATURATED = 0.85;

/** The sections of a run, in the order they run. */
const SECTIONS = ['micro', 'pingpong', 'hello', 'keepalive', 'loadgens', 'dgram', 'db'] as const;
type Section = (typeof SECTIONS)[number];

/** How a server's CPU time is read: the scheduler's nanosecond run time, or
 * utime + stime in clock ticks (10 ms at USER_HZ = 100), too coarse for short runs. */
const CLOCKS = {
  sched: { read: cpuTimeUs, source: "every thread's run time from /proc/PID/task/*/schedstat" },
  stat: { read: statCpuUs, source: 'utime + stime from /proc/PID/stat, in clock ticks' },
} as const;
type ClockName = keyof typeof CLOCKS;

interface Config {
  quick: boolean;
  loadgen: LoadgenName;
  servers?: string[];
  requests: number;
  runs: number;
  concurrency: number;
  warmup: number;
  micro: boolean;
  /** Event delivery through the reactor (bench/pingpong.ts). */
  pingpong: boolean;
  hello: boolean;
  /** The keep-alive table (wrk, HTTP/1.1 kept connections). */
  keepalive: boolean;
  /** Seconds per keep-alive run (wrk -d), and wrk's connections (-c). */
  keepaliveSeconds: number;
  keepaliveConnections: number;
  /** Keep each server's first process for the whole table instead of a
   * fresh one per round. */
  sameProcess: boolean;
  /** The hello table's offered rate, connections per second (the embedded
   * load generator's -r; 0: as fast as replies come). */
  rate: number;
  /** ms each kept connection waits after a reply before its next request
   * (wrk's delay(); 0: none). */
  keepaliveDelay: number;
  /** Each load generator's own cost, against the C server. */
  loadgens: boolean;
  /** The UDP echo servers (bench/dgram.ts). */
  dgram: boolean;
  /** The database round trip (bench/db.ts). */
  db: boolean;
  /** The sections --only picked, when it was given. */
  only?: Section[];
  clock: ClockName;
  /** A run counts only when other work took less than this share (0..1) of
   * the server's core; 1: every run counts. */
  quietThreshold: number;
  /** How long a run waits for the server's core to be quiet, ms. */
  quietWaitMs: number;
  /** The most rounds a table runs to get `runs` counted ones per server. */
  maxRounds: number;
  /** More hello servers to compare: Node programs that take --port. */
  extra: Array<{ name: string; script: string }>;
  serverCpu?: number;
  clientCpu?: number;
  command: string;
}

/** The command line of `npm run bench`. */
const OPTIONS = {
  quick: { type: 'boolean', default: false, help: 'a short run: fewer requests, runs and warm-up, 1 s keep-alive runs' },
  loadgen: { type: 'string', default: 'embedded', arg: 'NAME', help: `the load generator of the hello table: ${LOADGENS.join(', ')}` },
  servers: { type: 'string', arg: 'A,B', help: 'only these hello servers, by name (default: all)' },
  requests: { type: 'string', arg: 'N', help: 'requests per counted run (default: 20000; 3000 with --quick)' },
  runs: { type: 'string', arg: 'R', help: 'counted rounds per server (default: 7; 3 with --quick)' },
  'max-rounds': { type: 'string', arg: 'R', help: 'the most rounds a table runs to get R counted ones per server (default: 2 × R)' },
  quiet: { type: 'string', default: '15', arg: 'PCT', help: "a run counts only when other work took less than PCT% of the server's core; 100: every run counts" },
  'quiet-wait': { type: 'string', default: '5', arg: 'S', help: "before each run, wait up to S seconds for the server's core to be quiet" },
  concurrency: { type: 'string', default: '10', arg: 'C', help: 'requests in flight' },
  warmup: { type: 'string', arg: 'N', help: 'warm-up requests per server (default: 5000; 1000 with --quick)' },
  'skip-micro': { type: 'boolean', default: false, help: 'leave out the selector micro-benchmarks' },
  'skip-pingpong': { type: 'boolean', default: false, help: 'leave out the reactor ping-pong' },
  'skip-servers': { type: 'boolean', default: false, help: 'leave out the hello, keep-alive and load generator tables' },
  'skip-dgram': { type: 'boolean', default: false, help: 'leave out the UDP echo servers' },
  'skip-db': { type: 'boolean', default: false, help: 'leave out the database round trip' },
  'skip-keepalive': { type: 'boolean', default: false, help: 'leave out the keep-alive table' },
  'keepalive-seconds': { type: 'string', arg: 'S', help: 'seconds per keep-alive run (default: 3; 1 with --quick)' },
  'keepalive-connections': { type: 'string', arg: 'C', help: "wrk's kept connections (default: 50)" },
  'same-process': { type: 'boolean', default: false, help: 'the hello, keep-alive and datagram tables: keep each server\'s first process for every round instead of starting a fresh one per round (faster; the medians then describe one process)' },
  rate: { type: 'string', arg: 'N', help: 'the hello table, embedded load generator only: start at most N connections per second, a fixed offered rate, every server below its limit; 0: as fast as replies come (default: 0)' },
  'keepalive-delay': { type: 'string', arg: 'MS', help: 'ms each kept connection waits after a reply before the next request: a fixed offered rate, every server below its limit; 0: as fast as client and server go (default: 0)' },
  only: { type: 'string', arg: 'A,B', help: `run only these sections: ${SECTIONS.join(', ')} (default: all)` },
  clock: { type: 'string', default: 'sched', arg: 'CLOCK', help: "how a server's CPU time is read: sched (schedstat, ns) or stat (utime + stime, clock ticks)" },
  extra: { type: 'string', arg: 'NAME=SCRIPT,...', help: 'more hello servers to compare: Node programs that take --port (default: none)' },
} as const satisfies OptionSpecs;

function parseConfig(argv: string[]): Config {
  const cli = commandLine('bench', 'npm run bench [-- options]\n       node dist/bench/run.js [options]', OPTIONS, argv);
  return cli.check(() => configOf(cli.values, argv));
}

/** The Config the options say; a RangeError names a bad value. */
function configOf(values: CommandLine<typeof OPTIONS>['values'], argv: string[]): Config {
  const quick = values.quick;
  const cores = availableParallelism();
  const only = values.only?.split(',').map((s) => oneOf('only', s.trim(), SECTIONS));
  const wanted = (section: Section, skip: boolean) => !skip && (only === undefined || only.includes(section));
  const extra = (values.extra?.split(',') ?? []).map((entry) => {
    const [name, script] = entry.split('=');
    if (!name || !script) throw new RangeError(`--extra takes NAME=SCRIPT,..., got ${entry}`);
    return { name, script };
  });
  const loadgen = oneOf('loadgen', values.loadgen, LOADGENS);
  if (values.rate !== undefined && loadgen !== 'embedded') throw new RangeError(`--rate needs the embedded load generator (ab and wrk cannot pace new connections), got --loadgen ${loadgen}`);
  return {
    quick,
    loadgen,
    servers: values.servers?.split(',').map((s) => s.trim()),
    requests: int('requests', values.requests, quick ? 3000 : 20000),
    runs: int('runs', values.runs, quick ? 3 : 7),
    maxRounds: int('max-rounds', values['max-rounds'], 2 * int('runs', values.runs, quick ? 3 : 7)),
    quietThreshold: numberIn('quiet', values.quiet, 0, 100) / 100,
    quietWaitMs: numberIn('quiet-wait', values['quiet-wait'], 0, 600) * 1000,
    concurrency: int('concurrency', values.concurrency, 10),
    warmup: int('warmup', values.warmup, quick ? 1000 : 5000),
    micro: wanted('micro', values['skip-micro']),
    pingpong: wanted('pingpong', values['skip-pingpong']),
    hello: wanted('hello', values['skip-servers']),
    keepalive: wanted('keepalive', values['skip-servers'] || values['skip-keepalive']),
    keepaliveSeconds: int('keepalive-seconds', values['keepalive-seconds'], quick ? 1 : 3),
    keepaliveConnections: int('keepalive-connections', values['keepalive-connections'], 50),
    sameProcess: values['same-process'],
    rate: nonNegativeInt('rate', values.rate, 0),
    keepaliveDelay: nonNegativeInt('keepalive-delay', values['keepalive-delay'], 0),
    loadgens: wanted('loadgens', values['skip-servers']),
    dgram: wanted('dgram', values['skip-dgram']),
    db: wanted('db', values['skip-db']),
    only,
    clock: oneOf('clock', values.clock, ['sched', 'stat']),
    extra,
    // Server on CPU 0, load generator on CPU 1; with one core, no pinning.
    serverCpu: cores >= 2 ? 0 : undefined,
    clientCpu: cores >= 2 ? 1 : undefined,
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
  };
}

/** How measureRounds filters runs on this run's settings: the server's core
 * must be quiet (none without pinning, or with --quiet 100). */
function quietOptions(cfg: Config): QuietOptions | undefined {
  if (cfg.serverCpu === undefined || cfg.quietThreshold >= 1) return undefined;
  return { cpu: cfg.serverCpu, threshold: cfg.quietThreshold, maxWaitMs: cfg.quietWaitMs };
}

/** A progress line's note on a run's other load and whether it counted. */
function loadNote(r: RunRecord): string {
  if (!Number.isFinite(r.otherLoad)) return '';
  return `, other load on its core ${pct(Math.max(0, r.otherLoad))}${r.quiet ? '' : ': NOISY, not counted'}`;
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---- 1. micro-benchmarks, in a child pinned to one core ----

async function runMicroPinned(cfg: Config): Promise<MicroResult> {
  const script = join(packageRoot(), 'dist', 'bench', 'micro.js');
  const [cmd, args] = pinned(cfg.clientCpu, process.execPath, [script, '--json', ...(cfg.quick ? ['--quick'] : [])]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line) progress(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`the micro-benchmarks failed (exit ${code})`);
  return JSON.parse(stdout) as MicroResult;
}

// ---- 2. the hello-world servers ----

interface RunRecord {
  run: number;
  requestsPerSecond: number;
  serverCpuUsPerRequest: number;
  /** Share of one core the server / load generator used during the run. */
  serverUtilization: number;
  clientUtilization: number;
  clientCpuUsPerRequest: number;
  /** Keep-alive runs: replies per connection, and connections the server closed. */
  requestsPerConnection?: number;
  closedByServer?: number;
  complete: number;
  failed: number;
  non200: number;
  unfinished: number;
  valid: boolean;
  /** The share of the server's core other work took during the run (NaN: not measured). */
  otherLoad: number;
  /** Below the --quiet threshold: only runs valid and quiet count. */
  quiet: boolean;
  /** The C server's CPU µs per request in its runs just around this one (NaN: neither counted). */
  referenceCpuUsPerRequest?: number;
}

interface ServerResult {
  name: string;
  kind: ServerKind;
  runs: RunRecord[];
}

interface ServerSummary {
  name: string;
  kind: ServerKind;
  /** Runs valid and quiet, which count. */
  validRuns: number;
  /** Runs with a failed request (or a closed kept connection). */
  invalidRuns: number;
  /** Valid runs dropped because the server's core was busy with other work. */
  noisyRuns: number;
  /** CPU µs per request / the C server's, per round in which both counted:
   * the comparison this benchmark is for (see rounds.ts). */
  cpuRatio: Summary;
  requestsPerSecond: Summary;
  cpuUsPerRequest: Summary;
  serverUtilization: number;
  clientUtilization: number;
  failed: number;
  non200: number;
  limitedBy: 'load generator' | 'server' | 'neither';
  /** Keep-alive runs: median replies per connection over the valid runs. */
  requestsPerConnection?: number;
}

function loadOptions(cfg: Config, url: string, requests: number): LoadOptions {
  return {
    url,
    requests,
    concurrency: cfg.concurrency,
    durationS: cfg.quick ? 1 : 3,
    cpu: cfg.clientCpu,
    timeoutS: Math.ceil(30 + requests / 200),
  };
}

/** The hello table's load: loadOptions at the table's offered rate. */
function helloLoad(cfg: Config, url: string, requests: number): LoadOptions {
  return { ...loadOptions(cfg, url, requests), rate: cfg.rate };
}

/** One counted run as the report keeps it: the load, and what the server spent meanwhile. */
function record(sample: Sample): RunRecord {
  const { load } = sample;
  const serverUs = sample.cpuUs[0]!;
  const done = load.complete + load.failed;
  const kept = load.connections === undefined ? {} : { requestsPerConnection: load.complete / load.connections, closedByServer: load.closedByServer ?? 0 };
  return {
    run: sample.run,
    requestsPerSecond: load.requestsPerSecond,
    serverCpuUsPerRequest: sample.cpuUsPerRequest[0]!,
    serverUtilization: serverUs / 1e6 / load.elapsedS,
    clientUtilization: load.cpuUs / 1e6 / load.elapsedS,
    clientCpuUsPerRequest: done > 0 ? load.cpuUs / done : NaN,
    complete: load.complete,
    failed: load.failed,
    non200: load.non200,
    unfinished: load.unfinished,
    ...kept,
    valid: sample.valid,
    otherLoad: sample.otherLoad,
    quiet: sample.quiet,
    ...(sample.referenceCpuUsPerRequest === undefined ? {} : { referenceCpuUsPerRequest: sample.referenceCpuUsPerRequest }),
  };
}

interface Running {
  spec: HelloServer;
  /** The server's current process (a new one after each restart). */
  server: ServerProcess;
  result: ServerResult;
}

/** Replaces `r`'s server process with a fresh one, as startAll started it
 * (the keep-alive probe passed for the first). */
async function restart(r: Running, cfg: Config, options: CommandOptions = {}): Promise<void> {
  await r.server.stop();
  const [cmd, args] = await r.spec.command(options);
  r.server = await startServer(cmd, args, { cpu: cfg.serverCpu });
}

/** `r` as a subject of measureRounds: its current process's pid, and a
 * restart that replaces that process (with the command `options` give). */
function restartable<L>(r: Running, cfg: Config, name: string, load: (requests: number) => Promise<L>, options: CommandOptions = {}) {
  return {
    spec: r.spec,
    result: r.result,
    name,
    get pids() {
      return [r.server.pid];
    },
    restart: () => restart(r, cfg, options),
    load,
  };
}

async function startAll(specs: HelloServer[], cfg: Config, skipped: string[], options: CommandOptions = {}): Promise<Running[]> {
  const running: Running[] = [];
  const label = (spec: HelloServer) => (options.keepAlive ? `${spec.name} --keep-alive` : spec.name);
  for (const spec of specs) {
    try {
      const [cmd, args] = await spec.command(options);
      const server = await startServer(cmd, args, { cpu: cfg.serverCpu });
      // A keep-alive server that closes the connection anyway would turn the
      // table into a connection-per-request one: check before it counts.
      const notKept = options.keepAlive ? await probeKeepAlive(server.url) : undefined;
      if (notKept !== undefined) {
        await server.stop();
        throw new Error(`does not keep the connection: ${notKept}`);
      }
      running.push({ spec, server, result: { name: spec.name, kind: spec.kind, runs: [] } });
      progress(`started ${label(spec)} (pid ${server.pid}) at ${server.url}`);
    } catch (err) {
      skipped.push(`${label(spec)}: did not start: ${(err as Error).message.split('\n')[0]}`);
      progress(`skipped ${label(spec)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return running;
}

async function runServers(cfg: Config, skipped: string[]): Promise<{ results: ServerResult[]; loadgens: LoadgenComparison[]; rounds?: RoundsReport }> {
  const found = discoverHelloServers();
  skipped.push(...found.skipped);
  // The load generators alone need only the C server.
  const specs = found.servers.filter(
    (s) => s.name === C_SERVER || (cfg.hello && !s.keepAliveOnly && (cfg.servers === undefined || cfg.servers.includes(s.name))),
  );
  if (cfg.hello) {
    for (const { name, script } of cfg.extra) {
      specs.push({ name, kind: 'hand-written loop', command: async () => [process.execPath, [script, '--port', '0']] });
    }
  }
  const running = await startAll(specs, cfg, skipped);
  try {
    const reference = running.find((r) => r.spec.name === C_SERVER);
    const loadgens = cfg.loadgens && reference ? await compareLoadgens(cfg, reference.server) : [];
    if (!cfg.hello) return { results: [], loadgens };
    const subjects = running.map((r) => restartable(r, cfg, r.spec.name, (requests) => runLoad(cfg.loadgen, helloLoad(cfg, r.server.url, requests))));
    const rounds = await measureRounds(subjects, {
      runs: cfg.runs,
      maxRounds: cfg.maxRounds,
      requests: cfg.requests,
      warmup: cfg.warmup,
      clock: CLOCKS[cfg.clock].read,
      quiet: quietOptions(cfg),
      bracket: true,
      restart: cfg.sameProcess ? undefined : (s) => s.restart(),
      reference: subjects.find((s) => s.name === C_SERVER),
      log: progress,
      onSample: ({ spec, result }, sample) => {
        const r = record(sample);
        result.runs.push(r);
        progress(
          `${spec.name} round ${r.run}: ${fmt(r.requestsPerSecond)} req/s, server ${fmt(r.serverCpuUsPerRequest)} µs/req` +
            ` (${pct(r.serverUtilization)} of a core), load generator ${pct(r.clientUtilization)}${loadNote(r)}` +
            (r.valid ? '' : `, INVALID: ${r.failed} failed, ${r.non200} non-200, ${r.unfinished} unfinished`),
        );
      },
    });
    return { results: running.map((r) => r.result), loadgens, rounds };
  } finally {
    await Promise.all(running.map(({ server }) => server.stop()));
  }
}

// ---- 3. the keep-alive table ----

/** wrk's options for one keep-alive run against `url`. */
function keepAliveLoad(cfg: Config, url: string): LoadOptions {
  return {
    url,
    requests: 0,
    concurrency: cfg.keepaliveConnections,
    durationS: cfg.keepaliveSeconds,
    cpu: cfg.clientCpu,
    timeoutS: cfg.keepaliveSeconds + 30,
    keepAlive: true,
    delayMs: cfg.keepaliveDelay,
  };
}

/** The keep-alive servers, loaded in turn by wrk: one warm-up run each, then
 * cfg.runs counted runs rotating the order. The CPU clock is always the
 * scheduler's (ticks are too coarse for a few µs per request). */
async function runKeepAlive(cfg: Config, skipped: string[]): Promise<{ results: ServerResult[]; rounds: RoundsReport }> {
  const found = discoverHelloServers();
  const byName = new Map(found.servers.map((s) => [s.name, s]));
  const specs: HelloServer[] = [];
  for (const name of KEEPALIVE_SERVERS) {
    if (name !== C_SERVER && cfg.servers !== undefined && !cfg.servers.includes(name)) continue;
    const spec = byName.get(name);
    if (spec) specs.push(spec);
    else skipped.push(`keep-alive ${name}: ${found.skipped.find((line) => line.startsWith(`${name}:`))?.slice(name.length + 2) ?? 'not found'}`);
  }
  const running = await startAll(specs, cfg, skipped, { keepAlive: true });
  try {
    const subjects = running.map((r) =>
      restartable(r, cfg, `${r.spec.name} (keep-alive)`, () => runLoad('wrk', keepAliveLoad(cfg, r.server.url)), { keepAlive: true }),
    );
    const rounds = await measureRounds(subjects, {
      runs: cfg.runs,
      maxRounds: cfg.maxRounds,
      requests: 0,
      warmup: 0,
      clock: CLOCKS.sched.read,
      quiet: quietOptions(cfg),
      bracket: true,
      restart: cfg.sameProcess ? undefined : (s) => s.restart(),
      reference: subjects.find((s) => s.spec.name === C_SERVER),
      log: (line) => progress(line.replace(/: 0 requests$/, `: one ${cfg.keepaliveSeconds} s run`)),
      onSample: ({ spec, result }, sample) => {
        const r = record(sample);
        result.runs.push(r);
        progress(
          `keep-alive ${spec.name} round ${r.run}: ${fmt(r.requestsPerSecond)} req/s, server ${fmt(r.serverCpuUsPerRequest)} µs/req` +
            ` (${pct(r.serverUtilization)} of a core), wrk ${pct(r.clientUtilization)}, ${fmt(r.requestsPerConnection ?? NaN)} req/connection${loadNote(r)}` +
            (r.valid ? '' : `, INVALID: ${r.failed} failed, ${r.non200} non-200, ${r.closedByServer ?? 0} connections closed by the server`),
        );
      },
    });
    return { results: running.map((r) => r.result), rounds };
  } finally {
    await Promise.all(running.map(({ server }) => server.stop()));
  }
}

/** The CPU µs per request of a server's runs that counted, by round. */
function countedCpu(result: ServerResult | undefined): Map<number, number> {
  return new Map((result?.runs ?? []).filter((r) => r.valid && r.quiet).map((r) => [r.run, r.serverCpuUsPerRequest]));
}

/** A server's CPU µs per request over the C server's, by round: over the C
 * server's runs just around each of its runs when the rounds bracketed it
 * (rounds.ts), else over the C server's run in the same round; 1 for the C
 * server itself. */
function ratiosToC(result: ServerResult, results: ServerResult[]): Map<number, number> {
  const c = results.find((r) => r.name === C_SERVER);
  if (result === c) return new Map([...countedCpu(c)].map(([round]) => [round, 1]));
  if (result.runs.some((r) => r.referenceCpuUsPerRequest !== undefined)) {
    const counted = result.runs.filter((r) => r.valid && r.quiet && Number.isFinite(r.referenceCpuUsPerRequest));
    return new Map(counted.map((r) => [r.run, r.serverCpuUsPerRequest / r.referenceCpuUsPerRequest!]));
  }
  const ref = countedCpu(c);
  return pairedByRound(countedCpu(result), ref);
}

/** Each server's figures over its runs that counted (valid and quiet), and
 * its CPU per request as a ratio to the C server's (ratiosToC). */
function summarizeServers(results: ServerResult[]): ServerSummary[] {
  return results.map((result) => summarizeServer(result, [...ratiosToC(result, results).values()]));
}

function summarizeServer(result: ServerResult, ratios: number[]): ServerSummary {
  const valid = result.runs.filter((r) => r.valid && r.quiet);
  const clientUtilization = summarize(valid.map((r) => r.clientUtilization)).median;
  const serverUtilization = summarize(valid.map((r) => r.serverUtilization)).median;
  return {
    name: result.name,
    kind: result.kind,
    validRuns: valid.length,
    invalidRuns: result.runs.filter((r) => !r.valid).length,
    noisyRuns: result.runs.filter((r) => r.valid && !r.quiet).length,
    cpuRatio: summarize(ratios.filter(Number.isFinite)),
    requestsPerSecond: summarize(valid.map((r) => r.requestsPerSecond)),
    cpuUsPerRequest: summarize(valid.map((r) => r.serverCpuUsPerRequest)),
    serverUtilization,
    clientUtilization,
    failed: result.runs.reduce((n, r) => n + r.failed, 0),
    non200: result.runs.reduce((n, r) => n + r.non200, 0),
    limitedBy: clientUtilization >= SATURATED ? 'load generator' : serverUtilization >= SATURATED ? 'server' : 'neither',
    ...(valid.some((r) => r.requestsPerConnection !== undefined)
      ? { requestsPerConnection: summarize(valid.map((r) => r.requestsPerConnection ?? NaN)).median }
      : {}),
  };
}

// ---- 3. the load generators themselves ----

interface LoadgenComparison {
  generator: LoadgenName;
  /** Why it was not measured (not installed), or undefined. */
  missing?: string;
  cpuUsPerRequest: Summary;
  requestsPerSecond: Summary;
  serverCpuUsPerRequest: Summary;
}

/** Each installed generator against the C server, runs alternating, so that
 * the embedded one's own cost can be compared with ab's and wrk's. */
async function compareLoadgens(cfg: Config, server: ServerProcess): Promise<LoadgenComparison[]> {
  const gens = LOADGENS.map((generator) => ({ generator, missing: missingLoadgen(generator), runs: [] as RunRecord[] }));
  const present = gens
    .filter((g) => g.missing === undefined)
    .map((g) => ({
      ...g,
      name: `load generator ${g.generator}`,
      pids: [server.pid],
      load: (requests: number) => runLoad(g.generator, loadOptions(cfg, server.url, requests)),
    }));
  await measureRounds(present, {
    runs: cfg.runs,
    requests: cfg.requests,
    warmup: cfg.warmup,
    fixedOrder: true,
    clock: CLOCKS[cfg.clock].read,
    onSample: (g, sample) => {
      const r = record(sample);
      g.runs.push(r);
      progress(`load generator ${g.generator} run ${r.run}/${cfg.runs}: ${fmt(r.clientCpuUsPerRequest)} µs CPU/req, ${fmt(r.requestsPerSecond)} req/s`);
    },
  });
  return gens.map((g) => {
    const valid = g.runs.filter((r) => r.valid);
    const entry: LoadgenComparison = {
      generator: g.generator,
      cpuUsPerRequest: summarize(valid.map((r) => r.clientCpuUsPerRequest)),
      requestsPerSecond: summarize(valid.map((r) => r.requestsPerSecond)),
      serverCpuUsPerRequest: summarize(valid.map((r) => r.serverCpuUsPerRequest)),
    };
    if (g.missing !== undefined) entry.missing = g.missing;
    return entry;
  });
}

// ---- output ----

/** A paired ratio's median and range: "1.23× (1.20–1.31)". */
function pairedCell(r: Summary): string {
  return r.n > 0 ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '—';
}

/** A server table's rows, cheapest first by the paired ratio to the C
 * server; `extra` gives the cells that follow requests/s. */
function serverRows(summaries: ServerSummary[], extra: (s: ServerSummary) => string[] = () => []): string[] {
  const ref = summaries.find((s) => s.name === C_SERVER);
  const key = (s: ServerSummary) => (s.cpuRatio.n > 0 ? s.cpuRatio.median : Infinity);
  const sorted = [...summaries].sort((a, b) => key(a) - key(b) || (a.cpuUsPerRequest.median || Infinity) - (b.cpuUsPerRequest.median || Infinity));
  return sorted.map((s) => {
    const cells = [
      s.name,
      s.kind,
      pairedCell(s.cpuRatio),
      String(s.cpuRatio.n),
      fmt(s.cpuUsPerRequest.median),
      range(s.cpuUsPerRequest),
      fmt(s.requestsPerSecond.median),
      range(s.requestsPerSecond),
      ratio(s.requestsPerSecond.median, ref?.requestsPerSecond.median ?? NaN),
      ...extra(s),
      pct(s.serverUtilization),
      pct(s.clientUtilization),
      s.limitedBy,
      `${s.validRuns}/${s.validRuns + s.invalidRuns + s.noisyRuns}`,
      String(s.noisyRuns),
      String(s.failed),
      String(s.non200),
    ];
    return `| ${cells.join(' | ')} |`;
  });
}

/** What a table's rounds were and how runs were counted. */
function roundsLine(cfg: Config, rounds: RoundsReport | undefined): string {
  const quiet = quietOptions(cfg);
  const counting = quiet
    ? `a run counts only when it was valid and other work took less than ${Math.round(quiet.threshold * 100)}% of CPU ${quiet.cpu} while it ran ` +
      `(its busy time in /proc/stat less the server's own; each run first waits up to ${fmt(quiet.maxWaitMs / 1000)} s for that core to be quiet)`
    : 'every valid run counts (no quiet filter: --quiet 100, or no pinning)';
  const went = rounds
    ? ` This table ran ${rounds.rounds} rounds (more than ${cfg.runs} when runs were dropped, at most ${cfg.maxRounds}); ${rounds.noisyRuns} runs dropped as noisy; ${fmt(rounds.waitedMs / 1000)} s spent waiting for quiet.`
    : '';
  return `Each round runs every server once, the order rotating from round to round, and the C server before the first and after each of them; ` +
    `${cfg.sameProcess ? 'each server keeps its first process for every round (--same-process)' : 'every round after the first starts each server afresh (a new process, warmed up again)'}; ${counting}. ` +
    `**× C** is the median, over the rounds, of the server's CPU µs/request divided by the mean of the C server's in its runs just before and after (min–max of those ratios beside it; "pairs" counts them): ` +
    `the C server's own cost moves by tens of per cent between minutes on a shared machine, and a ratio to runs seconds apart cancels most of that.${went}`;
}

function serverTable(cfg: Config, summaries: ServerSummary[], rounds: RoundsReport | undefined): string {
  const size =
    cfg.loadgen === 'wrk'
      ? `${loadOptions(cfg, '', 0).durationS} s per run with \`wrk -t1 -c${cfg.concurrency} -H 'Connection: close'\``
      : `${cfg.requests.toLocaleString('en-US')} requests per run`;
  const lines = [
    `${size}, ${cfg.concurrency} in flight${cfg.rate > 0 ? `, started at ${cfg.rate.toLocaleString('en-US')} per second at most` : ''}, a new connection per request (the \`ab -n ${cfg.requests} -c ${cfg.concurrency}\` workload), ` +
      `load generator: ${cfg.loadgen}; server pinned to CPU ${cfg.serverCpu ?? '(any)'}, load generator to CPU ${cfg.clientCpu ?? '(any)'}; ` +
      `${cfg.loadgen === 'wrk' ? 'one warm-up run' : `${cfg.warmup.toLocaleString('en-US')} warm-up requests`}, then ${cfg.runs} counted rounds; medians over the runs that counted.`,
    '',
    roundsLine(cfg, rounds),
    '',
    '| server | kind | CPU µs/request × C (min–max) | pairs | CPU µs/request | min–max | requests/s | min–max | × C | server CPU | load gen. CPU | limited by | counted runs | noisy | failed | non-200 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  lines.push(...serverRows(summaries));
  lines.push(
    '',
    `CPU µs/request is the server process's own CPU time (${CLOCKS[cfg.clock].source}) divided by the replies it sent: ` +
      'the headline, because other load on the machine changes it far less than requests/s (compare ratios within one run). "server CPU" and "load gen. CPU" are the share of one core each used during a run; ' +
      `"limited by" names whichever was above ${Math.round(SATURATED * 100)}% (the load generator, then requests/s says more about the client than the server), ` +
      'or "neither" when both waited on each other through loopback TCP and scheduling latency.',
  );
  return lines.join('\n');
}

function keepAliveTable(cfg: Config, summaries: ServerSummary[], rounds: RoundsReport | undefined): string {
  const lines = [
    `Every server started with \`--keep-alive\` (HTTP/1.1: each connection kept, every request on it answered), loaded by ` +
      `\`wrk -t1 -c${cfg.keepaliveConnections} -d${cfg.keepaliveSeconds}s\` (${cfg.keepaliveConnections} kept connections, one request in flight on each` +
      `${cfg.keepaliveDelay > 0 ? `, each waiting ${cfg.keepaliveDelay} ms after a reply before its next request` : ''}); ` +
      `server pinned to CPU ${cfg.serverCpu ?? '(any)'}, wrk to CPU ${cfg.clientCpu ?? '(any)'}; one warm-up run per server, then ${cfg.runs} counted rounds; medians over the runs that counted.`,
    '',
    roundsLine(cfg, rounds),
    '',
    '| server | kind | CPU µs/request × C (min–max) | pairs | CPU µs/request | min–max | requests/s | min–max | × C | requests/connection | server CPU | wrk CPU | limited by | counted runs | noisy | failed | non-200 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  lines.push(...serverRows(summaries, (s) => [fmt(s.requestsPerConnection ?? NaN)]));
  lines.push(
    '',
    `CPU µs/request is the server process's own CPU time (${CLOCKS.sched.source}) divided by the replies wrk counted; the C server here is the C epoll keep-alive server. ` +
      '"requests/connection" is the replies of a run over the connections it used (wrk reopens one for every reply that closes it; a run in which the server closed any is invalid). ' +
      `"limited by" names whichever process was above ${Math.round(SATURATED * 100)}% of its core.`,
  );
  return lines.join('\n');
}

function loadgenTable(cfg: Config, rows: LoadgenComparison[]): string {
  const ab = rows.find((r) => r.generator === 'ab' && r.cpuUsPerRequest.n > 0);
  const lines = [
    `Each load generator against the C server, ${cfg.requests.toLocaleString('en-US')} requests per run (wrk: ${cfg.quick ? 1 : 3} s with \`Connection: close\`), ${cfg.runs} runs alternating, pinned to CPU ${cfg.clientCpu ?? '(any)'}:`,
    '',
    '| load generator | its CPU µs/request | min–max | × ab | requests/s | server CPU µs/request |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.missing !== undefined) {
      lines.push(`| ${r.generator} | not measured: ${r.missing} | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.generator} | ${fmt(r.cpuUsPerRequest.median)} | ${range(r.cpuUsPerRequest)} | ${ratio(r.cpuUsPerRequest.median, ab?.cpuUsPerRequest.median ?? NaN)} ` +
        `| ${fmt(r.requestsPerSecond.median)} | ${fmt(r.serverCpuUsPerRequest.median)} |`,
    );
  }
  return lines.join('\n');
}

interface Check {
  ok: boolean | undefined;
  text: string;
}

/** `name`'s CPU µs per request over `reference`'s, round by round, each
 * through its ratio to the C server (ratiosToC): the median and range, or
 * undefined when no round has both. */
function pairedTo(results: ServerResult[], name: string, reference: string): Summary | undefined {
  const mine = results.find((r) => r.name === name);
  const ref = results.find((r) => r.name === reference);
  if (mine === undefined || ref === undefined) return undefined;
  const ratios = summarize(pairedRatios(ratiosToC(mine, results), ratiosToC(ref, results)));
  return ratios.n > 0 ? ratios : undefined;
}

/** "1.23× (1.20–1.31, 7 rounds)". */
const pairedText = (r: Summary): string => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}, ${r.n} rounds)`;

// The goals of the hello table (a new connection per request): CPU µs per
// request as a paired ratio to the C server. The reactor example runs with
// its default 30 s idle timeout.
const HELLO_GOALS: Array<[string, number]> = [
  ['epoll', 1.15],
  ['reactor callbacks', 1.1],
];

/** The targets the project holds itself to, checked against this run's figures. */
function checks(results: ServerResult[], micro: MicroResult | undefined, loadgens: LoadgenComparison[]): Check[] {
  const out: Check[] = [];
  const summaries = summarizeServers(results);
  for (const s of summaries.filter((s) => (s.kind === 'hand-written loop' || s.kind === 'reactor') && s.validRuns > 0)) {
    const r = pairedTo(results, s.name, 'node:net');
    if (r) out.push({ ok: r.median < 1, text: `${s.name} below node:net in CPU µs/request: ${pairedText(r)}` });
  }
  for (const [name, goal] of HELLO_GOALS) {
    const r = pairedTo(results, name, C_SERVER);
    if (r) out.push({ ok: r.median <= goal, text: `${name} ≤ ${goal}× the C server in CPU µs/request, a new connection per request: ${pairedText(r)}` });
  }
  if (micro) {
    const row = (op: string, backend: string, nfds: number) =>
      micro.rows.find((r) => r.op === op && r.backend === backend && r.nfds === nfds);
    for (const r of micro.rows.filter((r) => r.backend === 'epoll' && (r.op === 'select' || r.op === 'selectRaw') && r.c)) {
      out.push({
        ok: r.js.median / r.c!.median <= 1.3,
        text: `epoll ${r.op}() with 1 ready fd among ${r.nfds.toLocaleString('en-US')} ≤ 1.3× the C loop: ${ratio(r.js.median, r.c!.median)}`,
      });
    }
    for (const r of micro.rows.filter((r) => r.backend === 'epoll' && r.op === 'register' && r.c)) {
      out.push({
        ok: r.js.median / r.c!.median <= 2,
        text: `epoll register+unregister (${r.nfds.toLocaleString('en-US')} fds registered) ≤ 2× the C loop: ${ratio(r.js.median, r.c!.median)}`,
      });
    }
    // Growth: how the cost above the 1-fd cost (the write, read and syscall
    // entry every size pays) grows from 100 fds to the largest size, as a
    // log-log slope: 1 is linear, 0 is flat.
    for (const backend of ['select', 'poll', 'epoll']) {
      const sizes = micro.rows.filter((r) => r.backend === backend && r.op === 'select').map((r) => r.nfds);
      const hi = Math.max(...sizes);
      const base = row('select', backend, 1);
      const a = row('select', backend, 100);
      const b = row('select', backend, hi);
      if (base === undefined || a === undefined || b === undefined || hi <= 100) continue;
      if (backend === 'epoll') {
        out.push({
          ok: b.js.median <= 1.25 * base.js.median,
          text: `epoll: cost stays flat with idle fds: ${fmt(b.js.median / 1000)} µs at ${hi.toLocaleString('en-US')} fds vs ${fmt(base.js.median / 1000)} µs at 1 (${ratio(b.js.median, base.js.median)})`,
        });
        continue;
      }
      const extra = (r: MicroRow) => Math.max(r.js.median - base.js.median, 1);
      const slope = Math.log(extra(b) / extra(a)) / Math.log(hi / 100);
      out.push({
        ok: slope > 0.8 && slope < 1.2,
        text: `${backend}: cost grows linearly with idle fds: the cost above the 1-fd cost grows ${fmt(extra(b) / extra(a))}× from 100 to ${hi.toLocaleString('en-US')} fds (log–log slope ${slope.toFixed(2)}; 1 = linear)`,
      });
    }
  }
  const ours = loadgens.find((g) => g.generator === 'embedded' && g.cpuUsPerRequest.n > 0);
  const ab = loadgens.find((g) => g.generator === 'ab' && g.cpuUsPerRequest.n > 0);
  if (ours && ab) {
    out.push({
      ok: ours.cpuUsPerRequest.median < 0.8 * ab.cpuUsPerRequest.median,
      text: `the embedded load generator costs clearly less CPU per request than ab: ${fmt(ours.cpuUsPerRequest.median)} vs ${fmt(ab.cpuUsPerRequest.median)} µs (${ratio(ours.cpuUsPerRequest.median, ab.cpuUsPerRequest.median)})`,
    });
  }
  return out;
}

interface Report {
  machine: MachineInfo;
  config: Config;
  servers: ServerSummary[];
  runs: ServerResult[];
  /** How the hello table's rounds went, when it ran. */
  helloRounds?: RoundsReport;
  /** The keep-alive table, when it ran. */
  keepalive?: { servers: ServerSummary[]; runs: ServerResult[]; rounds: RoundsReport };
  loadgens: LoadgenComparison[];
  micro?: MicroResult;
  pingpong?: PingPongReport;
  dgram?: DgramReport;
  db?: DbReport;
  checks: Check[];
  skipped: string[];
}

function markdown(report: Report, charts: Charts): string {
  const { config: cfg } = report;
  const parts = [
    '# Benchmark results',
    '',
    `Machine: ${machineLine(report.machine)}.`,
    '',
    `Command: \`${cfg.command}\`. Other work on the machine shows in the load average; ratios measured side by side in one run are what count.`,
  ];
  if (cfg.hello) {
    parts.push('', '## Hello-world servers', '', serverTable(cfg, report.servers, report.helloRounds));
    if (charts.server) parts.push('', `![server CPU µs per request](${charts.server})`);
  }
  if (report.keepalive) {
    parts.push('', '## Hello-world servers, keep-alive', '', keepAliveTable(cfg, report.keepalive.servers, report.keepalive.rounds));
    if (charts.keepalive) parts.push('', `![keep-alive: server CPU µs per request](${charts.keepalive})`);
  }
  if (report.loadgens.length) parts.push('', '## Load generators', '', loadgenTable(cfg, report.loadgens));
  if (report.db && report.db.rows.length) {
    parts.push('', '## Database round trip', '', report.db.markdown);
    if (charts.db) parts.push('', `![database round trip: server CPU µs per request](${charts.db})`);
  }
  if (report.pingpong) parts.push('', '## Event delivery through the reactor', '', report.pingpong.markdown);
  if (report.dgram) parts.push('', '## Datagrams: UDP echo', '', report.dgram.markdown);
  if (report.micro) {
    parts.push('', '## Selector micro-benchmarks', '', microTables(report.micro));
    if (charts.curve) parts.push('', `![select() cost against registered fds](${charts.curve})`);
  }
  if (report.checks.length) {
    parts.push('', '## Targets', '');
    for (const c of report.checks) parts.push(`- ${c.ok === undefined ? '?' : c.ok ? '✓' : '✗'} ${c.text}`);
  }
  if (report.skipped.length) {
    parts.push('', '## Skipped', '');
    for (const s of report.skipped) parts.push(`- ${s}`);
  }
  return `${parts.join('\n')}\n`;
}

// The keep-alive goals: each reactor style's CPU µs/request as a ratio to the
// C keep-alive server's.
const KEEPALIVE_GOALS: Array<[string, number]> = [
  ['reactor callbacks', 1.15],
  ['reactor generators', 1.25],
  ['reactor async', 1.3],
];
/** Every reactor style's keep-alive CPU per request, at most this share of
 * the minimal node:net keep-alive server's (paired). */
const BELOW_NET_MINIMAL = 0.8;

/** The keep-alive targets, against this run's keep-alive figures (paired ratios). */
function keepAliveChecks(results: ServerResult[]): Check[] {
  const out: Check[] = [];
  for (const [name, goal] of KEEPALIVE_GOALS) {
    const r = pairedTo(results, name, C_SERVER);
    if (r) out.push({ ok: r.median <= goal, text: `keep-alive ${name} ≤ ${goal}× the C keep-alive server in CPU µs/request: ${pairedText(r)}` });
  }
  for (const s of results.filter((s) => s.kind === 'reactor')) {
    const r = pairedTo(results, s.name, NET_MINIMAL);
    if (r) {
      out.push({
        ok: r.median <= BELOW_NET_MINIMAL,
        text: `keep-alive ${s.name} ≤ ${BELOW_NET_MINIMAL}× the minimal node:net keep-alive server in CPU µs/request: ${pairedText(r)}`,
      });
    }
  }
  return out;
}

/** The datagram targets: the hand-written echo over sys within 1.3× the C
 * echo server, and below node:dgram, in CPU µs per datagram. */
function dgramChecks(report: DgramReport): Check[] {
  const row = (name: string) => report.rows.find((r) => r.name === name && Number.isFinite(r.cpuUsPerDatagram));
  const ours = row('sys + DefaultSelector');
  const node = row('node:dgram');
  const out: Check[] = [];
  if (ours) out.push({ ok: ours.cpuRatio.median <= 1.3, text: `UDP echo over sys + DefaultSelector ≤ 1.3× the C echo server in CPU µs/datagram: ${ours.cpuRatio.median.toFixed(2)}×` });
  if (ours && node) {
    out.push({
      ok: ours.cpuUsPerDatagram < node.cpuUsPerDatagram,
      text: `UDP echo over sys + DefaultSelector below node:dgram in CPU µs/datagram: ${fmt(ours.cpuUsPerDatagram)} vs ${fmt(node.cpuUsPerDatagram)} (${ratio(ours.cpuUsPerDatagram, node.cpuUsPerDatagram)})`,
    });
  }
  return out;
}

/** The database target: the reactor with ReactorSocket below node:net + mysql2. */
function dbChecks(db: DbReport): Check[] {
  const cpu = (prefix: string) => {
    const row = db.rows.find((r) => r.name.startsWith(prefix) && r.cpuUsPerRequest.length > 0);
    return row ? summarize(row.cpuUsPerRequest).median : undefined;
  };
  const ours = cpu('reactor');
  const net = cpu('node:net');
  if (ours === undefined || net === undefined) return [];
  return [{ ok: ours < net, text: `reactor + mysql2 over ReactorSocket below node:net + mysql2 in CPU µs/request: ${fmt(ours)} vs ${fmt(net)} (${ratio(ours, net)})` }];
}

// The reactor's event-delivery goals, as ratios of round trips/s to the C
// loop of the same transport.
const PINGPONG_GOALS: Array<[Transport, string, number]> = [
  ['socketpair', 'reactor run()', 0.7],
  ['socketpair', 'reactor attach()', 0.5],
  ['pipes', 'reactor run()', 0.7],
  ['pipes', 'reactor attach()', 0.6],
];

function pingPongChecks(report: PingPongReport): Check[] {
  return PINGPONG_GOALS.flatMap(([transport, name, goal]) => {
    const row = report.rows.find((r) => r.name === name && r.transport === transport);
    if (row === undefined) return [];
    return [
      {
        ok: row.perSecondRatio >= goal,
        text: `${name} ping-pong over ${transport === 'pipes' ? 'pipes' : 'a socketpair'} ≥ ${goal}× the C loop's round trips/s: ${row.perSecondRatio.toFixed(2)}×`,
      },
    ];
  });
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (cfg.hello) {
    const missing = missingLoadgen(cfg.loadgen);
    if (missing !== undefined) {
      process.stderr.write(`--loadgen ${cfg.loadgen}: ${missing}\n`);
      process.exit(1);
    }
  }
  const skipped: string[] = [];
  if (cfg.keepalive) {
    const missing = missingLoadgen('wrk');
    if (missing !== undefined) {
      // Asked for alone, it is an error; in the full run, the other sections go on.
      if (cfg.only !== undefined) {
        process.stderr.write(`keepalive: ${missing}\n`);
        process.exit(1);
      }
      skipped.push(`the keep-alive table: ${missing}`);
      progress(`skipping the keep-alive table: ${missing}`);
      cfg.keepalive = false;
    }
  }
  const machine = machineInfo();
  const started = Date.now();
  progress(machineLine(machine));
  if (cfg.serverCpu === undefined) skipped.push('pinning: this machine has one core, so server and load generator share it');

  const micro = cfg.micro ? await runMicroPinned(cfg) : undefined;
  const pingpong = cfg.pingpong
    ? await runPingPong({ roundTrips: 50_000, rounds: cfg.quick ? 3 : 7, cpu: cfg.clientCpu, log: progress })
    : undefined;
  const { results, loadgens, rounds: helloRounds } = cfg.hello || cfg.loadgens ? await runServers(cfg, skipped) : { results: [], loadgens: [] };
  const summaries = summarizeServers(results);
  const keepaliveRuns = cfg.keepalive ? await runKeepAlive(cfg, skipped) : undefined;
  const keepalive = keepaliveRuns
    ? { servers: summarizeServers(keepaliveRuns.results), runs: keepaliveRuns.results, rounds: keepaliveRuns.rounds }
    : undefined;
  const dgram = cfg.dgram
    ? await runDgramBench({
        count: cfg.quick ? 20_000 : 100_000,
        rounds: cfg.quick ? 3 : cfg.runs,
        window: 16,
        size: 64,
        serverCpu: cfg.serverCpu,
        clientCpu: cfg.clientCpu,
        ...(quietOptions(cfg) ? { quiet: quietOptions(cfg)! } : {}),
        sameProcess: cfg.sameProcess,
        log: progress,
      })
    : undefined;
  // Node servers are warmed with at least 20,000 requests here: with a
  // database round trip per request, the JIT is still settling before that.
  const db = cfg.db
    ? await runDbBench({
        requests: cfg.requests,
        runs: cfg.runs,
        warmup: cfg.quick ? cfg.warmup : Math.max(cfg.warmup, 20_000),
        concurrency: cfg.concurrency,
        loadgen: cfg.loadgen === 'wrk' ? 'embedded' : cfg.loadgen,
        clock: CLOCKS[cfg.clock].read,
        log: progress,
      })
    : undefined;
  if (db) skipped.push(...db.skipped);
  machine.loadAverage.push(loadAverage1());

  const report: Report = {
    machine,
    config: cfg,
    servers: summaries,
    runs: results,
    loadgens,
    checks: checks(results, micro, loadgens),
    skipped,
  };
  if (micro) report.micro = micro;
  if (helloRounds) report.helloRounds = helloRounds;
  if (keepalive) {
    report.keepalive = keepalive;
    report.checks.push(...keepAliveChecks(keepalive.runs));
  }
  if (pingpong) {
    report.pingpong = pingpong;
    report.checks.push(...pingPongChecks(pingpong));
  }
  if (dgram) {
    report.dgram = dgram;
    report.checks.push(...dgramChecks(dgram));
  }
  if (db) {
    report.db = db;
    report.checks.push(...dbChecks(db));
  }

  const dir = join(packageRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  // A run of some sections only does not replace the full run's results.
  const base = cfg.only ? `${cfg.quick ? 'quick-' : ''}only-${cfg.only.join('-')}` : cfg.quick ? 'quick' : 'latest';
  const charts = await writeCharts(report, dir, base);
  const md = markdown(report, charts);
  await writeFile(join(dir, `${base}.md`), md);
  await writeFile(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${md}`);
  progress(`done in ${Math.round((Date.now() - started) / 1000)} s; written to bench/results/${base}.md, ${base}.json${charts.server || charts.keepalive || charts.curve || charts.db ? ' and charts' : ''}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
