// `npm run bench:soak`: a bounded soak of the reactor's example servers, the
// hello server (examples/hello-reactor.ts) and the echo server
// (examples/echo-reactor.ts), under mixed load, looking for what a short
// benchmark cannot see: fds or memory that grow while the load stays level.
//
// Per server: the server runs as a child (pinned to CPU 0 with taskset when
// there are 2 cores or more), the load generator (bench/soak-load.ts) as
// another (pinned to CPU 1), both with the soft RLIMIT_NOFILE raised (a
// `bash -c 'ulimit -n N && exec ...'` wrapper; exec keeps the pid, so the
// pid sampled is the server's own). The load is `--clients` concurrent
// clients of five kinds (normal, half-closing, slow-reading, resetting and
// idle; see soak-load.ts) for `--seconds`, all on 127.0.0.1; then the load
// generator drains and exits by itself, and the server is stopped.
//
// Four times a second the server's fd count (/proc/PID/fd) and RSS (VmRSS of
// /proc/PID/status) are sampled. After a warm-up (a quarter of the run, at
// most 10 s), the first window (10 s, or less in a short run) is compared
// with the last one, by their medians:
//   - fds: the last window's median within 5% + 50 of the first's;
//   - RSS: the last window's median less than 20% above the first's, or,
//     if not, no longer rising: within 5% of the median of a middle window
//     (centred between the warm-up and the end). A leak keeps growing; what
//     this lets pass is a one-time step, such as V8 enlarging its young
//     generation once the allocation rate is up (about +30 MiB, seen some
//     15 s into the load on the generator-style hello server, while the live
//     heap after each full GC stayed at 8.5 MB);
//   - after the load has gone, the fd count back within 10 of what it was
//     before the load (within 10 s): every connection closed.
// The server must stay up, every answer must be byte-exact, and the load
// generator must finish. Any check that fails is printed as a `SOAK FAILED`
// line and the exit code is 1.
//
// Results: a markdown summary on stdout and in bench/results/soak.md, the
// samples in soak.json, and per server a PNG of fd count, RSS and answers/s
// over time (soak-hello.png, soak-echo.png).
//
//   npm run bench:soak [-- --seconds 60] [--clients 5000] [--server hello|echo|both] [--style callbacks|generators|async]
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TopLevelSpec } from 'vega-lite';
import { packageRoot } from './build-c.js';
import { renderPng } from './lib/charts.js';
import { REACTOR_STYLES } from './lib/hello-servers.js';
import { loadAverage1, machineCpuUs, machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { commandLine, oneOf, type OptionSpecs } from '../support/options.js';
import { cpuTimeUs, pinned, startServer, type ServerProcess } from '../support/proc.js';
import { fmt, median, pct, summarize, type Summary } from './lib/stats.js';
import { clientMix, MIX, THINK_MS, type ClientKind, type LoadCounters } from './lib/soak-clients.js';

const SERVERS = ['hello', 'echo'] as const;
type ServerName = (typeof SERVERS)[number];
type Style = (typeof REACTOR_STYLES)[number];

/** The tolerances: see the file comment. */
const FD_GROWTH = 0.05;
const FD_SLACK = 50;
const RSS_GROWTH = 0.2;
/** RSS still rising at the end: the last window this much above the middle
 * one (a quarter of RSS_GROWTH). See the file comment. */
const RSS_RISING = RSS_GROWTH / 4;
const FD_RELEASE_SLACK = 10;
const FD_RELEASE_WAIT_MS = 10_000;
/** How often the server's fds and RSS are sampled, ms: four times a second,
 * so that a window's median is not moved by the few samples that fall in a
 * stall (a server descheduled for a moment on a shared machine accepts the
 * connections that arrived meanwhile all at once: a spike of some hundred fds). */
const SAMPLE_MS = 250;
/** The shortest run whose windows mean something. */
const MIN_SECONDS = 10;
/** fds per process beyond one per client: the server's and Node's own. */
const FD_HEADROOM = 1000;

/** The command line of `npm run bench:soak`. */
const OPTIONS = {
  seconds: { type: 'string', default: '60', arg: 'N', help: `load per server, seconds, at least ${MIN_SECONDS}` },
  clients: { type: 'string', default: '5000', arg: 'N', help: 'concurrent clients, at least 10' },
  server: { type: 'string', default: 'both', arg: 'NAME', help: 'which servers to soak: hello, echo or both' },
  style: { type: 'string', default: 'callbacks', arg: 'STYLE', help: `the hello server's style: ${REACTOR_STYLES.join(', ')}` },
} as const satisfies OptionSpecs;

interface Config {
  seconds: number;
  clients: number;
  servers: ServerName[];
  style: Style;
  warmupS: number;
  windowS: number;
  /** The soft RLIMIT_NOFILE of the server and the load generator. */
  nofile: number;
  serverCpu?: number;
  loadCpu?: number;
  command: string;
}

function integer(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** The hard RLIMIT_NOFILE (what ulimit -n may be raised to), or Infinity. */
function hardFdLimit(): number {
  const out = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

function parseConfig(argv: string[]): Config {
  const cli = commandLine('soak', 'npm run bench:soak [-- options]\n       node dist/bench/soak.js [options]', OPTIONS, argv);
  const { values } = cli;
  const seconds = cli.check(() => integer('seconds', values.seconds, MIN_SECONDS));
  const clients = cli.check(() => integer('clients', values.clients, 10));
  const server = cli.check(() => oneOf('server', values.server, [...SERVERS, 'both']));
  const style = cli.check(() => oneOf('style', values.style, REACTOR_STYLES));
  const hard = hardFdLimit();
  const need = clients + FD_HEADROOM;
  if (hard < need) {
    process.stderr.write(`soak: --clients ${clients} needs ${need} fds per process, but the hard limit (ulimit -Hn) is ${hard}: lower --clients or raise the limit\n`);
    process.exit(1);
  }
  const warmupS = Math.min(10, Math.floor(seconds / 4));
  const cores = availableParallelism();
  return {
    seconds,
    clients,
    servers: server === 'both' ? [...SERVERS] : [server as ServerName],
    style,
    warmupS,
    windowS: Math.min(10, Math.floor((seconds - warmupS) / 2)),
    nofile: Math.min(hard, Math.max(20_000, need)),
    serverCpu: cores >= 2 ? 0 : undefined,
    loadCpu: cores >= 2 ? 1 : undefined,
    command: ['npm run bench:soak', ...(argv.length ? ['--', ...argv] : [])].join(' '),
  };
}

function progress(line: string): void {
  process.stderr.write(`[soak] ${line}\n`);
}

// ---- sampling the server

/** The number of open fds of a process. */
function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A process's resident set size, KiB (VmRSS). */
function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

interface Sample {
  /** Seconds since the load generator started. */
  t: number;
  fds: number;
  rssKiB: number;
  /** The server's CPU time so far, µs. */
  serverCpuUs: number;
  /** The load generator's last report, if any yet. */
  open?: number;
  served?: number;
  errors?: number;
}

const totalServed = (c: LoadCounters): number => c.served.normal + c.served.halfClose + c.served.slow;
const totalErrors = (c: LoadCounters): number =>
  Object.values(c.errors).reduce((n, byKind) => n + Object.values(byKind).reduce((m, k) => m + k, 0), 0);

// ---- one server

interface ServerReport {
  name: ServerName;
  label: string;
  pid: number;
  mix: Record<ClientKind, number>;
  before: { fds: number; rssKiB: number };
  samples: Sample[];
  /** The load generator's reports, one a second (cumulative counters). */
  ticks: LoadCounters[];
  /** The fd count once the load had gone, and how long it took to get there. */
  after: { fds: number; ms: number };
  load?: LoadCounters;
  loadExit: number | null;
  /** Why the server exited before it was stopped, if it did. */
  crashed?: string;
  serverExit: number | null;
  /** The share of all the machine's CPU time that was busy during the load
   * (every process: ours and whatever else runs on the machine). */
  machineBusy: number;
  /** What the server wrote on stderr. */
  stderr: string[];
  stats: Stats;
  checks: Check[];
}

interface Stats {
  fds: Summary;
  rssKiB: Summary;
  fdFirst: number;
  fdLast: number;
  rssFirst: number;
  rssMid: number;
  rssLast: number;
  fdLimit: number;
  rssLimit: number;
  answersPerSecond: Summary;
  /** The load generator's open sockets, from its reports. */
  clientSockets: Summary;
  serverCpuShare: number;
  loadCpuShare: number;
  loopDelayP99MaxMs: number;
  latencyP99: { first: number; last: number };
}

interface Check {
  ok: boolean;
  text: string;
}

function serverCommand(cfg: Config, name: ServerName): { script: string; args: string[]; label: string } {
  const root = packageRoot();
  if (name === 'hello') {
    return { script: join(root, 'dist', 'examples', 'hello-reactor.js'), args: ['--style', cfg.style], label: `reactor hello (${cfg.style})` };
  }
  return { script: join(root, 'dist', 'examples', 'echo-reactor.js'), args: [], label: 'reactor echo (generators)' };
}

/** `bash -c 'ulimit -n N && exec "$@"'` around a command: the raised soft
 * limit, and the same pid. `stderrVar` names an environment variable holding
 * a file for the command's stderr. */
function withFdLimit(nofile: number, command: string, args: string[], stderrVar?: string): [string, string[]] {
  const redirect = stderrVar ? ` 2>"$${stderrVar}"` : '';
  return ['bash', ['-c', `ulimit -n ${nofile} && exec "$@"${redirect}`, 'soak', command, ...args]];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function soakOne(cfg: Config, name: ServerName): Promise<ServerReport> {
  const { script, args, label } = serverCommand(cfg, name);
  const stderrPath = join(tmpdir(), `soak-${name}-${process.pid}.stderr`);
  const [bash, bashArgs] = withFdLimit(cfg.nofile, process.execPath, [script, '--port', '0', ...args], 'SOAK_STDERR');
  const server: ServerProcess = await startServer(bash, bashArgs, { cpu: cfg.serverCpu, env: { ...process.env, SOAK_STDERR: stderrPath } });
  let crashed: string | undefined;
  let stopping = false;
  server.child.once('exit', (code, signal) => {
    if (!stopping) crashed = `exited (${code ?? signal}) during the soak`;
  });
  const pid = server.pid;
  try {
    // taskset and bash exec the server: the pid must be node's own.
    const exe = readlinkSync(`/proc/${pid}/exe`);
    if (exe !== realpathSync(process.execPath)) throw new Error(`pid ${pid} is ${exe}, not node: the wrapper did not exec`);
    progress(`${label}: pid ${pid} at ${server.host}:${server.port}`);

    await sleep(1000);
    const before = { fds: fdCount(pid), rssKiB: rssKiB(pid) };
    const mix = clientMix(cfg.clients);
    progress(`${label}: before the load ${before.fds} fds, RSS ${fmt(before.rssKiB / 1024)} MiB; ${cfg.clients} clients (${Object.entries(mix).map(([k, n]) => `${n} ${k}`).join(', ')}) for ${cfg.seconds} s`);

    // The load generator.
    const loadScript = join(packageRoot(), 'dist', 'bench', 'soak-load.js');
    const loadArgs = [loadScript, '--target', name, '--target-port', String(server.port), '--clients', String(cfg.clients), '--seconds', String(cfg.seconds)];
    const [cmd, cmdArgs] = pinned(cfg.loadCpu, process.execPath, loadArgs);
    const [lbash, lbashArgs] = withFdLimit(cfg.nofile, cmd, cmdArgs);
    const t0 = performance.now();
    const machine0 = machineCpuUs();
    const load = spawn(lbash, lbashArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let last: LoadCounters | undefined;
    let final: LoadCounters | undefined;
    const ticks: LoadCounters[] = [];
    createInterface({ input: load.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { tick?: LoadCounters; final?: LoadCounters };
      if (msg.tick) ticks.push((last = msg.tick));
      if (msg.final) final = last = msg.final;
    });
    createInterface({ input: load.stderr }).on('line', (line) => progress(`${name} load generator: ${line}`));
    const loadExit = new Promise<number | null>((resolve) => load.once('exit', (code) => resolve(code)));

    const samples: Sample[] = [];
    const sample = (): void => {
      if (crashed !== undefined) return;
      try {
        const s: Sample = { t: (performance.now() - t0) / 1000, fds: fdCount(pid), rssKiB: rssKiB(pid), serverCpuUs: cpuTimeUs(pid) };
        if (last) Object.assign(s, { open: last.open, served: totalServed(last), errors: totalErrors(last) });
        samples.push(s);
        if (samples.length % Math.round(10_000 / SAMPLE_MS) === 0) {
          progress(`${name} t=${Math.round(s.t)} s: ${s.fds} fds, RSS ${fmt(s.rssKiB / 1024)} MiB, ${s.open ?? '?'} client sockets, ${s.served ?? 0} answers, ${s.errors ?? 0} errors`);
        }
      } catch {
        // The server has just exited: its 'exit' handler records it.
      }
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    const code = await loadExit;
    clearInterval(sampler);
    const machine1 = machineCpuUs();

    // The load has gone: every connection should now be closed.
    const released = performance.now();
    let fdsAfter = crashed === undefined ? fdCount(pid) : NaN;
    while (crashed === undefined && fdsAfter > before.fds + FD_RELEASE_SLACK && performance.now() - released < FD_RELEASE_WAIT_MS) {
      await sleep(250);
      if (crashed === undefined) fdsAfter = fdCount(pid);
    }
    const after = { fds: fdsAfter, ms: performance.now() - released };
    progress(`${label}: load generator exited (${code}); after the load ${after.fds} fds (${Math.round(after.ms)} ms)`);

    stopping = true;
    const serverExit = await server.stop();
    const report: ServerReport = {
      name,
      label,
      pid,
      mix,
      before,
      samples,
      ticks,
      after,
      loadExit: code,
      serverExit,
      machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
      stderr: readStderr(stderrPath),
      stats: undefined as unknown as Stats,
      checks: [],
    };
    if (final) report.load = final;
    if (crashed !== undefined) report.crashed = crashed;
    report.stats = statsOf(cfg, report);
    report.checks = checksOf(cfg, report);
    return report;
  } finally {
    stopping = true;
    await server.stop();
    rmSync(stderrPath, { force: true });
  }
}

function readStderr(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

// ---- analysis

/** Answers/s between consecutive reports of the load generator. */
function answerRates(ticks: LoadCounters[]): Array<{ t: number; perSecond: number }> {
  const out = [];
  for (let i = 1; i < ticks.length; i++) {
    const a = ticks[i - 1]!;
    const b = ticks[i]!;
    out.push({ t: b.t, perSecond: (totalServed(b) - totalServed(a)) / (b.t - a.t) });
  }
  return out;
}

function statsOf(cfg: Config, r: ServerReport): Stats {
  const during = r.samples.filter((s) => s.t > cfg.warmupS && s.t <= cfg.seconds);
  const first = during.filter((s) => s.t <= cfg.warmupS + cfg.windowS);
  const last = during.filter((s) => s.t > cfg.seconds - cfg.windowS);
  const fdFirst = median(first.map((s) => s.fds));
  const rssFirst = median(first.map((s) => s.rssKiB));
  const centre = (cfg.warmupS + cfg.seconds) / 2;
  const mid = during.filter((s) => s.t > centre - cfg.windowS / 2 && s.t <= centre + cfg.windowS / 2);
  // Answers/s between the load generator's reports, a second apart.
  const rates = answerRates(r.ticks).filter((x) => x.t > cfg.warmupS && x.t <= cfg.seconds).map((x) => x.perSecond);
  const span = during.length > 1 ? during[during.length - 1]!.t - during[0]!.t : NaN;
  const serverCpuShare = span > 0 ? (during[during.length - 1]!.serverCpuUs - during[0]!.serverCpuUs) / 1e6 / span : NaN;
  const elapsed = r.load ? r.load.t : NaN;
  const ticksAfter = r.ticks.filter((k) => k.t > cfg.warmupS && k.t <= cfg.seconds);
  return {
    fds: summarize(during.map((s) => s.fds)),
    rssKiB: summarize(during.map((s) => s.rssKiB)),
    fdFirst,
    fdLast: median(last.map((s) => s.fds)),
    rssFirst,
    rssMid: median(mid.map((s) => s.rssKiB)),
    rssLast: median(last.map((s) => s.rssKiB)),
    fdLimit: Math.floor(fdFirst * (1 + FD_GROWTH) + FD_SLACK),
    rssLimit: rssFirst * (1 + RSS_GROWTH),
    answersPerSecond: summarize(rates),
    clientSockets: summarize(ticksAfter.map((k) => k.open)),
    serverCpuShare,
    loadCpuShare: r.load ? r.load.cpuUs / 1e6 / elapsed : NaN,
    loopDelayP99MaxMs: Math.max(...ticksAfter.map((k) => k.loopDelayP99Ms)),
    latencyP99: {
      first: median(ticksAfter.filter((k) => k.t <= cfg.warmupS + cfg.windowS).map((k) => k.latencyP99Ms).filter(Number.isFinite)),
      last: median(ticksAfter.filter((k) => k.t > cfg.seconds - cfg.windowS).map((k) => k.latencyP99Ms).filter(Number.isFinite)),
    },
  };
}

const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x))}`;
const change = (from: number, to: number, unit = ''): string => `${signed(to - from)}${unit} (${signed(((to - from) / from) * 100)}%)`;
const mib = (kib: number): string => `${fmt(kib / 1024)} MiB`;

function checksOf(cfg: Config, r: ServerReport): Check[] {
  const s = r.stats;
  const out: Check[] = [];
  const win = `the last ${cfg.windowS} s against the first ${cfg.windowS} s after a ${cfg.warmupS} s warm-up (medians)`;
  out.push({
    ok: s.fdLast <= s.fdLimit,
    text: `fd count level: ${fmt(s.fdFirst)} → ${fmt(s.fdLast)}, ${change(s.fdFirst, s.fdLast)}, ${win}; limit ${fmt(s.fdLimit)} (+${FD_GROWTH * 100}% + ${FD_SLACK})`,
  });
  out.push({
    ok: s.rssLast < s.rssLimit || s.rssLast <= s.rssMid * (1 + RSS_RISING),
    text:
      `RSS level: ${mib(s.rssFirst)} → ${mib(s.rssLast)}, ${change(s.rssFirst / 1024, s.rssLast / 1024, ' MiB')}, ${win}; limit ${mib(s.rssLimit)} (+${RSS_GROWTH * 100}%)` +
      (s.rssLast >= s.rssLimit
        ? `, passed only because it is no longer rising: ${mib(s.rssMid)} in the middle ${cfg.windowS} s, the last within +${RSS_RISING * 100}% of it (a step, not steady growth)`
        : ''),
  });
  out.push({
    ok: r.after.fds <= r.before.fds + FD_RELEASE_SLACK,
    text: `fds released once the load had gone: ${r.after.fds} fds ${Math.round(r.after.ms)} ms after the load generator exited, against ${r.before.fds} before the load (limit +${FD_RELEASE_SLACK})`,
  });
  out.push({ ok: r.crashed === undefined, text: `the server stayed up${r.crashed ? `: it ${r.crashed}` : ''}` });
  const load = r.load;
  out.push({
    ok: r.loadExit === 0 && load !== undefined,
    text: `the load generator finished (exit ${r.loadExit}${load ? `, ${load.unfinished ?? 0} attempts unfinished after the drain` : ', no final report'})`,
  });
  if (load) {
    const wrong = Object.values(load.errors).reduce((n, e) => n + (e['wrongBytes'] ?? 0), 0);
    out.push({ ok: wrong === 0, text: `every answer byte-exact: ${wrong} with wrong bytes` });
    out.push({ ok: totalServed(load) > 0, text: `answers served: ${totalServed(load).toLocaleString('en-US')}` });
  }
  return out;
}

// ---- output

function errorTable(r: ServerReport): string {
  const load = r.load!;
  const kinds = Object.keys(load.errors) as ClientKind[];
  const codes = [...new Set(kinds.flatMap((k) => Object.keys(load.errors[k])))].sort();
  const lines = [
    '| client kind | clients | answers | other outcomes | ' + (codes.length ? codes.join(' | ') + ' |' : 'errors |'),
    '|---|---:|---:|---|' + (codes.length ? codes.map(() => '---:').join('|') + '|' : '---:|'),
  ];
  for (const k of kinds) {
    const answers = k === 'normal' || k === 'halfClose' || k === 'slow' ? load.served[k].toLocaleString('en-US') : '—';
    const other =
      k === 'reset'
        ? `${load.resets.toLocaleString('en-US')} RSTs sent, ${load.resetLate.toLocaleString('en-US')} seen closed by the server first`
        : k === 'idle'
          ? `${load.idleHeld.toLocaleString('en-US')} connections held and closed`
          : '';
    const errs = codes.length ? codes.map((c) => String(load.errors[k][c] ?? 0)).join(' | ') : '0';
    lines.push(`| ${k} | ${r.mix[k]} | ${answers} | ${other} | ${errs} |`);
  }
  return lines.join('\n');
}

function errorLine(load: LoadCounters): string {
  const byCode = new Map<string, number>();
  for (const e of Object.values(load.errors)) for (const [c, n] of Object.entries(e)) byCode.set(c, (byCode.get(c) ?? 0) + n);
  const all = ['ECONNRESET', 'EPIPE', 'timeout', 'ECONNREFUSED', 'wrongBytes', 'closedEarly'];
  for (const c of byCode.keys()) if (!all.includes(c)) all.push(c);
  return all.map((c) => `${c} ${byCode.get(c) ?? 0}`).join(', ');
}

function serverSection(cfg: Config, machine: MachineInfo, r: ServerReport, chart: string | undefined): string {
  const s = r.stats;
  const parts = [`## ${r.label}`, ''];
  const load = r.load;
  if (load) {
    parts.push(
      `Answers served: **${totalServed(load).toLocaleString('en-US')}** (${fmt(s.answersPerSecond.median)}/s median after the warm-up, ${fmt(s.answersPerSecond.min)}–${fmt(s.answersPerSecond.max)}) over ${load.connections.toLocaleString('en-US')} connections; ` +
        `errors: ${errorLine(load)}.`,
      '',
      errorTable(r),
      '',
    );
  }
  parts.push(
    `| after the ${cfg.warmupS} s warm-up | min | median | max | first ${cfg.windowS} s | middle ${cfg.windowS} s | last ${cfg.windowS} s | drift (last − first) | limit |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| fds | ${fmt(s.fds.min)} | ${fmt(s.fds.median)} | ${fmt(s.fds.max)} | ${fmt(s.fdFirst)} | — | ${fmt(s.fdLast)} | ${change(s.fdFirst, s.fdLast)} | ${fmt(s.fdLimit)} |`,
    `| RSS MiB | ${fmt(s.rssKiB.min / 1024)} | ${fmt(s.rssKiB.median / 1024)} | ${fmt(s.rssKiB.max / 1024)} | ${fmt(s.rssFirst / 1024)} | ${fmt(s.rssMid / 1024)} | ${fmt(s.rssLast / 1024)} | ${change(s.rssFirst / 1024, s.rssLast / 1024)} | ${fmt(s.rssLimit / 1024)} |`,
    '',
    `Before the load: ${r.before.fds} fds, RSS ${mib(r.before.rssKiB)}; ${Math.round(r.after.ms)} ms after it: ${r.after.fds} fds. ` +
      `The load generator's sockets open at once after the warm-up: median ${fmt(s.clientSockets.median)}, ${fmt(s.clientSockets.min)}–${fmt(s.clientSockets.max)} ` +
      `(a client between two attempts, thinking, has none). ` +
      `Server CPU: ${pct(s.serverCpuShare)} of a core; load generator: ${pct(s.loadCpuShare)} of a core, with an event-loop delay p99 of at most ${fmt(s.loopDelayP99MaxMs)} ms in any second after the warm-up (timeouts are 10 s); ` +
      `the machine's ${machine.cores} CPUs were ${pct(r.machineBusy)} busy (every process on it, ours and others'). ` +
      (r.name === 'echo' && load && load.served.slow > 0
        ? `Slow readers read their 1 MiB back at ${fmt((load.served.slow * 1024) / load.slowReadSeconds)} KiB/s on average (they ask for 512). `
        : '') +
      `Latency p99 of the normal clients (${r.name === 'hello' ? 'connect, request, whole reply' : 'one round trip'}), median over the seconds of each window: ` +
      `${fmt(s.latencyP99.first)} ms in the first, ${fmt(s.latencyP99.last)} ms in the last.`,
  );
  if (r.stderr.length) {
    parts.push('', `The server wrote ${r.stderr.length} lines on stderr; the first ones:`, '', '```', ...r.stderr.slice(0, 10), '```');
  }
  parts.push('', ...r.checks.map((c) => `- ${c.ok ? '✓' : '✗'} ${c.text}`));
  if (chart) parts.push('', `![${r.label}: fds, RSS and answers/s over time](${chart})`);
  return parts.join('\n');
}

function markdown(cfg: Config, machine: MachineInfo, reports: ServerReport[], charts: Map<ServerName, string>): string {
  const mix = Object.entries(MIX)
    .map(([k, f]) => `${k} ${Math.round(f * 100)}%`)
    .join(', ');
  const thinking = (['hello', 'echo'] as const)
    .map((target) => `${target} ${Object.entries(THINK_MS[target]).filter(([, [, hi]]) => hi > 0).map(([k, [lo, hi]]) => `${k} ${lo}–${hi}`).join(', ')}`)
    .join('; ');
  const parts = [
    '# Soak',
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `Command: \`${cfg.command}\`. ${cfg.clients.toLocaleString('en-US')} concurrent clients per server (${mix}; see bench/soak-load.ts) for ${cfg.seconds} s, ` +
      `each pausing between attempts (ms, uniform: ${thinking}), ` +
      `on 127.0.0.1; server pinned to CPU ${cfg.serverCpu ?? '(any)'}, load generator to CPU ${cfg.loadCpu ?? '(any)'}; ulimit -n ${cfg.nofile}. ` +
      `fds (/proc/PID/fd) and RSS (VmRSS) sampled every ${SAMPLE_MS} ms; after a ${cfg.warmupS} s warm-up the first ${cfg.windowS} s are compared with the last ${cfg.windowS} s. ` +
      'Errors are counted once per attempt, by kind: the errno code, timeout (10 s without a byte), wrongBytes, closedEarly (EOF before the whole answer, or on an idle connection).',
  ];
  for (const r of reports) parts.push('', serverSection(cfg, machine, r, charts.get(r.name)));
  return `${parts.join('\n')}\n`;
}

/** fd count (with the load generator's open sockets), RSS and answers/s
 * against time, one panel each, with the warm-up and the two compared
 * windows shaded. */
function soakChart(cfg: Config, r: ServerReport): TopLevelSpec {
  const rows: Array<{ t: number; series: string; value: number }> = [];
  const round = (t: number): number => Math.round(t * 100) / 100;
  for (const s of r.samples) {
    rows.push({ t: round(s.t), series: 'server fds', value: s.fds });
    rows.push({ t: round(s.t), series: 'RSS', value: s.rssKiB / 1024 });
  }
  // The load generator's clock starts a moment after the parent's: close enough at this scale.
  for (const k of r.ticks) rows.push({ t: round(k.t), series: 'client sockets open', value: k.open });
  for (const x of answerRates(r.ticks)) rows.push({ t: round(x.t), series: 'answers/s', value: x.perSecond });
  const bands = [
    { from: 0, to: cfg.warmupS, band: 'warm-up' },
    { from: cfg.warmupS, to: cfg.warmupS + cfg.windowS, band: 'compared windows' },
    { from: (cfg.warmupS + cfg.seconds - cfg.windowS) / 2, to: (cfg.warmupS + cfg.seconds + cfg.windowS) / 2, band: 'middle window' },
    { from: cfg.seconds - cfg.windowS, to: cfg.seconds, band: 'compared windows' },
  ];
  const end = Math.ceil(Math.max(cfg.seconds, ...r.samples.map((s) => s.t), ...r.ticks.map((k) => k.t)));
  const x = { field: 't', type: 'quantitative' as const, title: 'seconds since the load started', scale: { domain: [0, end] } };
  const COLOURS: Record<string, string> = { 'server fds': '#d62728', 'client sockets open': '#999', RSS: '#1f77b4', 'answers/s': '#2ca02c' };
  const panel = (series: string[], title: string): NonNullable<Extract<TopLevelSpec, { vconcat: unknown }>['vconcat']>[number] => ({
    width: 620,
    height: 130,
    layer: [
      {
        data: { values: bands },
        mark: { type: 'rect', opacity: 0.12 },
        encoding: {
          x: { field: 'from', type: 'quantitative', scale: { domain: [0, end] } },
          x2: { field: 'to' },
          color: { field: 'band', type: 'nominal', scale: { domain: ['warm-up', 'compared windows', 'middle window'], range: ['#888', '#3b7dd8', '#e3a21a'] }, legend: null },
        },
      },
      {
        transform: [{ filter: { field: 'series', oneOf: series } }],
        mark: { type: 'line', interpolate: 'monotone' },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title, scale: { zero: false } },
          stroke: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' }, scale: { domain: series, range: series.map((name) => COLOURS[name]!) } },
        },
      },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Soak: ${r.label}, ${cfg.clients.toLocaleString('en-US')} clients, ${cfg.seconds} s`,
      fontSize: 14,
      subtitle: ['shaded: the warm-up (grey), the first and last windows compared (blue),', 'the middle window (orange: is RSS still rising at the end?)'],
    },
    data: { values: rows },
    vconcat: [panel(['server fds', 'client sockets open'], 'fds / sockets'), panel(['RSS'], 'server RSS, MiB'), panel(['answers/s'], 'answers/s')],
    resolve: { scale: { stroke: 'independent' } },
  };
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  const machine = machineInfo();
  progress(machineLine(machine));
  const reports: ServerReport[] = [];
  for (const name of cfg.servers) reports.push(await soakOne(cfg, name));
  machine.loadAverage.push(loadAverage1());

  const dir = join(packageRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const charts = new Map<ServerName, string>();
  for (const r of reports) {
    if (r.samples.length === 0) continue;
    const file = `soak-${r.name}.png`;
    await renderPng(soakChart(cfg, r), join(dir, file));
    charts.set(r.name, file);
  }
  const md = markdown(cfg, machine, reports, charts);
  await writeFile(join(dir, 'soak.md'), md);
  await writeFile(join(dir, 'soak.json'), `${JSON.stringify({ machine, config: cfg, servers: reports }, null, 2)}\n`);
  process.stdout.write(`\n${md}`);
  progress(`written to bench/results/soak.md, soak.json${charts.size ? ' and ' + [...charts.values()].join(', ') : ''}`);
  const failed = reports.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.label}: ${c.text}`));
  for (const f of failed) process.stderr.write(`SOAK FAILED: ${f}\n`);
  if (failed.length) process.exitCode = 1;
  else progress('passed: fds and RSS level, every connection released');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
