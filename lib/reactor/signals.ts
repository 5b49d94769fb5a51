// Signals in the reactor's loop, under run() (Node's own loop blocked) as
// under attach(). The addon's process-wide handler (native/signals.h) writes
// the signal number into a pipe this layer made for the reactor; the read end
// is an fd handler like any other, so the write wakes a blocked select and
// the callbacks run in that pass. The native handler then chains to the
// action installed before it, so Node's own process.on(signal) listeners
// (libuv's handler) still run.
//
// libuv installs its handler when Node starts listening for a signal and
// sets SIG_DFL when it stops, replacing whatever was there without chaining:
// this layer watches process 'newListener' and 'removeListener' (after Node's
// own listeners for them, which do that) and puts the reactors' handler back
// on top, chaining to libuv's.
//
// A layer on the core: of it, it uses only addHandler, removeHandler,
// reportError and the 'close' event.
import { constants } from 'node:os';
import { checkCallback, codedError, codedTypeError, describe } from '../errors.js';
import { binding } from '../native.js';
import { EVENT_READ } from '../selector.js';
import * as sys from '../sys/index.js';
import type { ReactorCore } from './core.js';

/** Called in a reactor pass with the name of the signal that arrived. */
export type SignalCallback = (signal: NodeJS.Signals) => void;

const SIGNALS = constants.signals as Readonly<Record<string, number>>;
// No handler may take these; a fault's handler that returns faults again.
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

/** A signal's name and number, checked. */
function resolveSignal(signal: unknown): { name: NodeJS.Signals; signum: number } {
  let name: string | undefined;
  if (typeof signal === 'string') {
    if (Object.hasOwn(SIGNALS, signal)) name = signal;
  } else if (typeof signal === 'number') {
    name = Object.keys(SIGNALS).find((n) => SIGNALS[n] === signal);
  } else {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `a signal is a name or a number, got ${describe(signal)}`);
  }
  const signum = name === undefined ? undefined : SIGNALS[name];
  if (name === undefined || signum === undefined || signum < 1 || signum > binding.signals.maxSignal) {
    throw codedTypeError('ERR_UNKNOWN_SIGNAL', `unknown signal: ${describe(signal)}`);
  }
  return { name: name as NodeJS.Signals, signum };
}

// One reactor's pipe and its callbacks, by signal number.
class SignalChannel {
  readonly callbacks = new Map<number, { name: NodeJS.Signals; callback: SignalCallback }>();
  readonly #buffer = new Uint8Array(64);
  #closed = false;

  constructor(
    readonly loop: ReactorCore,
    readonly readFd: number,
    readonly writeFd: number,
  ) {}

