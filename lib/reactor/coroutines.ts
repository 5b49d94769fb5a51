// Generator coroutines on the reactor, the seed study's idea done properly.
//
// A layer on the reactor core: it uses only the core's public calls
// (addHandler, callLater, callSoon, reportError), and every entry point
// takes the loop as its first argument (spawn(loop, gen), readable(loop, fd),
// ...); Reactor offers the same as methods.
//
// A coroutine is a generator that yields what it waits for:
//   yield readable(loop, fd) / writable(loop, fd)        -> the ready events
//   yield sleep(loop, ms)                                -> undefined
//   yield task                                           -> the task's result
//   yield promise                                        -> its value
// and delegates with `yield*` to sub-coroutines, so return values and
// exceptions cross any depth of calls as in ordinary functions. The same
// wait objects are thenables, so `await reactor.readable(fd)` works in async
// functions too.
//
// fd waits are multiplexed per fd (one reader and one writer at a time,
// under one reactor handler), and the handler is left registered while the
// woken coroutine runs: a coroutine that waits on the same fd again, as a
// read loop does, costs no epoll_ctl at all (fd-waits.ts).
import { CancelledError, checkFd, codedError, codedTypeError, describe } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../selector.js';
import type { ReactorCore } from './core.js';
import type { SlowWatch } from './slow.js';
import type { Handle } from './timers.js';
import { FdWait, type FdWaiter, type FdWaiters, fdWaiters, SleepWait } from './fd-waits.js';

export { FdWait, type FdWaiter, SleepWait } from './fd-waits.js';

/** A generator coroutine: yields wait objects, tasks or promises; returns T. */
export type Coroutine<T = unknown> = Generator<unknown, T, any>;

type State = 'pending' | 'fulfilled' | 'rejected' | 'cancelled';

// What a suspended task is waiting for, so cancel() can withdraw it.
const enum WaitKind {
  None,
  Fd,
  Timer,
  Future,
  Promise,
}

/** A result that arrives later: what a coroutine yields (or async code
 * awaits) to wait for another task, or for a Deferred that some callback
 * settles. Unlike a Promise, it wakes a coroutine without the microtask
 * queue, so it works inside run(), which owns the thread. */
export class Future<T = unknown> implements PromiseLike<T> {
  #state: State = 'pending';
  #value: T | undefined;
  #error: unknown;
  // Typed without T, so that a Future<string> is a Future<unknown> (covariant, as a Promise is).
  #observers: Array<(f: Future<any>) => void> = [];
  #observed = false; // a done callback was ever added

  /** Whether it is settled: fulfilled, rejected or cancelled. */
  get done(): boolean {
    return this.#state !== 'pending';
  }

  /** Whether it ended cancelled (a task's {@link Task.cancel}). */
  get cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /** Whether it ended with a value. */
  get fulfilled(): boolean {
    return this.#state === 'fulfilled';
  }

