// Child processes on the reactor: spawnProcess starts a program with
// sys.spawn (posix_spawn, never a fork that could run JavaScript), hands its
// piped stdio over as FdStreams, and sees its exit through the reactor
// itself, so that all of it works under run(), where Node's own loop (and
// with it child_process's events) is blocked.
//
// How the exit is seen is an ExitWatcher, chosen once per process:
//  - pidfd (Linux 5.3+): sys.pidfdOpen(pid), readable once the child exited.
//  - kqueue (macOS, the BSDs): sys.kqueueWatchExit(pid), a small
//    kqueue of its own holding EVFILT_PROC/NOTE_EXIT, registered with the
//    reactor as a readable fd, so it works whatever the reactor's selector.
//  - sigchld, everywhere else: one SIGCHLD handler per reactor, through the
//    signal layer (which chains to libuv's, so child_process still sees its
//    children), installed with the reactor's first watched child and removed
//    with its last. On each SIGCHLD, and once right after a child is
//    registered (it may have exited before the handler was there), it tries
//    waitpid(pid, WNOHANG) for every child of that reactor still watched:
//    SIGCHLDs coalesce, one can stand for several exits. libuv puts SIG_DFL
//    back, without chaining, once child_process's last child has gone: every
//    100 ms while children are watched the handler is checked, put back on
//    top if it was replaced, and a pass made (a SIGCHLD may have been lost).
//
// pidfd and kqueue only say that the child has exited; the layer then reaps
// it with waitpid(pid). sigchld's check is the reaping itself, and hands the
// status over. Either way for that pid alone (never waitpid(-1): Node's
// child_process reaps its own children, by pid, and must keep getting
// them). A layer on the core's public calls, the signal layer and the streams.
import { constants as osConstants } from 'node:os';
import { codedError, codedTypeError, describe, type SystemError } from '../errors.js';
import { EVENT_READ } from '../selector.js';
import * as sys from '../sys/index.js';
import type { ExitStatus } from '../sys/process.js';
import { Deferred, type Future } from './coroutines.js';
import type { ReactorCore } from './core.js';
import { addSignalHandler, reclaimSignal, removeSignalHandler } from './signals.js';
import { FdStream } from './streams.js';
import type { StreamOptions } from './stream-options.js';

export type { ExitStatus } from '../sys/process.js';

/** Where a child's stdin, stdout or stderr comes from or goes to: `'pipe'`
 * (an {@link FdStream} on the {@link Subprocess}), `'inherit'` (ours),
 * `'ignore'` (/dev/null), or an fd of ours (handed over as it is; it stays
 * ours to close). */
export type ProcessStdio = 'pipe' | 'inherit' | 'ignore' | number;

/** Options of {@link spawnProcess}. */
export interface SpawnProcessOptions {
  /** The child's working directory (default: ours). */
  cwd?: string;
  /** Its environment (default: `process.env`); also where a bare `file` is looked up (its PATH). */
  env?: Record<string, string | undefined>;
  /** Its stdin (default `'pipe'`). */
  stdin?: ProcessStdio;
  /** Its stdout (default `'pipe'`). */
  stdout?: ProcessStdio;
  /** Its stderr (default `'pipe'`). */
  stderr?: ProcessStdio;
  /** Its `argv[0]` (default: `file` as given). */
  argv0?: string;
  /** Options of the pipes' FdStreams (highWaterMark, readSize). */
  streamOptions?: Omit<StreamOptions, 'closeFd' | 'eofIsFinal'>;
  /** How the exit is seen (default: the best one here, see {@link exitWatcher}).
   * `'sigchld'` works everywhere, but takes the reactor's SIGCHLD callback
   * (see {@link addSignalHandler}) while children run. */
  exitWatcher?: ExitWatcherName;
}

/** The exit-watching strategies: see {@link exitWatcher}. */
export type ExitWatcherName = 'pidfd' | 'kqueue' | 'sigchld';

/**
 * How the reactor learns that a child has exited: one strategy per kind of
 * kernel notification (a pidfd, kqueue's EVFILT_PROC, SIGCHLD).
 */
