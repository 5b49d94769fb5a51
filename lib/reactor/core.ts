// The reactor's core: fd handlers dispatched from one selector, a FIFO of
// callbacks and a timer heap, driven either by run() (which owns the thread
// and blocks in select) or by Node's own loop after attach().
//
// It knows nothing of what is built on it: coroutines, streams, the TCP
// server and ReactorSocket are layers that take a ReactorCore and use only
// its public calls (addHandler, callSoon, callLater, reportError, ...);
// reactor.ts puts them together as Reactor.
//
// Dispatch reads the selector's shared (fd, events) array directly
// (selectRaw), so a pass allocates nothing per ready event. Handlers may add,
// change and remove handlers (their own or others') while a pass dispatches:
// as libuv does, a registration made after the wait returned is stamped with
// the current generation and skips the events of that wait, a removed one is
// simply gone, and events are masked by the interest the handler has now.
import { EventEmitter } from 'node:events';
import { checkCallback, checkDuration, checkFd, codedError, codedRangeError, codedTypeError, describe } from '../errors.js';
import { type BaseSelector, markReactorSelector, onSelectorClose } from '../selector.js';
import { defaultSelectorClass } from '../backends.js';
import { type Attachment, NodeLoopAttachment } from './attach.js';
import { FarTimer } from './far-timer.js';
import { SlowWatch } from './slow.js';
import { type Handle, PeriodicTimer, SoonHandle, type Timer, type TimerHandle, TimerQueue } from './timers.js';
import { clock } from './clock.js';

export type { Handle, TimerHandle } from './timers.js';
export type { SlowCallback } from './slow.js';

/** Called with the fd and the events it is ready for (a subset of its interest). */
export type IoHandler = (fd: number, events: number) => void;

/** Options of `new Reactor(options)`. */
export interface ReactorOptions {
  /** The selector to drive; default a new DefaultSelector, which the reactor
   * then owns and closes. A selector passed in stays open after close(). */
  selector?: BaseSelector;
  /** asyncio's debug mode: each handler, callback, timer or task step that
   * takes this many milliseconds or longer emits `'slow'` with a
   * {@link SlowCallback} (`{ name, durationMs }`), or, with no `'slow'`
   * listener, prints a line on stderr. Off (the default) when undefined:
   * the loop then reads no clock per callback. */
  slowCallbackMs?: number;
}

class HandlerEntry {
  constructor(
    readonly handler: IoHandler,
    public events: number,
    /** The dispatch generation it was added in; see #dispatch. */
    readonly generation: number,
  ) {}
}

// A pass blocks without limit (null), or for the next timer, or not at all.
const IDLE = -2;
/** Most selects one wake-up from Node's loop runs while events keep coming. */
const ATTACHED_ROUNDS = 8;

/**
 * The event loop itself: fd handlers, callbacks, timers, {@link run} and
 * {@link attach}. {@link Reactor} adds coroutines, streams and servers as
 * methods; the layers' free functions ({@link spawn}, {@link listen},
 * {@link createConnection}, ...) take any ReactorCore.
 *
 * An exception thrown by a handler, callback or task never stops the loop:
 * it goes to {@link reportError}, that is to the `'error'` listeners, or to
 * stderr when there are none. Made with `slowCallbackMs`, it emits `'slow'`
 * ({@link SlowCallback}) for each handler, callback or task step that ran
 * that long.
 *
 * Calls that add work (addHandler, callSoon, callLater, run, attach) throw
 * `ERR_REACTOR_CLOSED` once the reactor is closed.
 *
 * Events: `'error'` (see {@link reportError}) and `'close'`, emitted once by
 * {@link close} after everything is removed.
 */
