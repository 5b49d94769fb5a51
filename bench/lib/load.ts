// The load generators of the hello-world benchmark, behind one call: the
// embedded one (bench/c/loadgen.c, compiled on first use), Apache Bench and
// wrk. All run the classic workload, a new connection per request with
// `concurrency` in flight, and report their own CPU time, so that a run can
// say whether the client rather than the server limited requests/s. wrk also
// runs the keep-alive workload (`keepAlive`): HTTP/1.1 over `concurrency`
// kept connections for `durationS`, counting the replies and the connections
// the server closed (a Lua script), so that requests per connection show that
// the connections were kept; probeKeepAlive checks a server keeps them at all.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  /** wrk only: keep the connections (HTTP/1.1 keep-alive) instead of sending
   * `Connection: close`, and count replies and server-closed connections. */
  keepAlive?: boolean;
  /** The embedded generator only: start at most this many connections per
   * second (a fixed offered rate; still at most `concurrency` in flight).
   * 0 or absent: as fast as replies come. */
  rate?: number;
  /** wrk keep-alive runs only: each connection waits this long (ms, whole)
   * after a reply before its next request, so that the offered rate is about
   * `concurrency` × 1000 / (delay + latency) whatever the server: every
   * server below its limit, none measured client-bound. 0 (the default): no
   * wait, as fast as the slower of the two. */
  delayMs?: number;
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
  /** Keep-alive runs: the connections used (the `concurrency` opened at the
   * start and one more for each the server closed) and how many of them the
   * server closed (replies with `Connection: close`). */
  connections?: number;
  closedByServer?: number;
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

/** The Lua script of wrk's keep-alive runs: each thread counts its replies and
 * those that close the connection, and done() prints the totals. */
export const WRK_KEEPALIVE_LUA = `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) responses = 0; closes = 0 end
function response(status, headers, body)
  responses = responses + 1
  local c = headers["Connection"] or headers["connection"]
  if c ~= nil and string.lower(c) == "close" then closes = closes + 1 end
end
function done(summary, latency, requests)
  local r, c = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("responses"); c = c + t:get("closes") end
  io.write(string.format("keep-alive: %d responses, %d closed by the server\\n", r, c))
end
`;

/** Reads the line WRK_KEEPALIVE_LUA prints. */
export function parseWrkKeepAlive(stdout: string): { responses: number; closedByServer: number } {
  const m = /^keep-alive: (\d+) responses, (\d+) closed by the server$/m.exec(stdout);
  if (m === null) throw new Error("wrk's report has no keep-alive line (was the Lua script run?)");
  return { responses: Number(m[1]), closedByServer: Number(m[2]) };
}

/** Runs `argv` (made with a fresh temporary directory, for any file it needs)
 * under bench/c/cputime and returns its stdout and CPU µs. */
async function withCpuTime(argv: string[] | ((dir: string) => Promise<string[]>), opts: LoadOptions): Promise<{ stdout: string; cpuUs: number }> {
  const cputime = await compileC('cputime');
  const dir = await mkdtemp(join(tmpdir(), 'node-selectors-bench-'));
  try {
    if (typeof argv === 'function') argv = await argv(dir);
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
      const argv = [loadgen, '-n', String(requests), '-c', String(concurrency), ...(opts.rate ? ['-r', String(opts.rate)] : []), '-t', String(opts.timeoutS), url];
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
      const common = ['wrk', `-t${opts.threads ?? 1}`, `-c${concurrency}`, `-d${opts.durationS}s`];
      // Keep-alive: HTTP/1.1 as wrk sends it, every connection kept, one
      // request in flight on each, and a script counting the connections the
      // server closed. Otherwise Connection: close makes wrk open a new
      // connection per request, the workload of ab and of the embedded
      // generator.
      const { stdout, cpuUs } = opts.keepAlive
        ? await withCpuTime(async (dir) => {
            const script = join(dir, 'keepalive.lua');
            await writeFile(script, WRK_KEEPALIVE_LUA + (opts.delayMs ? `function delay() return ${opts.delayMs} end\n` : ''));
            return [...common, '-s', script, url];
          }, opts)
        : await withCpuTime([...common, '-H', 'Connection: close', url], opts);
      const r = parseWrk(stdout);
      const result: LoadResult = {
        generator,
        complete: r.requests,
        failed: r.socketErrors,
        non200: r.non2xx,
        unfinished: 0,
        elapsedS: r.durationS,
        requestsPerSecond: r.requestsPerSecond,
        cpuUs,
      };
      if (!opts.keepAlive) return result;
      const { closedByServer } = parseWrkKeepAlive(stdout);
      return { ...result, connections: concurrency + closedByServer, closedByServer };
    }
  }
}

const PROBE_REQUEST = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** Whether the server at `url` keeps a connection: two pipelined HTTP/1.1
 * requests, then a third once both replies came, all on one connection, each
 * answered 200 in order. Resolves to why not, or undefined when it did. */
export function probeKeepAlive(url: string, timeoutMs = 5000): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    let buffered = Buffer.alloc(0);
    let replies = 0;
    let settled = false;
    const finish = (reason: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => finish(`${replies} of 3 replies within ${timeoutMs} ms on one connection`), timeoutMs);
    socket.on('connect', () => socket.write(PROBE_REQUEST + PROBE_REQUEST));
    socket.on('error', (err) => finish(`${err.message} after ${replies} of 3 replies`));
    socket.on('close', () => finish(`the server closed the connection after ${replies} of 3 replies`));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = /^content-length:\s*(\d+)\s*$/im.exec(head);
        if (length === null) return finish(`reply ${replies + 1} has no Content-Length`);
        const total = end + 4 + Number(length[1]);
        if (buffered.length < total) return;
        buffered = buffered.subarray(total);
        if (!/^HTTP\/1\.1 200 /.test(head)) return finish(`reply ${replies + 1} is ${JSON.stringify(head.split('\r\n')[0])}, not HTTP/1.1 200`);
        if (/^connection:\s*close\s*$/im.test(head)) return finish(`reply ${replies + 1} says Connection: close`);
        replies++;
        if (replies === 2) socket.write(PROBE_REQUEST);
        if (replies === 3) return finish(undefined);
      }
    });
  });
}