export interface ExitWatcher {
  /** The strategy's name. */
  readonly name: ExitWatcherName;
  /**
   * Starts watching child `pid`; calls `onExit` once, in a reactor pass,
   * after it has exited: with its status when the watcher reaped it
   * (sigchld), else without (pidfd, kqueue: the caller reaps it, or learns
   * from waitpid's ECHILD that something else did). While it watches, the
   * reactor has work (run() does not return).
   * @returns Stops watching (and releases what watching held); safe to call twice.
   */
  watch(loop: ReactorCore, pid: number, onExit: (status?: ExitStatus) => void): () => void;
}

// Watches a readable fd: onExit when it polls readable, the fd closed then
// or when stopped.
function watchFd(loop: ReactorCore, fd: number, onExit: () => void): () => void {
  let open = true;
  const stop = (): void => {
    if (!open) return;
    open = false;
    if (!loop.closed) loop.removeHandler(fd);
    sys.close(fd);
  };
  try {
    loop.addHandler(
      fd,
      () => {
        stop();
        onExit();
      },
      EVENT_READ,
    );
  } catch (err) {
    sys.close(fd);
    throw err;
  }
  return stop;
}

/** The pidfd strategy (Linux 5.3+): a pidfd polls readable once the process has exited. */
const pidfdWatcher: ExitWatcher = {
  name: 'pidfd',
  watch: (loop, pid, onExit) => watchFd(loop, sys.pidfdOpen(pid), onExit),
};

/** The kqueue strategy: a kqueue of its own per child, holding EVFILT_PROC
 * with NOTE_EXIT, watched as a readable fd (any selector can poll a kqueue fd). */
const kqueueWatcher: ExitWatcher = {
  name: 'kqueue',
  watch(loop, pid, onExit) {
    const kq = sys.kqueueWatchExit(pid);
    if (kq >= 0) return watchFd(loop, kq, onExit);
    // Exited already: report it in the next pass, as a watch would.
    const handle = loop.callSoon(onExit);
    return () => handle.cancel();
  },
};

// The children a reactor watches with the sigchld strategy: pid -> onExit.
const sigchldChildren = new WeakMap<ReactorCore, Map<number, (status?: ExitStatus) => void>>();
const sigchldGuards = new WeakMap<ReactorCore, { cancel(): void }>();
// How often the handler is checked while children are watched: libuv puts
// SIG_DFL back for SIGCHLD, without chaining, when child_process's last
// child has gone (and no event says so); a SIGCHLD then is lost.
const RECLAIM_MS = 100;

function sigchldGuard(loop: ReactorCore): void {
  sigchldGuards.set(
    loop,
    loop.callLater(RECLAIM_MS, () => {
      if (!sigchldChildren.has(loop)) return;
      sigchldGuard(loop);
      // Replaced meanwhile: a SIGCHLD may have been missed, look now.
      if (reclaimSignal('SIGCHLD')) sigchldPass(loop);
    }),
  );
}

// Tries each of the reactor's children, for its pid alone: one SIGCHLD can
// stand for several exits, and can come for Node's children too.
function sigchldPass(loop: ReactorCore): void {
  const children = sigchldChildren.get(loop);
  if (children === undefined) return;
  for (const [pid, onExit] of [...children]) {
    if (children.get(pid) !== onExit) continue; // stopped meanwhile
    let status: ExitStatus | null | undefined;
    try {
      status = sys.waitpid(pid);
    } catch {
      status = undefined; // ECHILD: the caller's own waitpid reports it
    }
    if (status === null) continue;
    sigchldStop(loop, pid, onExit);
    try {
      onExit(status);
    } catch (err) {
      loop.reportError(err);
    }
  }
}

function sigchldStop(loop: ReactorCore, pid: number, onExit: (status?: ExitStatus) => void): void {
  const children = sigchldChildren.get(loop);
  if (children === undefined || children.get(pid) !== onExit) return;
  children.delete(pid);
  if (children.size > 0) return;
  sigchldChildren.delete(loop);
  sigchldGuards.get(loop)?.cancel();
  sigchldGuards.delete(loop);
  // After close() the signal layer has let go of the reactor already.
  if (!loop.closed) removeSignalHandler(loop, 'SIGCHLD');
}

/** The sigchld strategy: the reactor's SIGCHLD handler, then waitpid(pid, WNOHANG) for each child it watches. */
const sigchldWatcher: ExitWatcher = {
  name: 'sigchld',
  watch(loop, pid, onExit) {
    let children = sigchldChildren.get(loop);
    if (children === undefined) {
      addSignalHandler(loop, 'SIGCHLD', () => sigchldPass(loop));
      children = new Map();
      sigchldChildren.set(loop, children);
      sigchldGuard(loop);
    }
    children.set(pid, onExit);
    // It may have exited before the handler was there: look once now.
    const first = loop.callSoon(() => sigchldPass(loop));
    return () => {
      first.cancel();
      sigchldStop(loop, pid, onExit);
    };
  },
};