export class ReactorCore extends EventEmitter {
  /** The selector the reactor drives (its fds are the handlers' fds). */
  readonly selector: BaseSelector;
  readonly #ownsSelector: boolean;
  // Indexed by fd: fds are small integers, and an array lookup is the
  // cheapest thing the dispatch loop can do per event.
  readonly #handlers: Array<HandlerEntry | undefined> = [];
  #handlerCount = 0;
  readonly #timers = new TimerQueue(() => {
    this.#far.waiting = false; // a new earliest timer: the pass after the wait checks the clock
    this.#wake();
  });
  readonly #dueTimers: Timer[] = [];
  // run()'s timerfd for far deadlines (far-timer.ts).
  readonly #far: FarTimer;
  // The clock as the last timer pass read it, while nothing ran since: the
  // next wait's timeout then needs no second clock read in the same pass.
  #passNow = 0;
  #passNowFresh = false;
  // callSoon's FIFO: a pass runs the queue it starts with; callbacks added
  // meanwhile go to the other array and wait for the next pass.
  #soon: SoonHandle[] = [];
  #soonSpare: SoonHandle[] = [];
  #generation = 0;
  #running = false;
  #stopping = false;
  #closed = false;
  #inPass = false;
  #attachment: Attachment | null = null;
  #stopObservingSelector: (() => void) | null = null;
  #refed = true;
  readonly #pass = (): void => this.#attachedPass();
  readonly #scheduleAt = (when: number, fn: () => void, delay: number): Timer | null => (this.#closed ? null : this.#timers.push(when, delay, fn));
  /** @internal What times the loop's units when `slowCallbackMs` is set; null (the default) otherwise. */
  readonly slowWatch: SlowWatch | null;

  /**
   * @param options - The selector to drive (default: a new {@link DefaultSelector}, owned and closed by the reactor),
   * and `slowCallbackMs` (off by default).
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error), or a {@link SystemError}, when the default selector cannot be opened.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `slowCallbackMs` is not a number,
   * `ERR_INVALID_ARG_VALUE` (RangeError) when it is NaN, `ERR_OUT_OF_RANGE` (RangeError) when negative or infinite.
   */
  constructor(options: ReactorOptions = {}) {
    super();
    // Checked before the selector is opened: a bad option leaves no fd behind.
    const slowMs = options.slowCallbackMs;
    this.slowWatch = slowMs === undefined ? null : new SlowWatch(checkDuration(slowMs, 'slowCallbackMs', 0), this);
    this.#ownsSelector = options.selector === undefined;
    this.selector = options.selector ?? new (defaultSelectorClass())();
    // A reactor collected without close() is seen as its own selector
    // collected open (lib/resources.ts): that is reported as the reactor's.
    if (this.#ownsSelector) markReactorSelector(this.selector);
    this.#far = new FarTimer(this.selector);
  }

  /** Whether {@link close} was called (or the selector closed under an attached reactor). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether {@link run} is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Whether the reactor runs inside Node's event loop ({@link attach}). */
  get attached(): boolean {
    return this.#attachment !== null;
  }

  /**
   * Calls `handler(fd, events)` whenever `fd` is ready for some of `events`
   * (level-triggered), with the ready events masked by the interest it has
   * then. One handler per fd; a handler added while a pass dispatches sees
   * no events of that pass.
   * @param fd - A non-blocking fd.
   * @param handler - Called with the fd and its ready events.
   * @param events - A non-empty combination of {@link EVENT_READ}, {@link EVENT_WRITE} and {@link EVENT_PRIORITY}.
   * @throws `ERR_ALREADY_REGISTERED` (Error) when `fd` already has a handler.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `handler` is not a function.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws The errors of {@link BaseSelector.register} (`ERR_INVALID_EVENTS`, `ERR_UNSUPPORTED_EVENTS`,
   * `ERR_FD_OUT_OF_RANGE`, `ERR_SELECTOR_CLOSED`, a {@link SystemError} such as `EBADF`).
   *
   * @example
   * ```ts
   * reactor.addHandler(fd, (fd, events) => {
   *   const n = sys.read(fd, buf);
   *   if (n === 0) {
   *     reactor.removeHandler(fd);
   *     sys.close(fd);
   *   }
   * }, EVENT_READ);
   * ```
   */
  addHandler(fd: number, handler: IoHandler, events: number): void {
    this.#checkOpen();
    checkFd(fd);
    checkCallback(handler, 'handler');
    if (this.#handlers[fd] !== undefined) throw codedError('ERR_ALREADY_REGISTERED', `fd ${fd} already has a handler`);
    this.selector.register(fd, events);
    this.#handlers[fd] = new HandlerEntry(handler, events, this.#generation);
    this.#handlerCount++;
    this.#attachment?.interest(fd, events);
    if (this.#handlerCount === 1) this.#wake();
  }

  /**
   * Changes the events `fd`'s handler waits for (no syscall when unchanged).
   * @throws `ERR_NOT_REGISTERED` (Error) when `fd` has no handler.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws The errors of {@link BaseSelector.modify} (`ERR_INVALID_EVENTS`, `ERR_UNSUPPORTED_EVENTS`, a {@link SystemError}).
   */
  updateHandler(fd: number, events: number): void {
    this.#checkOpen();
    checkFd(fd);
    const entry = this.#handlers[fd];
    if (entry === undefined) throw codedError('ERR_NOT_REGISTERED', `fd ${fd} has no handler`);
    if (entry.events === events) return;
    this.selector.modify(fd, events);
    entry.events = events;
    this.#attachment?.interest(fd, events);
  }

  /**
   * Removes `fd`'s handler; false when it had none (or the reactor is
   * closed). Call it before closing the fd, or a new fd with the same number
   * could inherit the registration.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   */
  removeHandler(fd: number): boolean {
    if (this.#closed) return false;
    checkFd(fd);
    if (this.#handlers[fd] === undefined) return false;
    this.#handlers[fd] = undefined;
    this.#handlerCount--;
    this.selector.unregister(fd);
    this.#attachment?.interest(fd, 0);
    if (this.#handlerCount === 0) this.#wake();
    return true;
  }

  /** Whether `fd` has a handler. */
  hasHandler(fd: number): boolean {
    return this.#handlers[fd] !== undefined;
  }

  /**
   * Runs `fn` on the next pass, after the callbacks scheduled before it;
   * one scheduled by a callback waits for the pass after. Cancel it with
   * the handle.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `fn` is not a function.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  callSoon(fn: () => void): Handle {
    this.#checkOpen();
    checkCallback(fn, 'callback');
    const handle = new SoonHandle(fn);
    this.#soon.push(handle);
    if (this.#soon.length === 1) this.#wake();
    return handle;
  }

  /**
   * Runs `fn` once `ms` milliseconds have passed (on the {@link time}
   * clock; a negative delay is 0). Timers due together fire in the order
   * they were scheduled; one scheduled by a timer never fires in the same
   * pass. Cancel it with the handle, or restart it with its
   * {@link TimerHandle.refresh} (an idle timeout restarted by each request).
   * Arming, cancelling and restarting a timer are O(1) (one list per delay,
   * as Node's timers).
   * @param ms - The delay in milliseconds; fractions are kept.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `ms` is not a number or `fn` not a function.
   * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `ms` is NaN.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  callLater(ms: number, fn: () => void): TimerHandle {
    this.#checkOpen();
    if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `delay must be a number, got ${describe(ms)}`);
    if (Number.isNaN(ms)) throw codedRangeError('ERR_INVALID_ARG_VALUE', 'delay must not be NaN');
    checkCallback(fn, 'callback');
    const delay = ms > 0 ? ms : 0;
    return this.#timers.push(clock() + delay, delay, fn);
  }

  /**
   * Runs `fn` every `ms` milliseconds until the handle is cancelled (from
   * inside `fn` too), the first time `ms` from now. As Tornado's
   * PeriodicCallback, the calls keep to the grid now + k * ms: the next is
   * planned from the last planned time, not from when `fn` ran, so the
   * period does not drift by the time the calls take; ticks missed while
   * the thread was busy are skipped, not run in a burst. What `fn` throws
   * is reported as a timer's exception is ({@link reportError}), and the
   * calls go on. While it is not cancelled, run() does not return by itself.
   * @param ms - The period in milliseconds, > 0; fractions are kept.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `ms` is not a number or `fn` not a function.
   * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `ms` is NaN.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `ms` is not > 0, or infinite.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   *
   * @example
   * ```ts
   * let beats = 0;
   * const heartbeat = reactor.callEvery(1000, () => {
   *   if (++beats === 3) heartbeat.cancel();
   * });
   * ```
   */
  callEvery(ms: number, fn: () => void): Handle {
    this.#checkOpen();
    checkDuration(ms, 'period', Number.MIN_VALUE);
    checkCallback(fn, 'callback');
    return new PeriodicTimer(ms, fn, clock(), this.#scheduleAt);
  }

  /** Monotonic time in milliseconds (`performance.now()`), the clock callLater uses. */
  time(): number {
    return clock();
  }

  /**
   * Blocks in the selector and dispatches until stop() is called or nothing
   * is left to wait for (no handlers, timers or callbacks). May be called
   * again afterwards. Owns the thread meanwhile: Node's own timers, IO and
   * Promise callbacks wait until it returns (see {@link attach}).
   * @throws `ERR_REACTOR_RUNNING` (Error) when called from inside run().
   * @throws `ERR_REACTOR_ATTACHED` (Error) when the reactor is attached.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector was closed under it.
   */
  run(): void {
    this.#checkOpen();
    if (this.#running) throw codedError('ERR_REACTOR_RUNNING', 'the reactor is already running');
    if (this.#attachment !== null) throw codedError('ERR_REACTOR_ATTACHED', 'the reactor is attached to the Node event loop; detach() first');
    this.#running = true;
    // Time passed since the last pass, if any: its clock reading is stale.
    this.#passNowFresh = false;
    try {
      while (!this.#closed) {
        this.#runSoon();
        if (this.#closed) break;
        const timeout = this.#timeout();
        if (timeout === IDLE) break;
        this.#poll(timeout);
        if (this.#stopping) break;
      }
    } finally {
      this.#running = false;
      this.#stopping = false;
    }
  }

  /** Ends run() after the current pass; in attach() mode, detaches. Does nothing otherwise. */
  stop(): void {
    if (this.#running) this.#stopping = true;
    else if (this.#attachment !== null) this.detach();
  }

  /** Removes every handler, timer and callback, detaches, and closes the
   * selector if the reactor created it, then emits `'close'` (what layers
   * listen to, to release what they hold for the reactor: a listener that
   * throws goes to {@link reportError}). Idempotent. A run() in progress
   * returns after the current pass. */
  close(): void {
    if (this.#closed) return;
    this.#stopping = this.#running;
    this.detach();
    for (let fd = 0; fd < this.#handlers.length; fd++) {
      if (this.#handlers[fd] === undefined) continue;
      this.#handlers[fd] = undefined;
      if (!this.selector.closed) this.selector.unregister(fd);
    }
    this.#handlerCount = 0;
    this.#far.close();
    this.#timers.close();
    for (const h of this.#soon) h.cancelled = true;
    this.#soon = [];
    this.#closed = true;
    if (this.#ownsSelector) this.selector.close();
    for (const listener of this.listeners('close')) {
      try {
        (listener as () => void).call(this);
      } catch (err) {
        this.reportError(err);
      }
    }
  }

  /** The same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- inside Node's loop (attach.ts)

  /** Runs the reactor inside Node's event loop instead of run(): returns at
   * once; handlers, timers and coroutines then fire beside node:net, timers
   * and Promises. Works with every backend. Undo with detach(). Does nothing
   * when already attached. While it has handlers or timers, an attached
   * reactor keeps the process alive unless {@link unref}ed.
   * @throws `ERR_REACTOR_RUNNING` (Error) when run() is running.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   *
   * @example
   * ```ts
   * const reactor = new Reactor();
   * reactor.attach();
   * reactor.callLater(10, () => console.log('from the reactor'));
   * setTimeout(() => reactor.close(), 20); // Node's own timers go on beside it
   * ```
   */
  attach(): void {
    this.#checkOpen();
    if (this.#running) throw codedError('ERR_REACTOR_RUNNING', 'the reactor is running; attach() instead of run(), not inside it');
    if (this.#attachment !== null) return;
    this.#install(new NodeLoopAttachment(this.selector, this.#pass));
  }

  #install(attachment: Attachment): void {
    this.#attachment = attachment;
    // The selector closed under an attached reactor: libuv (or the helper
    // thread) would go on watching a dead fd whose number the next selector
    // may get, and the next pass would find the selector closed. Close the
    // reactor first, as close() does; run() instead meets the closed
    // selector in its next wait and throws ERR_SELECTOR_CLOSED.
    this.#stopObservingSelector = onSelectorClose(this.selector, () => this.close());
    attachment.ref(this.#refed);
    for (let fd = 0; fd < this.#handlers.length; fd++) {
      const entry = this.#handlers[fd];
      if (entry !== undefined) attachment.interest(fd, entry.events);
    }
    this.#wake();
  }

  // One non-blocking pass, from Node's loop.
  #attachedPass(): void {
    if (this.#closed || this.#inPass) return;
    this.#inPass = true;
    try {
      this.#runSoon();
      // Handlers often make more fds ready at once (a reply written to a
      // peer we also watch): poll again while events keep coming, up to a
      // bound, instead of paying a libuv wake-up per event. The bound keeps
      // Node's own IO, timers and Promises from waiting long.
      for (let round = 0; round < ATTACHED_ROUNDS && !this.#closed && this.#attachment !== null; round++) {
        if (this.#poll(0) === 0) break;
      }
    } finally {
      this.#inPass = false;
      this.#wake();
    }
  }

  /** Lets an attached reactor keep the process alive while it has handlers
   * or timers (the default), as a net.Socket's ref(). Returns the reactor. */
  ref(): this {
    this.#refed = true;
    this.#attachment?.ref(true);
    return this;
  }

  /** Lets the process exit even while an attached reactor has handlers or timers. Returns the reactor. */
  unref(): this {
    this.#refed = false;
    this.#attachment?.ref(false);
    return this;
  }

  /**
   * Undoes {@link attach}: the reactor stops firing from Node's loop and keeps
   * its handlers, timers and callbacks, for run() or a later attach().
   * Does nothing when not attached.
   */
  detach(): void {
    const attachment = this.#attachment;
    if (attachment === null) return;
    this.#attachment = null;
    this.#stopObservingSelector?.();
    this.#stopObservingSelector = null;
    attachment.close();
  }

  /** Reports an error raised by a handler, callback or task: to the 'error'
   * listeners, or on stderr with its stack when there is none. The loop
   * goes on either way. */
  reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err);
        return;
      } catch (listenerError) {
        err = listenerError;
      }
    }
    console.error('node-selectors: uncaught error in a reactor callback:', err);
  }

  // Tells the attachment when the next pass is due, unless a pass is running
  // (it re-arms once at its end).
  #wake(): void {
    const attachment = this.#attachment;
    if (attachment === null || this.#inPass) return;
    let deadline = Infinity;
    if (this.#soon.length > 0) deadline = 0;
    else {
      const next = this.#timers.peek();
      if (next !== undefined) deadline = next.when;
    }
    attachment.rearm(deadline, this.#handlerCount > 0);
  }

  // The next wait's timeout: 0 when callbacks are queued or a stop is pending,
  // the next timer's (far-timer.ts), null when only handlers are left, IDLE
  // when nothing is.
  #timeout(): number | null {
    if (this.#soon.length > 0 || this.#stopping) return 0;
    const next = this.#timers.peek();
    if (next !== undefined) return this.#far.timeout(next.when, this.#passNowFresh ? this.#passNow : NaN);
    return this.#handlerCount > 0 ? null : IDLE;
  }

  // Waits, dispatches the ready fds, then fires the timers that are due (none
  // after a wait the timerfd bounded, unless it fired). Returns how many fds
  // were ready.
  #poll(timeout: number | null): number {
    this.#passNowFresh = false;
    const far = this.#far;
    if (timeout !== null) far.waiting = false;
    const n = this.selector.selectRaw(timeout);
    if (n > 0) this.#dispatch(n);
    if (this.#timers.size > 0 && !far.waiting) this.#runTimers();
    far.waiting = false;
    return n;
  }

  #dispatch(n: number): void {
    // Keep this wait's array: a handler that registers fds may make the
    // selector replace readyEvents, but these pairs stay valid here.
    const ready = this.selector.readyEvents;
    const generation = ++this.#generation;
    const handlers = this.#handlers;
    const slow = this.slowWatch;
    for (let i = 0; i < 2 * n; i += 2) {
      const fd = ready[i]!;
      const entry = handlers[fd];
      // Removed, or added after this wait returned: the event is stale.
      // (The far-deadline timerfd has no entry: it only takes its expiry.)
      if (entry === undefined || entry.generation === generation) {
        if (fd === this.#far.fd) this.#far.expired();
        continue;
      }
      const events = ready[i + 1]! & entry.events;
      if (events === 0) continue;
      if (slow !== null) {
        slow.handler(entry.handler, fd, events);
        continue;
      }
      try {
        entry.handler(fd, events);
      } catch (err) {
        this.reportError(err);
      }
    }
  }

  #runTimers(): void {
    const now = clock();
    const due = this.#dueTimers;
    // Collect first, then fire: a timer scheduled by a callback never runs
    // in the pass that scheduled it, even with a zero delay.
    for (let t = this.#timers.peek(); t !== undefined && t.when <= now; t = this.#timers.peek()) {
      due.push(this.#timers.pop()!);
    }
    if (due.length === 0) {
      // Nothing ran since the clock was read: the next wait's timeout may use it.
      this.#passNow = now;
      this.#passNowFresh = true;
      return;
    }
    this.#callEach(due, 'callLater');
  }

  /** Calls each callback not cancelled, reporting what throws, and empties
   * the list. A due timer that one fired before it restarted (refresh()) is
   * back in the queue for its new deadline (`list` set): not called now. */
  #callEach(list: Array<{ readonly cancelled: boolean; readonly callback: () => void; readonly list: unknown }>, kind: string): void {
    const slow = this.slowWatch;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      if (entry.cancelled || entry.list !== null) continue;
      if (slow !== null) {
        slow.callback(entry.callback, kind);
        continue;
      }
      try {
        entry.callback();
      } catch (err) {
        this.reportError(err);
      }
    }
    list.length = 0;
  }

  #runSoon(): void {
    if (this.#soon.length === 0) return;
    const batch = this.#soon;
    this.#soon = this.#soonSpare;
    this.#passNowFresh = false;
    this.#callEach(batch, 'callSoon');
    this.#soonSpare = batch;
  }

  #checkOpen(): void {
    if (this.#closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
  }
}
