// The datagram section of the benchmark: UDP echo servers side by side in one
// run, each pinned to one core, loaded from the other by bench/c/udp_load.c
// (one socket connected to the server, WINDOW datagrams of SIZE bytes in
// flight, a new one sent for each echo, until COUNT echoes came back):
//   - C: an epoll echo server (bench/c/udp_echo.c), the limit;
//   - the hand-written echo over sys.recvfrom/sys.sendto and a selector
//     (bench/servers/udp-echo.ts), on the default backend and on each backend
//     --backends names;
//   - node:dgram (bench/servers/udp-dgram.ts).
// Every server is warmed up, then the rounds go round the servers in turn,
// the order rotating, so that the machine's drift hits all alike
// (bench/lib/rounds.ts, as the hello tables). Per server: the server's own
// CPU µs per datagram echoed (schedstat of all its threads), datagrams/s, and
// the median of per-round ratios to the C server of the same round, with
// their min–max. A run that lost a datagram is invalid; with `quiet`, a run
// during which other work took more of the server's core than the threshold
// is noisy; neither counts, and more rounds run until every server has
// `rounds` paired with the C server's (at most twice as many).
//
//   node dist/bench/dgram.js [--count 100000] [--rounds 5] [--window 16] [--size 64] [--backends epoll,io_uring] [--quiet PCT]
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { availableBackends } from '../lib/index.js';
import { compileC, packageRoot } from './build-c.js';
import { pinned, startServer, type CpuSet, type ServerProcess } from '../support/proc.js';
import { commandLine, numberIn, positiveInt } from '../support/options.js';
import type { QuietOptions } from './lib/quiet.js';
import { counts, measureRounds, pairedRatios, type RoundsReport, type RunCounts } from './lib/rounds.js';
import { fmt, median, summarize } from './lib/stats.js';

const run = promisify(execFile);

/** What udp_load prints. */
interface LoadOutput {
  sent: number;
  received: number;
  lost: number;
  seconds: number;
}

export interface DgramRun {
  /** The round. */
  round: number;
  cpuUsPerDatagram: number;
  perSecond: number;
  lost: number;
  /** The share of the server's core other work took (NaN: not measured). */
  otherLoad: number;
  /** It counted: nothing lost, and the server's core quiet. */
  counted: boolean;
}

export interface DgramRow {
  name: string;
  runs: DgramRun[];
  /** Medians over the valid runs. */
  cpuUsPerDatagram: number;
  perSecond: number;
  /** Median, min and max of the per-round ratios of CPU per datagram to the C server. */
  cpuRatio: { median: number; min: number; max: number };
  /** Runs that lost a datagram. */
  invalidRuns: number;
  /** Runs dropped because the server's core was busy with other work. */
  noisyRuns: number;
}

export interface DgramReport {
  rows: DgramRow[];
  rounds: RoundsReport;
  markdown: string;
}

export interface DgramOptions {
  count: number;
  rounds: number;
  window: number;
  size: number;
  /** Backends of the hand-written echo besides the default one. */
  backends?: readonly string[];
  serverCpu?: CpuSet;
  clientCpu?: CpuSet;
  /** Count a run only when the server's core was quiet (bench/lib/quiet.ts). */
  quiet?: QuietOptions;
  /** Keep each server's first process for every round instead of a fresh
   * one per round (bench/lib/rounds.ts, `restart`). */
  sameProcess?: boolean;
  log?: (line: string) => void;
}

/** What one run of udp_load reports, in the terms measureRounds counts. */
interface DgramLoad extends RunCounts {
  perSecond: number;
  lost: number;
}

interface Server {
  name: string;
  command: string;
  args: string[];
}