// The children still watched on each reactor, told when it closes (one
// 'close' listener per reactor, however many children).
const onClose = new WeakMap<ReactorCore, { listener: () => void; children: Set<() => void> }>();

function whenClosed(loop: ReactorCore, fn: () => void): () => void {
  let entry = onClose.get(loop);
  if (entry === undefined) {
    const children = new Set<() => void>();
    const listener = (): void => {
      onClose.delete(loop);
      for (const child of children) child();
    };
    entry = { listener, children };
    onClose.set(loop, entry);
    loop.once('close', listener);
  }
  const { listener, children } = entry;
  children.add(fn);
  return () => {
    if (!children.delete(fn) || children.size > 0 || onClose.get(loop) !== entry) return;
    onClose.delete(loop);
    loop.off('close', listener);
  };
}

let best: ExitWatcher | undefined;

/**
 * An exit-watching strategy. Without a name, the one spawnProcess uses by
 * default here: pidfd where the kernel has pidfd_open (Linux 5.3+), else
 * kqueue's EVFILT_PROC (macOS, the BSDs), else sigchld, which works
 * everywhere: a SIGCHLD handler on the reactor (through its signal layer)
 * and waitpid for each of its children by pid.
 * @param name - `'pidfd'`, `'kqueue'` or `'sigchld'`: that one.
 * @throws `ERR_NOT_SUPPORTED` (Error) when the named one does not work here (its message names it).
 * @throws `ERR_INVALID_ARG_VALUE` (TypeError) for any other name.
 */
export function exitWatcher(name?: ExitWatcherName): ExitWatcher {
  switch (name) {
    case undefined:
      best ??= sys.supports('pidfdOpen') ? pidfdWatcher : sys.supports('kqueueWatchExit') ? kqueueWatcher : sigchldWatcher;
      return best;
    case 'pidfd':
    case 'kqueue':
      if (!sys.supports(name === 'pidfd' ? 'pidfdOpen' : 'kqueueWatchExit')) {
        throw codedError('ERR_NOT_SUPPORTED', `the '${name}' exit watcher is not supported here (${name === 'pidfd' ? 'no pidfd_open' : 'no kernel kqueue'}); 'sigchld' works everywhere`);
      }
      return name === 'pidfd' ? pidfdWatcher : kqueueWatcher;
    case 'sigchld':
      return sigchldWatcher;
    default:
      throw codedTypeError('ERR_INVALID_ARG_VALUE', `exitWatcher must be 'pidfd', 'kqueue' or 'sigchld', got ${describe(name)}`);
  }
}

function checkSignal(signal: unknown): number {
  if (typeof signal === 'number' && Number.isInteger(signal) && signal >= 0) return signal;
  if (typeof signal === 'string' && Object.hasOwn(osConstants.signals, signal)) {
    return osConstants.signals[signal as keyof typeof osConstants.signals];
  }
  throw codedTypeError('ERR_INVALID_ARG_VALUE', `signal must be a signal name ('SIGTERM', ...) or number, got ${describe(signal)}`);
}

/**
 * A child process started by {@link spawnProcess}: its pid, its piped
 * stdio as {@link FdStream}s, and its exit as a {@link Future}.
 */
export class Subprocess {
  /** The child's pid (still its own until {@link exited} settles: only then is it reaped). */
  readonly pid: number;
  /** A stream writing to its stdin (`'pipe'`), else null. Close it to send end of file. */
  readonly stdin: FdStream | null;
  /** A stream reading its stdout (`'pipe'`), else null. */
  readonly stdout: FdStream | null;
  /** A stream reading its stderr (`'pipe'`), else null. */
  readonly stderr: FdStream | null;
  readonly #exited = new Deferred<ExitStatus>();
  #status: ExitStatus | null = null;
  #stopWatching: (() => void) | null = null;
  #forgetClose: (() => void) | null = null;
  #reaped = false; // by us, or (ECHILD) by something else: the pid is not ours any more

