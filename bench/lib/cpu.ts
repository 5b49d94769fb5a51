// A process's own CPU time, read from /proc without its cooperation: the
// sum over its threads of the scheduler's run time (/proc/PID/task/TID/
// schedstat, in nanoseconds), so that a short run is measured to the
// microsecond rather than in the 10 ms clock ticks of utime + stime in
// /proc/PID/stat. Threads that exit between two readings are not counted;
// the servers measured here keep theirs for their whole life. On a kernel
// without schedstat (no CONFIG_SCHED_INFO), utime + stime.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** USER_HZ, the unit of utime and stime: 100 on every Linux that Node runs on. */
const TICKS_PER_SECOND = 100;

let haveSchedstat: boolean | undefined;

/** utime + stime of a whole process (all its threads, live or exited), µs. */
export function statCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses; utime and
  // stime are the 12th and 13th fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

/** The CPU time a process has used so far, µs (see the top of this file). */
export function processCpuUs(pid: number): number {
  haveSchedstat ??= existsSync('/proc/self/schedstat');
  if (!haveSchedstat) return statCpuUs(pid);
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let schedstat: string;
    try {
      schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue; // the thread just exited
      throw err;
    }
    ns += Number(schedstat.split(' ')[0]);
  }
  return ns / 1000;
}
