// The measuring loop of the server benchmarks (bench/run.ts's hello-world
// servers and load generators, bench/db.ts's database servers): each subject
// is warmed up, then the counted runs go round the subjects in turn, the
// order rotating from one run to the next, so that drift on a shared machine
// hits all alike and no subject always runs first or last. A run costs what
// the subject's processes spent while the load ran: their own CPU time from
// /proc (proc.ts), per reply, which other load on the machine inflates far
// less than it does requests/s.
import type { LoadResult } from './load.js';
import { cpuTimeUs } from '../../support/proc.js';

export interface Subject {
  /** For progress lines. */
  name: string;
  /** The processes whose CPU time a run counts, the server's first. */
  pids: readonly number[];
  /** Puts `requests` requests on the server (wrk runs for its duration instead). */
  load(requests: number): Promise<LoadResult>;
}

export interface Sample {
  /** 1 for the first counted run. */
  run: number;
  load: LoadResult;
  /** The CPU µs each of the subject's pids used during the run, in their order. */
  cpuUs: number[];
  /** cpuUs per complete reply (NaN when none came). */
  cpuUsPerRequest: number[];
  /** No request failed, was answered other than 200 or left unfinished, no
   * kept connection was closed by the server (keep-alive runs), and at least
   * one was answered: only such runs count in the medians. */
  valid: boolean;
}

export interface RoundsOptions<T extends Subject> {
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
  /** Progress lines. */
  log?: (line: string) => void;
  /** Called after each counted run, as it ends. */
  onSample(subject: T, sample: Sample): void;
}

/** Warms up each subject, then measures `runs` rounds of one run each. */
export async function measureRounds<T extends Subject>(subjects: readonly T[], options: RoundsOptions<T>): Promise<void> {
  const clock = options.clock ?? cpuTimeUs;
  for (const subject of subjects) {
    options.log?.(`warming up ${subject.name}: ${options.warmup} requests`);
    await subject.load(options.warmup);
  }
  for (let run = 1; run <= options.runs; run++) {
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[options.fixedOrder ? k : (k + run - 1) % subjects.length]!;
      const before = subject.pids.map(clock);
      const load = await subject.load(options.requests);
      const cpuUs = subject.pids.map((pid, i) => clock(pid) - before[i]!);
      options.onSample(subject, {
        run,
        load,
        cpuUs,
        cpuUsPerRequest: cpuUs.map((us) => (load.complete > 0 ? us / load.complete : NaN)),
        valid: load.failed === 0 && load.non200 === 0 && load.unfinished === 0 && (load.closedByServer ?? 0) === 0 && load.complete > 0,
      });
    }
  }
}