  /**
   * The value it ended with.
   * @throws The error it ended with (a {@link CancelledError} when cancelled).
   * @throws `ERR_TASK_PENDING` (Error) when it is not done.
   */
  result(): T {
    if (this.#state === 'fulfilled') return this.#value as T;
    if (this.#state === 'pending') throw codedError('ERR_TASK_PENDING', 'the result is not there yet');
    throw this.#error;
  }

  /** The exception it ended with (undefined when fulfilled or pending). */
  get exception(): unknown {
    return this.#state === 'rejected' || this.#state === 'cancelled' ? this.#error : undefined;
  }

  /** @internal Whether a done callback was ever added. */
  get observed(): boolean {
    return this.#observed;
  }

  /** Calls `fn(future)` once it is done (at once, and throwing what `fn`
   * throws, if it is). Later, what `fn` throws is reported (a task's to its
   * reactor's reportError, a Deferred's to stderr) and does not stop the
   * other callbacks. */
  addDoneCallback(fn: (future: this) => void): void {
    this.#observed = true;
    if (this.#state !== 'pending') fn(this);
    else this.#observers.push(fn as (f: Future<any>) => void);
  }

  /** @internal */
  removeDoneCallback(fn: (future: this) => void): void {
    const i = this.#observers.indexOf(fn as (f: Future<any>) => void);
    if (i >= 0) this.#observers.splice(i, 1);
  }

  /** Makes it awaitable: resolves with its value, rejects with its error. */
  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new Promise<T>((resolve, reject) => {
      this.addDoneCallback((f) => (f.#state === 'fulfilled' ? resolve(f.#value as T) : reject(f.#error)));
    }).then(onfulfilled, onrejected);
  }

  /** Settles once; later calls are ignored. Returns whether anyone was waiting.
   * @param reporter - Where a done callback's exception goes. */
  protected settle(state: Exclude<State, 'pending'>, value: T | undefined, error: unknown, reporter: ErrorReporter): boolean {
    if (this.#state !== 'pending') return true;
    this.#state = state;
    this.#value = value;
    this.#error = error;
    const observers = this.#observers;
    this.#observers = [];
    for (const fn of observers) {
      try {
        fn(this);
      } catch (err) {
        reporter.reportError(err);
      }
    }
    return observers.length > 0;
  }
}

/**
 * A Future settled by hand: resolve() or reject(). What a callback-based
 * API hands a coroutine to wait for.
 *
 * @example
 * ```ts
 * const reply = new Deferred<string>();
 * reactor.callLater(10, () => reply.resolve('pong'));
 * reactor.spawn(function* () {
 *   const answer: string = yield reply;
 *   console.log(answer);
 * });
 * ```
 */
export class Deferred<T = unknown> extends Future<T> {
  /** Fulfils it with `value`; ignored once it is done. */
  resolve(value: T): void {
    this.settle('fulfilled', value, undefined, consoleReporter);
  }

  /** Rejects it with `error`; ignored once it is done. */
  reject(error: unknown): void {
    this.settle('rejected', undefined, error, consoleReporter);
  }
}

/** Where an exception thrown by a done callback goes (a Reactor is one). */
interface ErrorReporter {
  reportError(err: unknown): void;
}

const consoleReporter: ErrorReporter = {
  reportError(err: unknown): void {
    console.error('node-selectors: uncaught error in a done callback:', err);
  },
};

/** A running coroutine, made by {@link spawn}. Yield it from another
 * coroutine or await it to get its result; cancel() throws a
 * CancelledError where it waits. A failure nobody observes is reported to
 * the reactor's reportError at the next pass. */
export class Task<T = unknown> extends Future<T> implements FdWaiter {
  #running = false;
  #cancelRequested = false;
  #waitKind = WaitKind.None;
  #waitFd = -1;
  #waitWaiters: FdWaiters | null = null; // whose fd #waitFd is
  #waitTimer: Handle | null = null;
  #waitFuture: Future<unknown> | null = null;
  #waitToken = 0;
  // Made on first use: most tasks never sleep or wait for another task.
  #resumeTimer: (() => void) | null = null;
  #onFutureDone: ((f: Future<unknown>) => void) | null = null;

  readonly #waiters: FdWaiters;
  readonly #slow: SlowWatch | null;

  /**
   * Use {@link spawn}: a task made directly does not start.
   * @param reactor - The loop its waits go through.
   * @param gen - The generator it drives.
   * @param name - What to call it (in a slow-callback report): its generator function's name.
   */
  constructor(
    /** The loop the task's waits go through. */
    readonly reactor: ReactorCore,
    private readonly gen: Coroutine<T>,
    /** The name of the generator function it runs; '' when spawned from a generator object, which does not tell. */
    readonly name = '',
  ) {
    super();
    this.#waiters = fdWaiters(reactor);
    this.#slow = reactor.slowWatch ?? null;
  }

  /** Throws a CancelledError into the coroutine where it waits, after
   * withdrawing what it waited for. False if it had already finished. A task
   * cancelling itself while it runs gets the error at its next yield. */
  cancel(message?: string): boolean {
    if (this.done) return false;
    if (this.#running) {
      this.#cancelRequested = true;
      return true;
    }
    this.#withdraw();
    this.#step(new CancelledError(message), true);
    return true;
  }

  /** @internal Starts the coroutine (runs it up to its first wait). */
  start(): this {
    this.#step(undefined, false);
    return this;
  }

  // FdWaiter: the fd this task waits on is ready, or was closed.
  /** Part of `FdWaiter`: the fd it waits on is ready; the coroutine goes on with `events`. Called by the reactor, not by user code. */
  resume(events: number): void {
    this.#waitKind = WaitKind.None;
    this.#step(events, false);
  }

  /** Part of `FdWaiter`: its fd wait failed; the coroutine gets `err` thrown where it waits. Called by the reactor, not by user code. */
  fail(err: unknown): void {
    this.#waitKind = WaitKind.None;
    this.#step(err, true);
  }

  #resumeWith(f: Future<unknown>): void {
    if (f.fulfilled) this.#step(f.result(), false);
    else this.#step(f.exception, true);
  }

  // Runs the generator until it waits for something not yet available, or
  // ends. A loop, not recursion, so yielding finished futures cannot grow
  // the stack. When the reactor reports slow callbacks, the step calls
  // itself once more, timed (`timed`); otherwise that costs one null test.
  #step(input: unknown, isError: boolean, timed = false): void {
    if (this.done) return;
    const slow = this.#slow;
    if (slow !== null && !timed) {
      const start = slow.start();
      try {
        this.#step(input, isError, true);
      } finally {
        slow.end(start, () => `task step of ${this.name || 'a coroutine'}`);
      }
      return;
    }
    this.#running = true;
    try {
      for (;;) {
        let r: IteratorResult<unknown, T>;
        try {
          r = isError ? this.gen.throw(input) : this.gen.next(input);
        } catch (err) {
          this.#finish(err instanceof CancelledError ? 'cancelled' : 'rejected', undefined, err);
          return;
        }
        if (r.done) {
          this.#finish('fulfilled', r.value, undefined);
          return;
        }
        if (this.#cancelRequested) {
          this.#cancelRequested = false;
          input = new CancelledError();
          isError = true;
          continue;
        }
        const y = r.value;
        try {
          if (y instanceof FdWait) {
            y.waiters.wait(y.fd, y.events, this);
            this.#waitWaiters = y.waiters;
            this.#waitKind = WaitKind.Fd;
            this.#waitFd = y.fd;
            return;
          }
          if (y instanceof SleepWait) {
            this.#resumeTimer ??= () => this.#step(undefined, false);
            this.#waitTimer = this.reactor.callLater(y.ms, this.#resumeTimer);
            this.#waitKind = WaitKind.Timer;
            return;
          }
          if (y instanceof Future) {
            if (y === this) throw codedError('ERR_INVALID_YIELD', 'a task cannot wait for itself');
            if (!y.done) {
              this.#waitKind = WaitKind.Future;
              this.#waitFuture = y;
              this.#onFutureDone ??= (f: Future<unknown>): void => {
                if (this.#waitFuture !== f) return;
                this.#waitFuture = null;
                this.#waitKind = WaitKind.None;
                this.#resumeWith(f);
              };
              y.addDoneCallback(this.#onFutureDone);
              return;
            }
            isError = !y.fulfilled;
            input = isError ? y.exception : y.result();
            continue;
          }
          if (isThenable(y)) {
            const token = ++this.#waitToken;
            this.#waitKind = WaitKind.Promise;
            y.then(
              (v) => token === this.#waitToken && this.#settled(v, false),
              (e) => token === this.#waitToken && this.#settled(e, true),
            );
            return;
          }
          throw codedError('ERR_INVALID_YIELD', `a coroutine may yield readable(), writable(), sleep(), a task, a future or a promise, got ${typeof y}`);
        } catch (err) {
          // The wait could not start (closed reactor, fd already waited on):
          // the coroutine gets the error at its yield.
          this.#waitKind = WaitKind.None;
          input = err;
          isError = true;
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #settled(value: unknown, isError: boolean): void {
    this.#waitKind = WaitKind.None;
    this.#step(value, isError);
  }

  // Withdraws the current wait: unregisters the fd, cancels the timer,
  // stops listening to the awaited future or promise.
  #withdraw(): void {
    switch (this.#waitKind) {
      case WaitKind.Fd:
        this.#waitWaiters?.cancel(this.#waitFd, this);
        this.#waitWaiters = null;
        break;
      case WaitKind.Timer:
        this.#waitTimer?.cancel();
        this.#waitTimer = null;
        break;
      case WaitKind.Future:
        if (this.#onFutureDone !== null) this.#waitFuture?.removeDoneCallback(this.#onFutureDone);
        this.#waitFuture = null;
        break;
      case WaitKind.Promise:
        this.#waitToken++;
        break;
      case WaitKind.None:
        break;
    }
    this.#waitKind = WaitKind.None;
  }

  #finish(state: Exclude<State, 'pending'>, value: T | undefined, error: unknown): void {
    const observed = this.settle(state, value, error, this.reactor);
    // Nobody is waiting for this result: report the failure rather than let
    // it vanish (a cancellation is not a failure), but at the next pass, so
    // that whoever spawned a task that failed at once (in its first step,
    // inside spawn) can still add a done callback and handle it, instead of
    // the failure being reported twice.
    if (state === 'rejected' && !observed) {
      this.reactor.callSoon(() => {
        if (!this.observed) this.reactor.reportError(error);
      });
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

function checkLoop(loop: ReactorCore): void {
  if (loop === null || typeof loop !== 'object' || typeof (loop as Partial<ReactorCore>).addHandler !== 'function') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `the loop must be a Reactor, got ${describe(loop)}`);
  }
  if (loop.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
}

/**
 * Starts a generator coroutine on `loop` now (it runs up to its first
 * wait) and returns its task: {@link Reactor.spawn} for any loop.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `loop` is not a reactor or `coroutine` not a generator (function).
 * @throws `ERR_REACTOR_CLOSED` (Error) when the loop is closed.
 *
 * @example
 * ```ts
 * function* echo(fd: number): Coroutine<void> {
 *   const buf = new Uint8Array(4096);
 *   for (;;) {
 *     yield readable(reactor, fd);
 *     const n = sys.read(fd, buf);
 *     if (n === 0) break;
 *     if (n > 0) sys.write(fd, buf, 0, n);
 *   }
 *   sys.close(fd);
 * }
 * const task = spawn(reactor, echo(fd));
 * ```
 */
export function spawn<T>(loop: ReactorCore, coroutine: Coroutine<T> | (() => Coroutine<T>)): Task<T> {
  checkLoop(loop);
  const gen = typeof coroutine === 'function' ? coroutine() : coroutine;
  if (gen === null || typeof gen !== 'object' || typeof gen.next !== 'function' || typeof gen.throw !== 'function') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `spawn() needs a generator or a generator function, got ${describe(gen)}`);
  }
  return new Task<T>(loop, gen, typeof coroutine === 'function' ? coroutine.name : '').start();
}

/**
 * Waits until `fd` is readable: `yield` it in a coroutine or `await` it;
 * {@link Reactor.readable} for any loop.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 */
export function readable(loop: ReactorCore, fd: number): FdWait {
  checkFd(fd);
  return new FdWait(loop, fd, EVENT_READ);
}

/**
 * Waits until `fd` is writable: `yield` it in a coroutine or `await` it;
 * {@link Reactor.writable} for any loop.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 */
export function writable(loop: ReactorCore, fd: number): FdWait {
  checkFd(fd);
  return new FdWait(loop, fd, EVENT_WRITE);
}

/**
 * Waits `ms` milliseconds: `yield` it in a coroutine or `await` it;
 * {@link Reactor.sleep} for any loop.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `ms` is not a number, or NaN.
 */
export function sleep(loop: ReactorCore, ms: number): SleepWait {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `delay must be a number, got ${describe(ms)}`);
  return new SleepWait(loop, ms);
}
