// How busy one CPU was with work other than ours. A run on a shared machine
// is measured as the CPU time the server's own threads spent per reply,
// which other work changes less than requests/s, but not nothing: another
// process on the server's core evicts its caches, takes turns with it and
// changes how many requests each wake-up finds. So a run counts only when
// the server's core was quiet: its busy time in /proc/stat during the run,
// less what the server's own processes spent (they are pinned to it), over
// the run's length, is the share of that core everything else used.
import { readFileSync } from 'node:fs';
import { clockTicks } from '../../support/proc.js';

/** One CPU's time so far, µs, from its `cpuN` line in /proc/stat. */
export interface CpuReading {
  /** Everything but idle and iowait (steal included: time the virtual
   * machine wanted the CPU and did not get it). */
  busyUs: number;
  /** busyUs + idle + iowait. */
  totalUs: number;
}

/** The `cpuN` line of /proc/stat's text as a CpuReading, or undefined when
 * there is no such CPU. */
export function parseCpuLine(stat: string, cpu: number): CpuReading | undefined {
  const prefix = `cpu${cpu} `;
  const line = stat.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  const scale = 1e6 / clockTicks();
  return { busyUs: busy * scale, totalUs: (busy + idle + iowait) * scale };
}

/** CPU `cpu`'s time so far, or undefined where /proc/stat cannot say (not
 * Linux, or no such CPU). */
export function readCpu(cpu: number): CpuReading | undefined {
  try {
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'), cpu);
  } catch {
    return undefined;
  }
}

/** The share of the CPU (0..1) that work other than `ownUs` of CPU time
 * took between two readings; NaN when the readings span no time. Clock
 * ticks are 10 ms, so over a run of a second it is good to about 1 %, and
 * may come out a little below 0. */
export function otherLoad(before: CpuReading, after: CpuReading, ownUs: number): number {
  const total = after.totalUs - before.totalUs;
  if (!(total > 0)) return NaN;
  return (after.busyUs - before.busyUs - ownUs) / total;
}

export interface QuietOptions {
  /** The CPU the server is pinned to. */
  cpu: number;
  /** A run counts when the other load on `cpu` stayed below this share (0..1). */
  threshold: number;
  /** Before each run, wait at most this long (ms) for `cpu` to be quiet. */
  maxWaitMs: number;
}

/** Samples `cpu` in windows of `windowMs` until one of them was busier than
 * nothing but below `threshold`, or `maxWaitMs` passed; our processes on
 * it are idle meanwhile, so all its busy time is other work. Resolves to
 * how long it waited (ms) and the last window's load. */
export async function waitForQuiet(options: QuietOptions, windowMs = 250): Promise<{ waitedMs: number; load: number }> {
  const start = performance.now();
  let load = NaN;
  for (;;) {
    const before = readCpu(options.cpu);
    if (before === undefined) return { waitedMs: 0, load };
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = readCpu(options.cpu);
    if (after === undefined) return { waitedMs: 0, load };
    load = otherLoad(before, after, 0);
    const waitedMs = performance.now() - start;
    if (!(load >= options.threshold) || waitedMs >= options.maxWaitMs) return { waitedMs, load };
  }
}
