// Starting and stopping servers for the benchmarks and the tests, and reading
// what processes cost from /proc. A server is any program that prints
// `listening on HOST:PORT` on stdout once it accepts connections (start it
// with port 0) and exits on SIGTERM. Its cost is its own CPU time (the
// scheduler's run time of every thread, from /proc), which the noise of other
// processes does not inflate the way wall-clock throughput is.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** http://HOST:PORT/ */
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

/** A CPU number, or a CPU list as `taskset -c` takes it ("0,1", "2-7"). */
export type CpuSet = number | string;

export interface StartOptions {
  /** Pin the server (and any process it forks) to this CPU or CPU list (with taskset, when it is installed). */
  cpu?: CpuSet;
  /** How long to wait for the `listening on` line (ms). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const LISTENING = /^listening on (\[[^\]]+\]|[^\s:]+):(\d+)\s*$/;

/** Whether `command` is an executable name found on PATH. */
export function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

let tasksetPresent: boolean | undefined;

/** Whether `taskset` is installed (util-linux). */
export function hasTaskset(): boolean {
  tasksetPresent ??= onPath('taskset');
  return tasksetPresent;
}

/** `command args...`, prefixed with `taskset -c CPUS` when pinning is possible. */
export function pinned(cpu: CpuSet | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (cpu === undefined || !hasTaskset()) return [command, [...args]];
  return ['taskset', ['-c', String(cpu), command, ...args]];
}

/** Starts a server and resolves once it printed its `listening on` line.
 * taskset execs the server, so `pid` is the server's own process. */
export function startServer(command: string, args: readonly string[], options: StartOptions = {}): Promise<ServerProcess> {
  const [cmd, argv] = pinned(options.cpu, command, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: options.env ?? process.env });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no 'listening on' line within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = LISTENING.exec(line);
      if (m === null) return;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      child.stdout!.resume(); // keep draining whatever else it prints
      const host = m[1]!.replace(/^\[|\]$/g, '');
      const port = Number(m[2]);
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
      resolve({
        pid: child.pid!,
        host,
        port,
        url,
        child,
        stop: async (graceMs = 5_000) => {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      });
    });
  });
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (USER_HZ) in which /proc reports CPU time. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields of /proc/PID/stat after the command name, from field 3 (state)
 * on. The name (field 2) may contain spaces and parentheses, so the fields
 * after it start after its last ')'. */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's utime + stime so far (all its threads, live or exited), µs,
 * in steps of one clock tick (10 ms at USER_HZ = 100). */
export function statCpuUs(pid: number): number {
  // utime and stime are fields 14 and 15, i.e. the 12th and 13th of these.
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}

let haveSchedstat: boolean | undefined;

/** A process's own CPU time so far, µs: the sum over its threads of the
 * scheduler's run time (/proc/PID/task/TID/schedstat, in nanoseconds), so
 * that a short run is measured to the microsecond rather than in the clock
 * ticks of statCpuUs. Threads that exit between two readings are not
 * counted; the servers measured here keep theirs for their whole life. On a
 * kernel without schedstat (no CONFIG_SCHED_INFO), utime + stime. */
export function cpuTimeUs(pid: number): number {
  haveSchedstat ??= existsSync('/proc/self/schedstat');
  if (!haveSchedstat) return statCpuUs(pid);
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let schedstat: string;
    try {
      schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue; // the thread has just exited
      throw err;
    }
    ns += Number(schedstat.split(' ')[0]);
  }
  return ns / 1000;
}

let haveChildren: boolean | undefined;

/** The pids of a process's children (none if it has exited), from
 * /proc/PID/task/TID/children (Linux 3.5+ with CONFIG_PROC_CHILDREN), else
 * by finding every process in /proc whose parent it is. */
export function childPids(pid: number): number[] {
  haveChildren ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  const children = new Set<number>();
  if (haveChildren) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (list !== '') for (const child of list.split(' ')) children.add(Number(child));
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ESRCH') throw err; // else it (or a thread) has just exited
    }
    return [...children];
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // ppid is field 4, the 2nd after the command name.
      if (Number(statFields(entry)[1]) === pid) children.add(Number(entry));
    } catch {
      // The process has just exited.
    }
  }
  return [...children];
}

/** The pids of a process's children, their children, and so on. */
export function descendantPids(pid: number): number[] {
  const found = childPids(pid);
  for (let i = 0; i < found.length; i++) found.push(...childPids(found[i]!));
  return found;
}

/** Whether a process exists (not yet reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits up to `ms` for each process to exit, then SIGKILLs those that have
 * not, for processes that a stopped parent should have taken down with it
 * (forked workers). Resolves with the pids that had to be killed. */
export async function reapPids(pids: readonly number[], ms = 3000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const left = pids.filter(alive);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone in between.
    }
  }
  return left;
}

