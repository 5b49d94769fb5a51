// Child processes at the fd level: spawn (posix_spawn, never fork), waitpid
// of one child, and kqueueWatchExit (a kqueue fd readable once a process
// exits). Same rules as every sys module: arguments checked first, a
// SystemError for every kernel failure, every fd made here close-on-exec.
// lib/reactor/process.ts builds spawnProcess (pipes as FdStreams, the exit
// as a Future) on these.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { checkFd, codedRangeError, codedTypeError, describe, notSupported, type SystemError, systemError } from '../errors.js';
import { binding } from '../native.js';

const native = binding.sys;

/** Where a spawned process's fd 0, 1 or 2 comes from: one of ours (given
 * to the child as that number), `'inherit'` (the parent's own fd of that
 * number), or `'ignore'` (/dev/null). */
export type SpawnStdio = number | 'inherit' | 'ignore';

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /** The working directory of the child (default: ours). */
  cwd?: string;
  /** Its environment (default: `process.env`); entries whose value is undefined are left out. */
  env?: Record<string, string | undefined>;
  /** Its fds 0, 1 and 2 (default: all three `'inherit'`). */
  stdio?: readonly [SpawnStdio, SpawnStdio, SpawnStdio];
  /** Its `argv[0]` (default: `file` as given). */
  argv0?: string;
}

/** How a process ended: its exit code, or the name of the signal that
 * ended it (one of the two is null). */
export interface ExitStatus {
  /** The exit code (0..255), or null when a signal ended it. */
  code: number | null;
  /** The signal's name (`'SIGKILL'`, ...), or null when it exited. A signal
   * without a name in `os.constants.signals` is `'SIG<number>'`. */
  signal: string | null;
}

const signalNames = new Map<number, string>();
for (const [name, number] of Object.entries(osConstants.signals)) if (!signalNames.has(number)) signalNames.set(number, name);

function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a string, got ${describe(value)}`);
  if (value.includes('\0')) throw codedRangeError('ERR_INVALID_ARG_VALUE', `${what} must not contain NUL`);
}

function checkPid(pid: unknown): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `pid must be a positive integer, got ${describe(pid)}`);
  }
}

function stdioCode(value: unknown, i: number): number {
  if (value === 'inherit') return -2;
  if (value === 'ignore') return -1;
  if (typeof value === 'number') {
    checkFd(value, `stdio[${i}]`);
    return value;
  }
  throw codedTypeError('ERR_INVALID_ARG_TYPE', `stdio[${i}] must be an fd, 'inherit' or 'ignore', got ${describe(value)}`);
}

// The program `file` names: itself when it holds a slash (relative to the
// child's cwd), else the first executable regular file of that name in the
// PATH of the child's environment (libuv's rule), as execvp(3) searches: an
// empty entry is the current directory; EACCES when only files we may not
// execute were found, else ENOENT.
function resolveFile(file: string, env: Record<string, string | undefined>): string {
  if (file.includes('/')) return file;
  let denied = false;
  for (const dir of (env['PATH'] ?? '/usr/bin:/bin').split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${file}`;
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      denied = true;
    }
  }
  const errno = denied ? osConstants.errno.EACCES : osConstants.errno.ENOENT;
  const err = systemError(errno, 'posix_spawn');
  // The native calls' form: "ENOENT: no such file or directory, posix_spawn".
  err.message = `${err.code}: ${getSystemErrorMap().get(-errno)?.[1] ?? 'unknown error'}, posix_spawn`;
  throw err;
}

/**
 * Starts program `file` with arguments `args` in a new process and returns
 * its pid: posix_spawn(3), never a fork that could run JavaScript, so it is
 * safe from Node's many threads. A `file` without a slash is looked up in
 * the PATH of the child's environment, as child_process does. The child
 * starts with an empty signal mask and every signal at its default action
 * (not the SIGPIPE Node ignores), and gets no fd of ours but its 0, 1 and 2
 * (every fd the package makes is close-on-exec).
 *
 * The caller must reap it: {@link waitpid}, once a pidfd
 * ({@link pidfdOpen}), a {@link kqueueWatchExit} fd or SIGCHLD said it has
 * exited. `spawnProcess` (the reactor layer) does all of that.
 *
 * An exec failure is thrown: posix_spawn returns it on glibc 2.24 and
 * later, musl, macOS and FreeBSD (an older glibc would report success and
 * the child would exit with 127).
 * @param file - The program: a path, or a name to look up in PATH.
 * @param args - Its arguments (`argv[1]` on).
 * @param options - cwd, env, stdio and argv0.
 * @returns The child's pid.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `file`, an argument, an env value or `cwd` is not a string, or a stdio entry is none of its forms.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when a string holds NUL or `file` is empty.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when a stdio fd is not a non-negative integer.
 * @throws `ERR_NOT_SUPPORTED` (Error) when `cwd` is given where posix_spawn has no addchdir file action.
 * @throws {@link SystemError} `ENOENT`, `EACCES`, `ENOEXEC`, ... (syscall `posix_spawn`, `path` the file) when the program cannot be started, or its cwd entered.
 *
 * @example
 * ```ts
 * import { sys } from 'node-selectors';
 * const pid = sys.spawn('true', [], { stdio: ['ignore', 'ignore', 'inherit'] });
 * let status = sys.waitpid(pid);
 * while (status === null) status = sys.waitpid(pid, true);
 * console.log(status); // { code: 0, signal: null }
 * ```
 */
