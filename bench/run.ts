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
// Beside this file, in bench/lib: the command line and its settings
// (config.ts), what a server table keeps of each run and its paired ratios
// (server-results.ts), the tables' markdown (server-tables.ts) and the
// targets checked against the run (targets.ts).
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
import { join } from 'node:path';
import { packageRoot } from './build-c.js';
import { writeCharts, type Charts } from './lib/charts.js';
import { CLOCKS, loadOptions, parseConfig, quietOptions, type Config } from './lib/config.js';
import { C_SERVER, discoverHelloServers, KEEPALIVE_SERVERS, type CommandOptions, type HelloServer } from './lib/hello-servers.js';
import { LOADGENS, missingLoadgen, probeKeepAlive, runLoad, type LoadOptions } from './lib/load.js';
import { loadAverage1, machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { pinned, startServer, type ServerProcess } from '../support/proc.js';
import { measureRounds, type RoundsReport } from './lib/rounds.js';
import { record, summarizeServers, type LoadgenComparison, type RunRecord, type ServerResult, type ServerSummary } from './lib/server-results.js';
import { keepAliveTable, loadgenTable, serverTable } from './lib/server-tables.js';
import { fmt, pct, summarize } from './lib/stats.js';
import { checks, dbChecks, dgramChecks, keepAliveChecks, pingPongChecks, type Check } from './lib/targets.js';
import { microTables, type MicroResult } from './micro.js';
import { runDbBench, type DbReport } from './db.js';
import { runDgramBench, type DgramReport } from './dgram.js';
import { runPingPong, type PingPongReport } from './pingpong.js';

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

/** The hello table's load: loadOptions at the table's offered rate. */
function helloLoad(cfg: Config, url: string, requests: number): LoadOptions {
  return { ...loadOptions(cfg, url, requests), rate: cfg.rate };
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

// ---- 3. the load generators themselves ----

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