  // The read end is readable: one byte per signal delivered (a full pipe
  // drops bytes, as the kernel merges a signal pending twice).
  onReadable(): void {
    // A callback may remove the last handler, which closes the pipe.
    while (!this.#closed) {
      const n = sys.read(this.readFd, this.#buffer);
      if (n <= 0) return;
      for (let i = 0; i < n && !this.#closed; i++) {
        // A byte for a signal no longer handled (removed since it came) is dropped.
        const entry = this.callbacks.get(this.#buffer[i]!);
        if (entry === undefined) continue;
        try {
          entry.callback(entry.name);
        } catch (err) {
          this.loop.reportError(err);
        }
      }
    }
  }

  // The reactor closed (or the last handler went): the pipe goes.
  readonly onLoopClose = (): void => {
    channels.delete(this.loop);
    this.close();
  };

  close(): void {
    this.#closed = true;
    // After release() no handler writes to writeFd: closing it is safe.
    binding.signals.release(this.writeFd);
    this.loop.removeHandler(this.readFd);
    sys.close(this.readFd);
    sys.close(this.writeFd);
  }
}

const channels = new WeakMap<ReactorCore, SignalChannel>();

let hooked = false;
// Put the handler back on top once libuv replaced it: these listeners run
// after Node's own ones, which start and stop libuv's watching.
function hookNodeListeners(): void {
  if (hooked) return;
  hooked = true;
  const again = (event: string | symbol): void => {
    if (typeof event !== 'string' || UNCATCHABLE.has(event) || !Object.hasOwn(SIGNALS, event)) return;
    const signum = SIGNALS[event]!;
    if (signum >= 1 && signum <= binding.signals.maxSignal) binding.signals.reinstall(signum);
  };
  process.on('newListener', again);
  process.on('removeListener', again);
}

/**
 * Runs `callback(signalName)` in a pass of `loop` each time `signal` arrives,
 * under run() (where Node's own loop, and so its `process.on(signal)`
 * listeners, wait until run() returns) as under attach(). Replaces the
 * loop's previous callback for that signal. Node's own listeners for the
 * signal still run: the handler chains to the one installed before it
 * (libuv's, when Node listens), whichever was installed first. The signal's
 * default action (dying, for SIGTERM and SIGINT) no longer happens while a
 * handler is set, as with process.on.
 *
 * Like libuv's signal handles, a signal handler is something to wait for:
 * run() does not return for lack of work while one is set. Any thread's
 * reactor may handle signals (they go to the process; every reactor that
 * handles one runs its callback), up to 64 reactors at once.
 *
 * SIGUSR1 is Node's inspector signal: its handler is chained too, so the
 * debugger starts as it would without the reactor (prefer SIGUSR2).
 * @param loop - The reactor.
 * @param signal - A signal name (`'SIGTERM'`) or number.
 * @param callback - Called with the signal's name.
 * @throws `ERR_UNKNOWN_SIGNAL` (TypeError) when `signal` names no signal of the platform.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `signal` is neither a string nor a number, or `callback` not a function.
 * @throws `ERR_SIGNAL_UNCATCHABLE` (Error) for SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE and SIGILL.
 * @throws `ERR_SIGNAL_CHANNELS_EXHAUSTED` (Error) when 64 reactors handle signals already.
 * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
 */
export function addSignalHandler(loop: ReactorCore, signal: NodeJS.Signals | number, callback: SignalCallback): void {
  const { name, signum } = resolveSignal(signal);
  if (UNCATCHABLE.has(name)) throw codedError('ERR_SIGNAL_UNCATCHABLE', `${name} cannot be handled`);
  checkCallback(callback, 'callback');
  if (loop.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
  let channel = channels.get(loop);
  if (channel === undefined) {
    const [r, w] = sys.pipe();
    const made = new SignalChannel(loop, r, w);
    try {
      loop.addHandler(r, () => made.onReadable(), EVENT_READ);
    } catch (err) {
      sys.close(r);
      sys.close(w);
      throw err;
    }
    channel = made;
    channels.set(loop, channel);
    loop.once('close', made.onLoopClose);
  }
  try {
    binding.signals.watch(channel.writeFd, signum);
  } catch (err) {
    if (channel.callbacks.size === 0) dropChannel(channel);
    throw err;
  }
  channel.callbacks.set(signum, { name, callback });
  hookNodeListeners();
}

/**
 * @internal Puts the reactors' handler for `signal` back on top where
 * something replaced it without chaining: libuv sets SIG_DFL for SIGCHLD
 * when child_process's last child has gone, which no listener event shows.
 * @returns Whether it had to (a signal may have been missed meanwhile).
 */
export function reclaimSignal(signal: NodeJS.Signals): boolean {
  return binding.signals.reinstall(resolveSignal(signal).signum) as boolean;
}

function dropChannel(channel: SignalChannel): void {
  channel.loop.off('close', channel.onLoopClose);
  channel.onLoopClose();
}

/**
 * Removes `loop`'s callback for `signal`; false when it had none. The last
 * reactor of the process to stop handling a signal puts back the action that
 * was installed before (the default one, or libuv's when Node listens).
 * @throws `ERR_UNKNOWN_SIGNAL` (TypeError) when `signal` names no signal of the platform.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `signal` is neither a string nor a number.
 */
export function removeSignalHandler(loop: ReactorCore, signal: NodeJS.Signals | number): boolean {
  const { signum } = resolveSignal(signal);
  const channel = channels.get(loop);
  if (channel === undefined || !channel.callbacks.delete(signum)) return false;
  binding.signals.unwatch(channel.writeFd, signum);
  // The pipe goes with the last handler: it is what keeps run() waiting.
  if (channel.callbacks.size === 0) dropChannel(channel);
  return true;
}