  /** @internal Made by spawnProcess, which starts the watch. */
  constructor(pid: number, stdin: FdStream | null, stdout: FdStream | null, stderr: FdStream | null) {
    this.pid = pid;
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Settles once the child has exited and been reaped: `{ code, signal }`
   * (`{ code: 3, signal: null }`, `{ code: null, signal: 'SIGKILL' }`).
   * Rejects when the child cannot be reaped (`ECHILD`: something else
   * in this process reaped it with waitpid(-1)), or with
   * `ERR_REACTOR_CLOSED` when the reactor closed while the child still ran
   * (it is not killed, and no longer watched). */
  get exited(): Future<ExitStatus> {
    return this.#exited;
  }

  /** How it ended, once {@link exited} has settled; null before. */
  get exitStatus(): ExitStatus | null {
    return this.#status;
  }

  /**
   * Sends `signal` to the child; nothing once it has been reaped (its pid
   * may belong to another process by then). Still works after the reactor
   * closed on a running child.
   * @param signal - A name (`'SIGTERM'`, the default) or a number (0 only checks that it exists).
   * @returns Whether the signal was sent (false once reaped, or when the kernel says ESRCH).
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when `signal` is neither a known name nor a non-negative integer.
   * @throws {@link SystemError} when the kernel refuses (`EPERM`, or `EINVAL` for an unknown number).
   */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const number = checkSignal(signal);
    if (this.#reaped) return false;
    try {
      process.kill(this.pid, number);
      return true;
    } catch (err) {
      if ((err as SystemError).code === 'ESRCH') return false;
      throw err;
    }
  }

  /** @internal Starts watching for the exit. */
  watch(loop: ReactorCore, watcher: ExitWatcher): void {
    this.#stopWatching = watcher.watch(loop, this.pid, (status) => this.#reap(loop, status));
    this.#forgetClose = whenClosed(loop, this.#onLoopClose);
  }

  // The reactor closed with the child unreaped: stop watching (the pidfd or
  // kqueue fd is closed, the SIGCHLD handler goes with the last child), reap
  // it if it has exited already, else leave it running and say so.
  readonly #onLoopClose = (): void => {
    this.#forgetClose = null;
    this.#stopWatching?.();
    this.#stopWatching = null;
    if (this.#exited.done) return;
    let status: ExitStatus | null;
    try {
      status = sys.waitpid(this.pid);
    } catch (err) {
      this.#reaped = true;
      this.#exited.reject(err);
      return;
    }
    if (status !== null) this.#settle(status);
    else this.#exited.reject(codedError('ERR_REACTOR_CLOSED', `the reactor closed while child ${this.pid} still ran: it is no longer watched, and not reaped`));
  };

  #settle(status: ExitStatus): void {
    this.#forgetClose?.();
    this.#forgetClose = null;
    this.#reaped = true;
    this.#status = status;
    this.#exited.resolve(status);
  }

  // Reaps the child, for its pid alone, unless the watcher did (`reaped`).
  // A watcher says "exited" once the status can be collected; should it be
  // a moment early (a NOTE_EXIT delivered before the zombie is waitable),
  // try again shortly.
  #reap(loop: ReactorCore, reaped?: ExitStatus): void {
    this.#stopWatching = null;
    let status: ExitStatus | null;
    if (reaped !== undefined) {
      status = reaped;
    } else {
      try {
        status = sys.waitpid(this.pid);
      } catch (err) {
        this.#forgetClose?.();
        this.#forgetClose = null;
        this.#reaped = true;
        this.#exited.reject(err);
        return;
      }
    }
    if (status === null) {
      if (!loop.closed) loop.callLater(1, () => this.#reap(loop));
      return;
    }
    this.#settle(status);
  }
}

function pipeFor(stdio: ProcessStdio, forChildInput: boolean, made: number[]): { child: sys.SpawnStdio; parent: number | null } {
  if (stdio !== 'pipe') return { child: stdio, parent: null };
  const [r, w] = sys.pipe();
  made.push(r, w);
  // The child's end blocks, as a program expects of its stdio (O_NONBLOCK
  // belongs to the open file, which dup2 shares); ours stays non-blocking.
  const [child, parent] = forChildInput ? [r, w] : [w, r];
  sys.setNonBlocking(child, false);
  return { child, parent };
}

