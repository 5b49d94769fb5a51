// What the server tables keep of each run (RunRecord), and what they make
// of a server's runs: its summary and its paired ratios to the C server of
// the same rounds (bench/lib/rounds.ts), or to any other server.
import { C_SERVER, type ServerKind } from './hello-servers.js';
import type { LoadgenName } from './load.js';
import { pairedByRound, pairedRatios, type Sample } from './rounds.js';
import { summarize, type Summary } from './stats.js';

/** A run whose load generator used more of its core than this was limited by it. */
export const SATURATED = 0.85;

export interface RunRecord {
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

export interface ServerResult {
  name: string;
  kind: ServerKind;
  runs: RunRecord[];
}

export interface ServerSummary {
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

/** One counted run as the report keeps it: the load, and what the server spent meanwhile. */
export function record(sample: Sample): RunRecord {
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

/** The CPU µs per request of a server's runs that counted, by round. */
function countedCpu(result: ServerResult | undefined): Map<number, number> {
  return new Map((result?.runs ?? []).filter((r) => r.valid && r.quiet).map((r) => [r.run, r.serverCpuUsPerRequest]));
}

/** A server's CPU µs per request over the C server's, by round: over the C
 * server's runs just around each of its runs when the rounds bracketed it
 * (rounds.ts), else over the C server's run in the same round; 1 for the C
 * server itself. */
export function ratiosToC(result: ServerResult, results: ServerResult[]): Map<number, number> {
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
export function summarizeServers(results: ServerResult[]): ServerSummary[] {
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

export interface LoadgenComparison {
  generator: LoadgenName;
  /** Why it was not measured (not installed), or undefined. */
  missing?: string;
  cpuUsPerRequest: Summary;
  requestsPerSecond: Summary;
  serverCpuUsPerRequest: Summary;
}

/** `name`'s CPU µs per request over `reference`'s, round by round, each
 * through its ratio to the C server (ratiosToC): the median and range, or
 * undefined when no round has both. */
export function pairedTo(results: ServerResult[], name: string, reference: string): Summary | undefined {
  const mine = results.find((r) => r.name === name);
  const ref = results.find((r) => r.name === reference);
  if (mine === undefined || ref === undefined) return undefined;
  const ratios = summarize(pairedRatios(ratiosToC(mine, results), ratiosToC(ref, results)));
  return ratios.n > 0 ? ratios : undefined;
}
