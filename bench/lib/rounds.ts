// The measuring loop of the server benchmarks (bench/run.ts's hello-world
// servers and load generators, bench/db.ts's database servers): each subject
// is warmed up, then the counted rounds go round the subjects in turn, each
// subject once per round, the order rotating from one round to the next, so
// that drift on a shared machine hits all alike and no subject always runs
// first or last. A run costs what the subject's processes spent while the
// load ran: their own CPU time from /proc (proc.ts), per reply, which other
// load on the machine inflates far less than it does requests/s.
//
// On a shared machine even that moves by tens of per cent from one minute to
// the next, for every subject alike. So subjects are compared by paired
// ratios: subject / reference within the same round, minutes apart at most,
// and the median of those ratios over the rounds (pairedRatios). With
// `quiet`, a run counts only when the server's core had little other work
// during it (quiet.ts): each run first waits a little for the core to be
// quiet, a run with more other load than the threshold is dropped, and more
// rounds are run (up to `maxRounds`) until every subject has `runs` rounds
// in which it and the reference both counted. With `restart`, every round
// measures fresh processes, so that the medians are over processes too.
import type { LoadResult } from './load.js';
import { otherLoad, readCpu, waitForQuiet, type QuietOptions } from './quiet.js';
import { cpuTimeUs } from '../../support/proc.js';

/** What a run's load reports, as far as counting it goes (a LoadResult,
 * or what a datagram load reports in those terms). */
export interface RunCounts {
  /** Requests answered whole (datagrams echoed). */
  complete: number;
  /** Requests that failed (datagrams lost). */
  failed: number;
  non200: number;
  unfinished: number;
  closedByServer?: number;
}

export interface Subject<L extends RunCounts = LoadResult> {
  /** For progress lines. */
  name: string;
  /** The processes whose CPU time a run counts, the server's first. */
  pids: readonly number[];
  /** Puts `requests` requests on the server (wrk runs for its duration instead). */
  load(requests: number): Promise<L>;
}

/** The load type of a Subject. */
type LoadOf<T> = T extends Subject<infer L> ? L : never;

export interface Sample<L extends RunCounts = LoadResult> {
  /** The round, 1 for the first counted one. */
  run: number;
  load: L;
  /** The CPU µs each of the subject's pids used during the run, in their order. */
  cpuUs: number[];
  /** cpuUs per complete reply (NaN when none came). */
  cpuUsPerRequest: number[];
  /** No request failed, was answered other than 200 or left unfinished, no
   * kept connection was closed by the server (keep-alive runs), and at least
   * one was answered. */
  valid: boolean;
  /** The share of the server's core (0..1) other work took during the run
   * (quiet.ts); NaN without `quiet`. */
  otherLoad: number;
  /** otherLoad was below the threshold (always true without `quiet`). Only
   * runs both valid and quiet count in the medians and the ratios. */
  quiet: boolean;
  /** With `bracket`: the reference's CPU µs per request in the runs just
   * before and after this one (their mean, or the one that counted), NaN
   * when neither counted; undefined for the reference's own runs and
   * without `bracket`. */
  referenceCpuUsPerRequest?: number;
}