/** Runs the section and returns its table. */
export async function runDgramBench(options: DgramOptions): Promise<DgramReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = packageRoot();
  const [echo, load] = await Promise.all([compileC('udp_echo'), compileC('udp_load')]);
  const script = (name: string) => join(root, 'dist', 'bench', 'servers', `${name}.js`);
  const servers: Server[] = [
    { name: 'C epoll echo', command: echo, args: [] },
    { name: 'sys + DefaultSelector', command: process.execPath, args: [script('udp-echo')] },
    ...(options.backends ?? []).map((b) => ({ name: `sys + ${b}`, command: process.execPath, args: [script('udp-echo'), '--backend', b] })),
    { name: 'node:dgram', command: process.execPath, args: [script('udp-dgram')] },
  ];
  const started: ServerProcess[] = [];
  try {
    for (const s of servers) started.push(await startServer(s.command, [...s.args, '--port', '0'], { cpu: options.serverCpu }));
    const once = async (server: ServerProcess, count: number): Promise<DgramLoad> => {
      const args = ['--port', String(server.port), '--count', String(count), '--window', String(options.window), '--size', String(options.size)];
      // Exit 1 means it gave up on a server that lost too much: its report still counts (as invalid).
      const stdout = await run(...pinned(options.clientCpu, load, args)).then(
        (r) => r.stdout,
        (err: { stdout?: string }) => {
          if (!err.stdout) throw err;
          return err.stdout;
        },
      );
      const out = JSON.parse(stdout) as LoadOutput;
      return { complete: out.received, failed: out.lost, non200: 0, unfinished: 0, perSecond: out.received / out.seconds, lost: out.lost };
    };
    const runs = servers.map(() => [] as DgramRun[]);
    const subjects = servers.map((s, i) => ({
      name: s.name,
      index: i,
      get pids() {
        return [started[i]!.pid];
      },
      load: (count: number) => once(started[i]!, count),
    }));
    const restart = async ({ index }: { index: number }): Promise<void> => {
      const s = servers[index]!;
      await started[index]!.stop();
      started[index] = await startServer(s.command, [...s.args, '--port', '0'], { cpu: options.serverCpu });
    };
    const rounds = await measureRounds(subjects, {
      runs: options.rounds,
      requests: options.count,
      warmup: Math.min(options.count, 20_000),
      ...(options.quiet ? { quiet: options.quiet } : {}),
      reference: subjects[0],
      ...(options.sameProcess ? {} : { restart }),
      log: (line) => log(`datagrams: ${line}`),
      onSample: ({ name, index }, sample) => {
        const r: DgramRun = {
          round: sample.run,
          cpuUsPerDatagram: sample.cpuUsPerRequest[0]!,
          perSecond: sample.load.perSecond,
          lost: sample.load.lost,
          otherLoad: sample.otherLoad,
          counted: counts(sample),
        };
        runs[index]!.push(r);
        log(
          `datagrams round ${r.round}: ${name}: ${fmt(r.cpuUsPerDatagram)} µs/datagram, ${fmt(r.perSecond)}/s` +
            (r.lost ? `, ${r.lost} lost: INVALID` : '') +
            (Number.isFinite(r.otherLoad) ? `, other load on its core ${Math.round(Math.max(0, r.otherLoad) * 100)}%${sample.quiet ? '' : ': NOISY, not counted'}` : ''),
        );
      },
    });
    const byRound = (rs: DgramRun[]) => new Map(rs.filter((r) => r.counted).map((r) => [r.round, r.cpuUsPerDatagram]));
    const c = byRound(runs[0]!);
    const rows = servers.map((s, i): DgramRow => {
      const counted = runs[i]!.filter((r) => r.counted);
      const summary = summarize(pairedRatios(byRound(runs[i]!), c));
      return {
        name: s.name,
        runs: runs[i]!,
        cpuUsPerDatagram: median(counted.map((r) => r.cpuUsPerDatagram)),
        perSecond: median(counted.map((r) => r.perSecond)),
        cpuRatio: { median: summary.median, min: summary.min, max: summary.max },
        invalidRuns: runs[i]!.filter((r) => r.lost > 0).length,
        noisyRuns: runs[i]!.filter((r) => r.lost === 0 && !r.counted).length,
      };
    });
    const markdown = [
      `UDP echo over 127.0.0.1: ${options.count} datagrams of ${options.size} bytes per run, ${options.window} in flight, ` +
        `servers on ${options.serverCpu === undefined ? 'any CPU' : `CPU ${options.serverCpu}`}, the load on ` +
        `${options.clientCpu === undefined ? 'any CPU' : `CPU ${options.clientCpu}`}; ${options.rounds} counted rounds ` +
        `(${rounds.rounds} run, ${rounds.noisyRuns} runs dropped as noisy${options.quiet ? `: other work above ${Math.round(options.quiet.threshold * 100)}% of the server's core` : ''}; ` +
        `${options.sameProcess ? "each server's first process in every round" : 'every round after the first with each server started afresh'}), ` +
        'medians of the runs that counted; × C the median (min–max) of per-round ratios to the C server of the same round.',
      '',
      '| server | CPU µs/datagram | × C (min–max) | datagrams/s | runs lost | runs noisy |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${fmt(r.cpuUsPerDatagram)} | ${fmt(r.cpuRatio.median)} (${fmt(r.cpuRatio.min)}–${fmt(r.cpuRatio.max)}) | ` +
          `${fmt(r.perSecond)} | ${r.invalidRuns} | ${r.noisyRuns} |`,
      ),
    ].join('\n');
    return { rows, rounds, markdown };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

function main(): void {
  const cli = commandLine('dgram', 'node dist/bench/dgram.js [options]', {
    count: { type: 'string', default: '100000', arg: 'N', help: 'datagrams echoed per run' },
    rounds: { type: 'string', default: '5', arg: 'R', help: 'counted runs per server, interleaved' },
    window: { type: 'string', default: '16', arg: 'W', help: 'datagrams in flight' },
    size: { type: 'string', default: '64', arg: 'BYTES', help: 'datagram size' },
    backends: { type: 'string', default: '', arg: 'LIST', help: 'backends of the hand-written echo besides the default one, comma-separated' },
    quiet: { type: 'string', default: '15', arg: 'PCT', help: "a run counts only when other work took less than PCT% of the server's core; 100: every run counts" },
    'same-process': { type: 'boolean', default: false, help: "keep each server's first process for every round instead of starting a fresh one per round" },
  });
  const v = cli.values;
  const backends = v.backends === '' ? [] : v.backends.split(',');
  for (const b of backends) {
    if (!availableBackends().includes(b as never)) cli.fail(`backend '${b}' is not available here (available: ${availableBackends().join(', ')})`);
  }
  const size = cli.check(() => positiveInt('size', v.size));
  if (size > 65507) cli.fail(`--size must be at most 65507 (a UDP datagram), got ${size}`);
  const quiet = cli.check(() => numberIn('quiet', v.quiet, 0, 100)) / 100;
  const pinnedCores = availableParallelism() >= 2;
  void runDgramBench({
    count: cli.check(() => positiveInt('count', v.count)),
    rounds: cli.check(() => positiveInt('rounds', v.rounds)),
    window: cli.check(() => positiveInt('window', v.window)),
    size,
    backends,
    // Server on CPU 0, load on CPU 1, as npm run bench pins them; one core: no pinning.
    serverCpu: pinnedCores ? 0 : undefined,
    clientCpu: pinnedCores ? 1 : undefined,
    ...(pinnedCores && quiet < 1 ? { quiet: { cpu: 0, threshold: quiet, maxWaitMs: 5000 } } : {}),
    sameProcess: v['same-process'],
  }).then((report) => console.log(report.markdown));
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) main();
