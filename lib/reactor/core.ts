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
import { checkCallback, checkFd, codedError, codedRangeError, codedTypeError, describe } from '../errors.js';
import { type BaseSelector, markReactorSelector, onSelectorClose } from '../selector.js';
import { defaultSelectorClass } from '../backends.js';
import { type Attachment, NodeLoopAttachment } from './attach.js';
import { type Handle, type Timer, TimerHeap } from './timers.js';

export type { Handle } from './timers.js';

/** Called with the fd and the events it is ready for (a subset of its
 * interest). Returning `false` says the event found nothing to do (nobody
 * waits on the fd just now): an attached pass stops polling again when a
 * round served nobody. Any other result counts as served. */
export type IoHandler = (fd: number, events: number) => void | boolean;

export interface ReactorOptions {
  /** The selector to drive; default a new DefaultSelector, which the reactor
   * then owns and closes. A selector passed in stays open after close(). */
  selector?: BaseSelector;
}

class HandlerEntry {
  constructor(
    readonly handler: IoHandler,
    public events: number,
    /** The dispatch generation it was added in; see #dispatch. */
    readonly generation: number,
  ) {}
}

class SoonHandle implements Handle {
  cancelled = false;
  constructor(readonly callback: () => void) {}
  cancel(): void {
    this.cancelled = true;
  }
}

// A pass blocks without limit (null), or for the next timer, or not at all.
const IDLE = -2;
/** Most selects one wake-up from Node's loop runs while events keep coming. */
const ATTACHED_ROUNDS = 8;

/** The event loop itself: fd handlers, callbacks, timers, run() and
 * attach(). Reactor (reactor.ts) adds coroutines, streams and servers. */
export class ReactorCore extends EventEmitter {
  readonly selector: BaseSelector;
  readonly #ownsSelector: boolean;
  // Indexed by fd: fds are small integers, and an array lookup is the
  // cheapest thing the dispatch loop can do per event.
  readonly #handlers: Array<HandlerEntry | undefined> = [];
  #handlerCount = 0;
  readonly #timers = new TimerHeap();
  readonly #dueTimers: Timer[] = [];
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

