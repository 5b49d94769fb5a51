// The load generators of the hello-world benchmark, behind one call: the
// embedded one (bench/c/loadgen.c, compiled on first use), Apache Bench and
// wrk. All run the classic workload, a new connection per request with
// `concurrency` in flight, and report their own CPU time, so that a run can
// say whether the client rather than the server limited requests/s.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileC } from '../build-c.js';
import { type CpuSet, onPath, pinned } from '../../support/proc.js';

const run = promisify(execFile);

export type LoadgenName = 'embedded' | 'ab' | 'wrk';
export const LOADGENS: readonly LoadgenName[] = ['embedded', 'ab', 'wrk'];

export interface LoadOptions {
  url: string;
  /** Requests to make (embedded, ab). */
  requests: number;
  concurrency: number;
  /** How long wrk runs, which has no request count (s). */
  durationS: number;
  /** Pin the generator to this CPU or CPU list with taskset. */
  cpu?: CpuSet;
  /** wrk's threads (-t), 1 unless given. */
  threads?: number;
  /** Give up after this long (s). */
  timeoutS: number;
}

export interface LoadResult {
  generator: LoadgenName;
  /** Replies received whole, whatever their status. */
  complete: number;
  /** Connect errors, resets, replies cut short. */
  failed: number;
  /** Whole replies whose status was not 200 (ab, wrk: not 2xx). */
  non200: number;
  /** Requests asked for but neither complete nor failed when the run ended. */
  unfinished: number;
  elapsedS: number;
  requestsPerSecond: number;
  /** The generator's own CPU time (user + system), µs. */
  cpuUs: number;
}

const DEBIAN_PACKAGE: Record<Exclude<LoadgenName, 'embedded'>, string> = { ab: 'apache2-utils', wrk: 'wrk' };

/** Why a load generator cannot run here (with what to install), or undefined if it can. */
export function missingLoadgen(name: LoadgenName): string | undefined {
  if (name === 'embedded') return undefined;
  if (onPath(name)) return undefined;
  const pkg = DEBIAN_PACKAGE[name];
  return `${name} is not installed: on Debian/Ubuntu run \`apt-get install ${pkg}\` (package ${pkg})`;
}

/** Runs argv pinned to `cpu` (see proc.ts's pinned) and returns its stdout. */
async function exec(cpu: CpuSet | undefined, argv: string[], timeoutS: number): Promise<string> {
  const [cmd, args] = pinned(cpu, argv[0]!, argv.slice(1));
  const { stdout } = await run(cmd, args, { maxBuffer: 1 << 22, timeout: timeoutS * 1000 + 10_000, killSignal: 'SIGKILL' });
  return stdout;
}

export interface AbReport {
  complete: number;
  failed: number;
  non200: number;
  timeTakenS: number;
  requestsPerSecond: number;
}

/** Reads the figures out of Apache Bench's report. */
export function parseAb(stdout: string): AbReport {
  const field = (label: string, required: boolean): number => {
    const m = new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(stdout);
    if (m === null) {
      if (required) throw new Error(`ab's report has no '${label}' line`);
      return 0;
    }
    return Number(m[1]);
  };
  return {
    complete: field('Complete requests', true),
    failed: field('Failed requests', true),
    non200: field('Non-2xx responses', false),
    timeTakenS: field('Time taken for tests', true),
    requestsPerSecond: field('Requests per second', true),
  };
}

export interface WrkReport {
  requests: number;
  durationS: number;
  socketErrors: number;
  non2xx: number;
  requestsPerSecond: number;
}

/** Reads the figures out of wrk's report. */
export function parseWrk(stdout: string): WrkReport {
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)\b/m.exec(stdout);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
  if (total === null || rps === null) throw new Error("wrk's report has no request count or Requests/sec line");
  const scale: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60 };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  return {
    requests: Number(total[1]),
    durationS: Number(total[2]) * scale[total[3]!]!,
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    requestsPerSecond: Number(rps[1]),
  };
}

/** Runs `argv` under bench/c/cputime and returns its stdout and CPU µs. */
async function withCpuTime(argv: string[], opts: LoadOptions): Promise<{ stdout: string; cpuUs: number }> {
  const cputime = await compileC('cputime');
  const dir = await mkdtemp(join(tmpdir(), 'node-selectors-bench-'));
  try {
    const file = join(dir, 'cpu.json');
    const stdout = await exec(opts.cpu, [cputime, file, ...argv], opts.timeoutS);
    const cpu = JSON.parse(await readFile(file, 'utf8')) as { userUs: number; sysUs: number };
    return { stdout, cpuUs: cpu.userUs + cpu.sysUs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runLoad(generator: LoadgenName, opts: LoadOptions): Promise<LoadResult> {
  const missing = missingLoadgen(generator);
  if (missing !== undefined) throw new Error(missing);
  const { url, requests, concurrency } = opts;
  switch (generator) {
    case 'embedded': {
      const loadgen = await compileC('loadgen');
      const argv = [loadgen, '-n', String(requests), '-c', String(concurrency), '-t', String(opts.timeoutS), url];
      const r = JSON.parse(await exec(opts.cpu, argv, opts.timeoutS)) as LoadResult & { timedOut: boolean };
      return {
        generator,
        complete: r.complete,
        failed: r.failed,
        non200: r.non200,
        unfinished: r.unfinished,
        elapsedS: r.elapsedS,
        requestsPerSecond: r.requestsPerSecond,
        cpuUs: r.cpuUs,
      };
    }
    case 'ab': {
      // -r: count receive errors as failed requests instead of aborting the run.
      const argv = ['ab', '-q', '-r', '-s', String(opts.timeoutS), '-n', String(requests), '-c', String(concurrency), url];
      const { stdout, cpuUs } = await withCpuTime(argv, opts);
      const r = parseAb(stdout);
      return {
        generator,
        complete: r.complete - r.failed,
        failed: r.failed,
        non200: r.non200,
        unfinished: Math.max(0, requests - r.complete),
        elapsedS: r.timeTakenS,
        requestsPerSecond: r.requestsPerSecond,
        cpuUs,
      };
    }
    case 'wrk': {
      // Connection: close makes wrk open a new connection per request, the
      // workload of ab and of the embedded generator.
      const argv = ['wrk', `-t${opts.threads ?? 1}`, `-c${concurrency}`, `-d${opts.durationS}s`, '-H', 'Connection: close', url];
      const { stdout, cpuUs } = await withCpuTime(argv, opts);
      const r = parseWrk(stdout);
      return {
        generator,
        complete: r.requests,
        failed: r.socketErrors,
        non200: r.non2xx,
        unfinished: 0,
        elapsedS: r.durationS,
        requestsPerSecond: r.requestsPerSecond,
        cpuUs,
      };
    }
  }
}