export interface RoundsOptions<T extends Subject<RunCounts>> {
  /** Rounds to count (per subject, paired with the reference when there is one). */
  runs: number;
  /** Requests per counted run. */
  requests: number;
  /** Requests per subject before the first counted run: the JIT, caches and
   * the listen queue warm up before anything is measured. */
  warmup: number;
  /** Keep the subjects' order in every run instead of rotating it. */
  fixedOrder?: boolean;
  /** A process's CPU time so far, µs: cpuTimeUs (the default) or statCpuUs. */
  clock?: (pid: number) => number;
  /** Count a run only when the server's core was quiet (see above). */
  quiet?: QuietOptions;
  /** The subject the others are compared with, round by round: more rounds
   * are run until every subject has `runs` rounds in which it and this one
   * both counted. Without it, until each has `runs` counted runs. */
  reference?: T;
  /** The most rounds to run in all (default: 2 × runs). */
  maxRounds?: number;
  /** Run the reference before the first subject of a round and after every
   * subject, so that each subject's run is compared with the reference's
   * runs just around it, seconds apart, rather than with one run somewhere
   * in the round: on a machine whose speed drifts within a round this is
   * what makes a ratio reproducible. Each subject's sample then carries
   * `referenceCpuUsPerRequest`, and is reported once the run after it ends. */
  bracket?: boolean;
  /** Starts `subject` afresh (a new process, whose pids the subject then
   * reports) before every round after the first; each is warmed up again
   * before the round's runs, so that the medians are over processes as
   * well as rounds: how the JIT and the heap come out differs a little (a few
   * per cent, measured side by side) from one Node process to the next. */
  restart?: (subject: T) => Promise<void>;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Called after each run of a round, as it ends. */
  onSample(subject: T, sample: Sample<LoadOf<T>>): void;
}

export interface RoundsReport {
  /** Rounds run, counted or not. */
  rounds: number;
  /** Runs dropped because the server's core was busy with other work. */
  noisyRuns: number;
  /** Time spent waiting for the server's core to be quiet before runs, ms. */
  waitedMs: number;
}

/** Waits for quiet that may end with the core still busy, in a row, before
 * runs stop waiting (see measureRounds). */
const GIVE_UP_WAITING = 3;

/** Whether a sample counts in medians and ratios. */
export const counts = (s: Sample<RunCounts>): boolean => s.valid && s.quiet;

