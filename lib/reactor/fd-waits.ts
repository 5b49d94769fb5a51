// What coroutines and awaits wait on: an fd's readiness (FdWait) or a delay
// (SleepWait), and the per-reactor multiplexer behind fd waits (FdWaiters):
// one reader and one writer per fd under one reactor handler, left
// registered while the woken waiter runs, so that a read loop waiting on the
// same fd again costs no epoll_ctl. Part of the coroutine layer
// (coroutines.ts re-exports its public part): it uses the core's public calls only.
import { codedError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../selector.js';
import type { ReactorCore } from './core.js';

/** Something waiting for an fd: a task, a stream flushing its writes, or an
 * await on a wait object. The reactor's fd waiters call it; user code does
 * not. */
export interface FdWaiter {
  /** The fd is ready for `events`. */
  resume(events: number): void;
  /** The wait ended without readiness: the fd was dropped (its stream closed) or the wait failed. */
  fail(err: unknown): void;
}

/** `yield`/`await` it to wait until an fd is readable or writable: what
 * {@link readable} and {@link writable} return. Either way the result is the
 * ready events. Awaiting it needs an attached reactor
 * (`ERR_REACTOR_NOT_RUNNING` otherwise). */
export class FdWait implements PromiseLike<number> {
  /** @internal The waiters of the reactor's fds. */
  readonly waiters: FdWaiters;

  /**
   * Use {@link readable} or {@link writable}, which check the fd.
   * @param reactor - The loop that watches the fd.
   * @param fd - The fd to wait for.
   * @param events - EVENT_READ or EVENT_WRITE.
   */
  constructor(
    readonly reactor: ReactorCore,
    readonly fd: number,
    readonly events: typeof EVENT_READ | typeof EVENT_WRITE,
  ) {
    this.waiters = fdWaiters(reactor);
  }

  /**
   * Starts the wait; resolves with the ready events. Rejects with
   * `ERR_REACTOR_NOT_RUNNING` when the reactor is neither attached nor
   * running, `ERR_ALREADY_WAITING` when another waits for the same fd and
   * event, `ERR_REACTOR_CLOSED` when the reactor is closed.
   */
  then<A = number, B = never>(onfulfilled?: ((events: number) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new Promise<number>((resolve, reject) => {
      checkAwaitable(this.reactor);
      this.waiters.wait(this.fd, this.events, { resume: resolve, fail: reject });
    }).then(onfulfilled, onrejected);
  }
}

/** `yield`/`await` it to let `ms` milliseconds pass: what {@link sleep}
 * returns. Awaiting it needs an attached reactor. */
export class SleepWait implements PromiseLike<void> {
  /**
   * Use {@link sleep}, which checks `ms`.
   * @param reactor - The loop whose timer ends the wait.
   * @param ms - The delay in milliseconds.
   */
  constructor(readonly reactor: ReactorCore, readonly ms: number) {}

  /**
   * Starts the wait; resolves after `ms` milliseconds. Rejects with
   * `ERR_REACTOR_NOT_RUNNING` when the reactor is neither attached nor
   * running, `ERR_REACTOR_CLOSED` when it is closed.
   */
  then<A = void, B = never>(onfulfilled?: ((value: void) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new Promise<void>((resolve) => {
      checkAwaitable(this.reactor);
      this.reactor.callLater(this.ms, resolve);
    }).then(onfulfilled, onrejected);
  }
}

// An await is a Promise: it waits in Node's loop, so only an attached
// reactor can end it. One that is neither attached nor running (nor closed:
// that has its own error) would leave it pending forever, without a word;
// under run(), which owns the thread, promise callbacks only run after it
// returns, by when the reactor is idle too. A generator's yield has no such
// limit: a task spawned before run() waits for it.
/** @internal Throws ERR_REACTOR_NOT_RUNNING when an await on `reactor`'s waits could never end. */
export function checkAwaitable(reactor: ReactorCore): void {
  if (reactor.attached || reactor.running || reactor.closed) return;
  throw codedError(
    'ERR_REACTOR_NOT_RUNNING',
    'await on a reactor that is not attached would wait forever: call reactor.attach() before awaiting its waits ' +
      '(under run(), yield them in a generator coroutine instead)',
  );
}

class FdSlot {
  constructor(readonly fd: number) {}
  reader: FdWaiter | null = null;
  /** The reader waits with `linger` (see FdWaiters.wait). */
  lingerRead = false;
  /** In FdWaiters' list of slots to bring in line at the next pass. */
  deferred = false;
  writer: FdWaiter | null = null;
  /** The events the reactor handler is registered for (0: none). */
  registered = 0;
  /** True while a waiter of this fd runs; interest is synced afterwards. */
  firing = false;
}

const waitersByLoop = new WeakMap<ReactorCore, FdWaiters>();

/** @internal The fd waiters of `loop`: one per loop, made on first use. */
export function fdWaiters(loop: ReactorCore): FdWaiters {
  let waiters = waitersByLoop.get(loop);
  if (waiters === undefined) {
    waiters = new FdWaiters(loop);
    waitersByLoop.set(loop, waiters);
  }
  return waiters;
}

/** @internal One reactor handler per fd, shared by the coroutines waiting on it. */
export class FdWaiters {
  // Indexed by fd, as the core's handlers are.
  readonly #slots: Array<FdSlot | undefined> = [];
  readonly #onReady = (fd: number, events: number): void => this.#ready(fd, events);
  // Slots whose read interest outlived their reader (see wait's linger),
  // brought in line by #flush at the start of the next pass.
  #deferred: FdSlot[] = [];
  readonly #flush = (): void => {
    const slots = this.#deferred;
    this.#deferred = [];
    for (const slot of slots) {
      slot.deferred = false;
      if (this.#slots[slot.fd] === slot && !slot.firing) this.#sync(slot.fd, slot);
    }
  };

  constructor(private readonly reactor: ReactorCore) {}

  /**
   * Waits for `fd` to be ready for `events` (EVENT_READ or EVENT_WRITE).
   * With `linger`, a reader's interest stays registered after it is resumed
   * until the next pass of the loop, instead of being dropped at once: a
   * reader that is resumed through a Promise (an await) waits again only
   * after the pass, once the microtasks have run, and would otherwise cost
   * an epoll_ctl to leave and another to come back for every read. Only for
   * an owner that drops the fd with forget() before closing it (FdStream).
   */
  wait(fd: number, events: number, waiter: FdWaiter, linger = false): void {
    let slot = this.#slots[fd];
    if (slot === undefined) {
      slot = new FdSlot(fd);
      this.#slots[fd] = slot;
    }
    if (events === EVENT_READ) {
      if (slot.reader !== null) throw codedError('ERR_ALREADY_WAITING', `another coroutine is already waiting to read fd ${fd}`);
      slot.reader = waiter;
      slot.lingerRead = linger;
    } else {
      if (slot.writer !== null) throw codedError('ERR_ALREADY_WAITING', `another coroutine is already waiting to write fd ${fd}`);
      slot.writer = waiter;
    }
    if (!slot.firing) {
      try {
        this.#sync(fd, slot);
      } catch (err) {
        if (events === EVENT_READ) slot.reader = null;
        else slot.writer = null;
        if (slot.registered === 0) this.#slots[fd] = undefined;
        throw err;
      }
    }
  }

  /** Withdraws `waiter` (a cancelled task) from `fd`. */
  cancel(fd: number, waiter: FdWaiter): void {
    const slot = this.#slots[fd];
    if (slot === undefined) return;
    if (slot.reader === waiter) slot.reader = null;
    if (slot.writer === waiter) slot.writer = null;
    if (!slot.firing) this.#sync(fd, slot);
  }

  /** Drops `fd` before it is closed: unregisters it and fails its waiters
   * with `makeError()`, so nobody waits forever on a closed fd. (A factory:
   * an Error captures a stack trace, too dear to build for every close.) */
  forget(fd: number, makeError: () => unknown): void {
    const slot = this.#slots[fd];
    if (slot === undefined) return;
    this.#slots[fd] = undefined;
    const { reader, writer } = slot;
    slot.reader = slot.writer = null;
    if (slot.registered !== 0) this.reactor.removeHandler(fd);
    slot.registered = 0;
    if (reader !== null) reader.fail(makeError());
    if (writer !== null) writer.fail(makeError());
  }

  #ready(fd: number, events: number): void {
    const slot = this.#slots[fd];
    if (slot === undefined) return;
    slot.firing = true;
    let linger = false;
    try {
      const reader = slot.reader;
      if (reader !== null && (events & EVENT_READ) !== 0) {
        slot.reader = null;
        linger = slot.lingerRead;
        reader.resume(EVENT_READ);
      }
      const writer = slot.writer;
      // The reader may have closed the fd (forget) in the meantime.
      if (writer !== null && slot.writer === writer && (events & EVENT_WRITE) !== 0) {
        slot.writer = null;
        writer.resume(EVENT_WRITE);
      }
    } finally {
      slot.firing = false;
    }
    if (this.#slots[fd] !== slot) return;
    if (linger && slot.reader === null && (slot.registered & EVENT_READ) !== 0 && !this.reactor.closed) {
      // Keep the read interest until the next pass (see wait). A slot that
      // fires with no reader at all (below) drops it at once.
      this.#sync(fd, slot, EVENT_READ);
      if (!slot.deferred && this.#slots[fd] === slot) {
        slot.deferred = true;
        if (this.#deferred.push(slot) === 1) this.reactor.callSoon(this.#flush);
      }
      return;
    }
    this.#sync(fd, slot);
  }

  // Brings the reactor handler in line with the waiters now present (and
  // the interest `keep`, which a lingering reader leaves behind).
  #sync(fd: number, slot: FdSlot, keep = 0): void {
    const want = (slot.reader !== null ? EVENT_READ : 0) | (slot.writer !== null ? EVENT_WRITE : 0) | keep;
    if (want === slot.registered) return;
    if (want === 0) {
      this.#slots[fd] = undefined;
      slot.registered = 0;
      this.reactor.removeHandler(fd);
    } else if (slot.registered === 0) {
      this.reactor.addHandler(fd, this.#onReady, want);
      slot.registered = want;
    } else {
      this.reactor.updateHandler(fd, want);
      slot.registered = want;
    }
  }
}