  constructor(options: ReactorOptions = {}) {
    super();
    this.#ownsSelector = options.selector === undefined;
    this.selector = options.selector ?? new (defaultSelectorClass())();
    // A reactor collected without close() is seen as its own selector
    // collected open (lib/resources.ts): that is reported as the reactor's.
    if (this.#ownsSelector) markReactorSelector(this.selector);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): boolean {
    return this.#running;
  }

  get attached(): boolean {
    return this.#attachment !== null;
  }

  /** Calls `handler(fd, events)` whenever `fd` is ready for some of `events`. */
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

  /** Changes the events `fd`'s handler waits for. */
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

  /** Removes `fd`'s handler; false when it had none. Call it before closing
   * the fd, or a new fd with the same number could inherit the registration. */
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

  hasHandler(fd: number): boolean {
    return this.#handlers[fd] !== undefined;
  }

  /** Runs `fn` on the next pass, after the callbacks scheduled before it. */
  callSoon(fn: () => void): Handle {
    this.#checkOpen();
    checkCallback(fn, 'callback');
    const handle = new SoonHandle(fn);
    this.#soon.push(handle);
    if (this.#soon.length === 1) this.#wake();
    return handle;
  }

  /** Runs `fn` once `ms` milliseconds have passed. */
  callLater(ms: number, fn: () => void): Handle {
    this.#checkOpen();
    if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `delay must be a number, got ${describe(ms)}`);
    if (Number.isNaN(ms)) throw codedRangeError('ERR_INVALID_ARG_VALUE', 'delay must not be NaN');
    checkCallback(fn, 'callback');
    const timer = this.#timers.push(performance.now() + Math.max(0, ms), fn);
    if (this.#timers.peek() === timer) this.#wake();
    return timer;
  }

  /** Monotonic time in milliseconds, the clock callLater uses. */
  time(): number {
    return performance.now();
  }

  /** Blocks in the selector and dispatches until stop() is called or nothing
   * is left to wait for (no handlers, timers or callbacks). May be called
   * again afterwards. */
  run(): void {
    this.#checkOpen();
    if (this.#running) throw codedError('ERR_REACTOR_RUNNING', 'the reactor is already running');
    if (this.#attachment !== null) throw codedError('ERR_REACTOR_ATTACHED', 'the reactor is attached to the Node event loop; detach() first');
    this.#running = true;
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

  /** Ends run() after the current pass; in attach() mode, detaches. */
  stop(): void {
    if (this.#running) this.#stopping = true;
    else if (this.#attachment !== null) this.detach();
  }

  /** Removes every handler, timer and callback, detaches, and closes the
   * selector if the reactor created it. Idempotent. */
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
    this.#timers.clear();
    for (const h of this.#soon) h.cancelled = true;
    this.#soon = [];
    this.#closed = true;
    if (this.#ownsSelector) this.selector.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- inside Node's loop (attach.ts)

  /** Runs the reactor inside Node's event loop instead of run(): returns at
   * once; handlers, timers and coroutines then fire beside node:net, timers
   * and Promises. Works with every backend. Undo with detach(). */
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
      // Node's own IO, timers and Promises from waiting long. A round whose
      // events served nobody ends it: those fds wait for code that runs
      // after this pass (an await resumes in a microtask).
      for (let round = 0; round < ATTACHED_ROUNDS && !this.#closed && this.#attachment !== null; round++) {
        if (this.#poll(0) === 0) break;
      }
    } finally {
      this.#inPass = false;
      this.#wake();
    }
  }

  /** Whether an attached reactor keeps the process alive (default true). */
  ref(): this {
    this.#refed = true;
    this.#attachment?.ref(true);
    return this;
  }

  unref(): this {
    this.#refed = false;
    this.#attachment?.ref(false);
    return this;
  }

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

  // The selector timeout of the next wait: 0 when callbacks are queued or a
  // stop is pending, the time to the next timer, null (no limit) when only
  // handlers are left, IDLE when nothing is.
  #timeout(): number | null {
    if (this.#soon.length > 0 || this.#stopping) return 0;
    const next = this.#timers.peek();
    if (next !== undefined) return Math.max(0, next.when - performance.now());
    return this.#handlerCount > 0 ? null : IDLE;
  }

  // Waits, dispatches the ready fds, then fires the timers that are due.
  // Returns how many handlers served their event (see IoHandler).
  #poll(timeout: number | null): number {
    const n = this.selector.selectRaw(timeout);
    const served = n > 0 ? this.#dispatch(n) : 0;
    if (this.#timers.size > 0) this.#runTimers();
    return served;
  }

  #dispatch(n: number): number {
    let served = 0;
    // Keep this wait's array: a handler that registers fds may make the
    // selector replace readyEvents, but these pairs stay valid here.
    const ready = this.selector.readyEvents;
    const generation = ++this.#generation;
    const handlers = this.#handlers;
    for (let i = 0; i < 2 * n; i += 2) {
      const fd = ready[i]!;
      const entry = handlers[fd];
      // Removed, or added after this wait returned: the event is stale.
      if (entry === undefined || entry.generation === generation) continue;
      const events = ready[i + 1]! & entry.events;
      if (events === 0) continue;
      try {
        if (entry.handler(fd, events) !== false) served++;
      } catch (err) {
        served++;
        this.reportError(err);
      }
    }
    return served;
  }

  #runTimers(): void {
    const now = performance.now();
    const due = this.#dueTimers;
    // Collect first, then fire: a timer scheduled by a callback never runs
    // in the pass that scheduled it, even with a zero delay.
    for (let t = this.#timers.peek(); t !== undefined && t.when <= now; t = this.#timers.peek()) {
      due.push(this.#timers.pop()!);
    }
    this.#callEach(due);
  }

  /** Calls each callback not cancelled, reporting what throws, and empties the list. */
  #callEach(list: Array<{ readonly cancelled: boolean; readonly callback: () => void }>): void {
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      if (entry.cancelled) continue;
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
    this.#callEach(batch);
    this.#soonSpare = batch;
  }

  #checkOpen(): void {
    if (this.#closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
  }
}
