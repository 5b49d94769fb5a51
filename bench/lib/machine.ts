// What the results were measured on, printed with every table: figures from
// different machines (or kernels, or Node versions) are not comparable.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { clockTicks } from '../../support/proc.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  node: string;
  memoryGiB: number;
  date: string;
  /** The 1-minute load average when the run started and ended: other work on the machine. */
  loadAverage: number[];
}

export function loadAverage1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    kernel: `${process.platform} ${release()}`,
    node: process.version,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAverage: [loadAverage1()],
  };
}

export function machineLine(m: MachineInfo): string {
  const load = m.loadAverage.map((l) => l.toFixed(2)).join(' → ');
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.kernel}; Node ${m.node}; ${m.date}; load average ${load}`;
}

/** The CPU time of the whole machine so far (all CPUs, from /proc/stat, in
 * clock ticks turned into µs): `busy` is everything but idle and iowait
 * (steal included: time this virtual machine wanted but did not get). Two
 * readings around a run tell how much CPU everything on the machine used. */
export function machineCpuUs(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq + steal;
  const scale = 1e6 / clockTicks();
  return { busy: busy * scale, total: (busy + idle + iowait) * scale };
}
