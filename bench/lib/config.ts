// The command line of `npm run bench` (bench/run.ts) and the settings it
// makes: which sections run, how much load, how runs are counted, and the
// load of one run on those settings.
import { availableParallelism } from 'node:os';
import { LOADGENS, type LoadgenName, type LoadOptions } from './load.js';
import type { QuietOptions } from './quiet.js';
import { cpuTimeUs, statCpuUs } from '../../support/proc.js';
import { commandLine, nonNegativeInt, numberIn, oneOf, positiveInt as int, type CommandLine, type OptionSpecs } from '../../support/options.js';

/** The sections of a run, in the order they run. */
export const SECTIONS = ['micro', 'pingpong', 'hello', 'keepalive', 'loadgens', 'dgram', 'db'] as const;
export type Section = (typeof SECTIONS)[number];

/** How a server's CPU time is read: the scheduler's nanosecond run time, or
 * utime + stime in clock ticks (10 ms at USER_HZ = 100), too coarse for short runs. */
export const CLOCKS = {
  sched: { read: cpuTimeUs, source: "every thread's run time from /proc/PID/task/*/schedstat" },
  stat: { read: statCpuUs, source: 'utime + stime from /proc/PID/stat, in clock ticks' },
} as const;
export type ClockName = keyof typeof CLOCKS;

export interface Config {
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
export const OPTIONS = {
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

export function parseConfig(argv: string[]): Config {
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
export function quietOptions(cfg: Config): QuietOptions | undefined {
  if (cfg.serverCpu === undefined || cfg.quietThreshold >= 1) return undefined;
  return { cpu: cfg.serverCpu, threshold: cfg.quietThreshold, maxWaitMs: cfg.quietWaitMs };
}

/** The load of one run against `url` on this run's settings. */
export function loadOptions(cfg: Config, url: string, requests: number): LoadOptions {
  return {
    url,
    requests,
    concurrency: cfg.concurrency,
    durationS: cfg.quick ? 1 : 3,
    cpu: cfg.clientCpu,
    timeoutS: Math.ceil(30 + requests / 200),
  };
}