/**
 * Starts program `file` with arguments `args` as a child process whose exit
 * the reactor itself sees (a pidfd where the kernel has it, kqueue's
 * EVFILT_PROC, else SIGCHLD through the signal layer: see
 * {@link exitWatcher}), so that it works under run(), which blocks Node's
 * loop, as under attach(). Its stdin, stdout and stderr are pipes by default, handed
 * over as {@link FdStream}s; the exit is {@link Subprocess.exited}.
 *
 * The child is started with posix_spawn (see `sys.spawn`): never a fork
 * that could run JavaScript, a bare `file` looked up in the PATH of `env`,
 * an empty signal mask and default signal actions, no fd of ours beyond its
 * 0, 1 and 2. It is reaped, by its pid alone, as soon as it exits: no zombie
 * stays, and Node's own child_process children are left to Node. While a
 * child runs its watch is reactor work: run() returns only after it exits.
 * Close the reactor only after the children's `exited` settled (kill them
 * first): closing it stops the watching (nothing stays registered), reaps
 * the children that have exited already, and rejects the others' `exited`
 * with `ERR_REACTOR_CLOSED`; those are not killed, and nothing reaps them
 * once they exit.
 * @param loop - The reactor that watches the child and its pipes.
 * @param file - The program: a path, or a name looked up in PATH.
 * @param args - Its arguments.
 * @param options - cwd, env, each stdio (`'pipe'` by default), argv0, the pipes' stream options, the exit watcher.
 * @throws `ERR_NOT_SUPPORTED` (Error) when `options.exitWatcher` names a strategy that does not work here.
 * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when `options.exitWatcher` names none.
 * @throws `ERR_REACTOR_CLOSED` (Error) when the loop is closed.
 * @throws `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_INVALID_FD` as `sys.spawn` does.
 * @throws {@link SystemError} `ENOENT`, `EACCES`, ... (syscall `posix_spawn`) when the program cannot be started; nothing is left open then.
 *
 * @example
 * ```ts
 * const child = spawnProcess(reactor, 'sh', ['-c', 'echo hello; exit 3']);
 * reactor.spawn(function* () {
 *   const line: Uint8Array = yield* child.stdout!.readUntil('\n');
 *   const status: ExitStatus = yield child.exited; // { code: 3, signal: null }
 * });
 * reactor.run();
 * ```
 */
export function spawnProcess(loop: ReactorCore, file: string, args: readonly string[] = [], options: SpawnProcessOptions = {}): Subprocess {
  if (loop === null || typeof loop !== 'object' || typeof (loop as Partial<ReactorCore>).addHandler !== 'function') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `the loop must be a Reactor, got ${describe(loop)}`);
  }
  if (loop.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
  if (options === null || typeof options !== 'object') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
  }
  const watcher = exitWatcher(options.exitWatcher);
  const { stdin = 'pipe', stdout = 'pipe', stderr = 'pipe', streamOptions = {} } = options;
  for (const [name, value] of [['stdin', stdin], ['stdout', stdout], ['stderr', stderr]] as const) {
    if (value !== 'pipe' && value !== 'inherit' && value !== 'ignore' && typeof value !== 'number') {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be 'pipe', 'inherit', 'ignore' or an fd, got ${describe(value)}`);
    }
  }
  const made: number[] = [];
  let pid: number;
  let ends: Array<{ child: sys.SpawnStdio; parent: number | null }>;
  try {
    ends = [pipeFor(stdin, true, made), pipeFor(stdout, false, made), pipeFor(stderr, false, made)];
    pid = sys.spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      argv0: options.argv0,
      stdio: [ends[0]!.child, ends[1]!.child, ends[2]!.child],
    });
  } catch (err) {
    for (const fd of made) sys.close(fd);
    throw err;
  }
  // The child has its ends: ours close now, so that its exit is our EOF.
  for (const end of ends) if (end.parent !== null) sys.close(end.child as number);
  const streamOf = (end: { parent: number | null }) => (end.parent === null ? null : new FdStream(loop, end.parent, streamOptions));
  const child = new Subprocess(pid, streamOf(ends[0]!), streamOf(ends[1]!), streamOf(ends[2]!));
  try {
    child.watch(loop, watcher);
  } catch (err) {
    // Cannot watch it (EMFILE): end it now rather than leave it unreaped.
    process.kill(pid, 'SIGKILL');
    sys.waitpid(pid, true);
    for (const s of [child.stdin, child.stdout, child.stderr]) s?.close();
    throw err;
  }
  return child;
}