/** Warms up each subject, then measures rounds of one run each (see above). */
export async function measureRounds<T extends Subject<RunCounts>>(subjects: readonly T[], options: RoundsOptions<T>): Promise<RoundsReport> {
  const clock = options.clock ?? cpuTimeUs;
  const quiet = options.quiet;
  const reference = options.reference;
  const maxRounds = Math.max(options.runs, options.maxRounds ?? 2 * options.runs);
  for (const subject of subjects) {
    options.log?.(`warming up ${subject.name}: ${options.warmup} requests`);
    await subject.load(options.warmup);
  }
  // Per subject, the rounds in which it counted.
  const counted = new Map<T, Set<number>>(subjects.map((s) => [s, new Set<number>()]));
  const paired = (s: T): number => {
    const mine = counted.get(s)!;
    if (reference === undefined || s === reference) return mine.size;
    const ref = counted.get(reference)!;
    let n = 0;
    for (const r of mine) if (ref.has(r)) n++;
    return n;
  };
  const report: RoundsReport = { rounds: 0, noisyRuns: 0, waitedMs: 0 };
  const bracket = options.bracket === true && reference !== undefined;
  const others = bracket ? subjects.filter((s) => s !== reference) : subjects;
  // Bracketing: the reference's last run (its CPU µs per request, NaN when
  // it did not count), and the subject run waiting for the next one.
  let lastReference: number | undefined;
  let waiting: { subject: T; sample: Sample<LoadOf<T>>; before: number } | undefined;
  // Waits that ended with the core still busy, in a row: after
  // GIVE_UP_WAITING of them the other work is not passing, and runs go on
  // without waiting until one is quiet again.
  let busyWaits = 0;
  const measure = async (subject: T, run: number): Promise<Sample<LoadOf<T>>> => {
    if (quiet && busyWaits < GIVE_UP_WAITING) {
      const { waitedMs, load } = await waitForQuiet(quiet);
      report.waitedMs += waitedMs;
      if (load >= quiet.threshold) {
        busyWaits++;
        options.log?.(
          `CPU ${quiet.cpu} still ${Math.round(load * 100)}% busy with other work after ${Math.round(waitedMs)} ms: running anyway` +
            (busyWaits === GIVE_UP_WAITING ? `; no more waiting until a run is quiet` : ''),
        );
      } else {
        busyWaits = 0;
      }
    }
    const cpuBefore = quiet ? readCpu(quiet.cpu) : undefined;
    const before = subject.pids.map(clock);
    const load = (await subject.load(options.requests)) as LoadOf<T>;
    const cpuUs = subject.pids.map((pid, i) => clock(pid) - before[i]!);
    const cpuAfter = quiet ? readCpu(quiet.cpu) : undefined;
    // The server's own time is what it spent on its core (it is pinned there).
    const other = cpuBefore && cpuAfter ? otherLoad(cpuBefore, cpuAfter, cpuUs[0]!) : NaN;
    const isQuiet = quiet === undefined || !(other >= quiet.threshold);
    if (!isQuiet) report.noisyRuns++;
    else busyWaits = 0;
    return {
      run,
      load,
      cpuUs,
      cpuUsPerRequest: cpuUs.map((us) => (load.complete > 0 ? us / load.complete : NaN)),
      valid: load.failed === 0 && load.non200 === 0 && load.unfinished === 0 && (load.closedByServer ?? 0) === 0 && load.complete > 0,
      otherLoad: other,
      quiet: isQuiet,
    };
  };
  const runReference = async (run: number): Promise<void> => {
    const sample = await measure(reference!, run);
    const value = counts(sample) ? sample.cpuUsPerRequest[0]! : NaN;
    if (counts(sample)) counted.get(reference!)!.add(run);
    if (waiting !== undefined) {
      // The subject's run between the reference's last run and this one.
      const around = [waiting.before, value].filter(Number.isFinite);
      const ref = around.length ? around.reduce((a, b) => a + b, 0) / around.length : NaN;
      waiting.sample.referenceCpuUsPerRequest = ref;
      if (counts(waiting.sample) && Number.isFinite(ref)) counted.get(waiting.subject)!.add(waiting.sample.run);
      options.onSample(waiting.subject, waiting.sample);
      waiting = undefined;
    }
    lastReference = value;
    options.onSample(reference!, sample);
  };
  const pairs = (s: T): number => (bracket ? counted.get(s)!.size : paired(s));
  for (let run = 1; run <= maxRounds; run++) {
    if (run > options.runs && subjects.every((s) => pairs(s) >= options.runs)) break;
    report.rounds = run;
    if (run > 1 && options.restart !== undefined) {
      for (const subject of subjects) {
        await options.restart(subject);
        options.log?.(`round ${run}: restarted ${subject.name}, warming up: ${options.warmup} requests`);
        await subject.load(options.warmup);
      }
    }
    // The reference's run that ended the last round starts this one.
    if (bracket && lastReference === undefined) await runReference(run);
    for (let k = 0; k < others.length; k++) {
      const subject = others[options.fixedOrder ? k : (k + run - 1) % others.length]!;
      const sample = await measure(subject, run);
      if (!bracket) {
        if (counts(sample)) counted.get(subject)!.add(run);
        options.onSample(subject, sample);
        continue;
      }
      waiting = { subject, sample, before: lastReference ?? NaN };
      await runReference(run);
    }
  }
  return report;
}

/** subject / reference per round in which both have a value (a Map of
 * round → value, e.g. CPU µs per request of the runs that counted), by
 * round, in round order. */
export function pairedByRound(subject: ReadonlyMap<number, number>, reference: ReadonlyMap<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [round, value] of [...subject].sort((a, b) => a[0] - b[0])) {
    const ref = reference.get(round);
    if (ref !== undefined && ref > 0 && Number.isFinite(value) && Number.isFinite(ref)) out.set(round, value / ref);
  }
  return out;
}

/** pairedByRound's ratios alone, in round order. */
export function pairedRatios(subject: ReadonlyMap<number, number>, reference: ReadonlyMap<number, number>): number[] {
  return [...pairedByRound(subject, reference).values()];
}