export function spawn(file: string, args: readonly string[] = [], options: SpawnOptions = {}): number {
  checkString(file, 'file');
  if (file === '') throw codedRangeError('ERR_INVALID_ARG_VALUE', 'file must not be empty');
  if (!Array.isArray(args)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `args must be an array of strings, got ${describe(args)}`);
  args.forEach((a, i) => checkString(a, `args[${i}]`));
  if (options === null || typeof options !== 'object') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
  }
  const { cwd, env = process.env, stdio = ['inherit', 'inherit', 'inherit'], argv0 = file } = options;
  if (cwd !== undefined) checkString(cwd, 'cwd');
  checkString(argv0, 'argv0');
  if (env === null || typeof env !== 'object') throw codedTypeError('ERR_INVALID_ARG_TYPE', `env must be an object, got ${describe(env)}`);
  const envList: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    checkString(value, `env.${key}`);
    if (key.includes('=') || key.includes('\0')) throw codedRangeError('ERR_INVALID_ARG_VALUE', `env key ${JSON.stringify(key)} must not contain '=' or NUL`);
    envList.push(`${key}=${value}`);
  }
  if (!Array.isArray(stdio) || stdio.length !== 3) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `stdio must be an array of three entries, got ${describe(stdio)}`);
  }
  const codes: [number, number, number] = [stdioCode(stdio[0], 0), stdioCode(stdio[1], 1), stdioCode(stdio[2], 2)];
  try {
    return native.spawn(resolveFile(file, env), [argv0, ...args], envList, cwd ?? null, codes);
  } catch (err) {
    const e = err as SystemError & { path?: string; spawnargs?: string[] };
    if (e.syscall === 'posix_spawn') {
      e.message += ` '${file}'`;
      e.path = file;
      e.spawnargs = [...args];
    }
    throw err;
  }
}

/**
 * Reaps child `pid` if it has exited, and only it (never `waitpid(-1)`,
 * which would steal the statuses of Node's own child_process children).
 * @param pid - A child of this process, not yet reaped.
 * @param block - Wait until it exits (default false: `WNOHANG`). Blocking
 * stops the thread, Node's loop and the reactor with it: only for a child
 * known to be exiting (just sent SIGKILL).
 * @returns null while it runs, else how it ended.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `pid` is not a positive integer.
 * @throws {@link SystemError} `ECHILD` when `pid` is not a child of ours, or was reaped already.
 */
export function waitpid(pid: number, block = false): ExitStatus | null {
  checkPid(pid);
  const r = native.waitpid(pid, Boolean(block));
  if (r === null) return null;
  return { code: r[0], signal: r[1] === null ? null : signalName(r[1]) };
}

/**
 * A kqueue fd that becomes readable once process `pid` exits (an
 * EVFILT_PROC filter with NOTE_EXIT, alone in its own kqueue), so that any
 * selector can wait for the exit: a kqueue fd is itself pollable. Reaps
 * nothing ({@link waitpid} does). Close it when done.
 * @param pid - The process to watch (a child of ours, not yet reaped).
 * @returns The kqueue fd (close-on-exec), or -1 when the process has exited already (reap it now).
 * @throws `ERR_NOT_SUPPORTED` (Error) where the kernel has no kqueue: Linux, libkqueue's builds too (its kqueue fd never polls readable, so no other selector could wait on it).
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `pid` is not a positive integer.
 * @throws {@link SystemError} when kqueue or kevent fail (`EMFILE`, ...).
 */
export function kqueueWatchExit(pid: number): number {
  if (native.kqueueWatchExit === undefined) throw notSupported('kqueueWatchExit');
  checkPid(pid);
  return native.kqueueWatchExit(pid);
}
