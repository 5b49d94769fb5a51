// The shared base of every backend: the fd -> key map, validation with no
// syscalls, and rollback (the kernel is asked first, bookkeeping changes only
// once it agreed), in the shape of CPython's selectors._BaseSelectorImpl.
// Backends are thin subclasses naming their native implementation.
import { checkFd, codedError, codedRangeError, codedTypeError, describe } from './errors.js';
import { FdMap } from './fd-map.js';
import { binding, NativeTrigger, type NativeSelector } from './native.js';
import { countOpenSelector, openSelectors, warnUnclosed } from './resources.js';

/**
 * Interest in, and readiness for, reading: data, end of stream, or a
 * pending connection on a listening socket. Error and hang-up conditions are
 * reported as readable too, so the owner's read sees them.
 */
export const EVENT_READ = 1;
/**
 * Interest in, and readiness for, writing without blocking; also how a
 * non-blocking connect says it has ended (read the outcome with
 * {@link sys.getsockoptError}).
 */
export const EVENT_WRITE = 2;
/**
 * Interest in urgent or priority data: POLLPRI, EPOLLPRI, select's
 * exceptfds, kqueue's out-of-band filter (TCP urgent data, GPIO and sysfs
 * attribute changes). A backend that cannot watch it (kqueue on FreeBSD)
 * refuses it with `ERR_UNSUPPORTED_EVENTS`; see
 * {@link BaseSelector.supportedEvents}.
 */
export const EVENT_PRIORITY = 4;
const ALL_EVENTS = EVENT_READ | EVENT_WRITE | EVENT_PRIORITY;

/**
 * What the selectors watch: an fd (a non-negative integer), or an object
 * whose `fileno()` returns one, such as a {@link ReactorSocket}; `fileno()`
 * is called at each register, modify, unregister and getKey.
 */
export type FileObject = number | { fileno(): number };
/** The name of a selector backend, as {@link BaseSelector.backend} reports it. */
export type BackendName = 'select' | 'poll' | 'epoll' | 'kqueue' | 'io_uring';
/** How readiness is reported: while it lasts (level), once per change (edge),
 * or once until re-armed by `modify` (oneshot). */
export type Trigger = 'level' | 'edge' | 'oneshot';

/** Options of {@link BaseSelector.register} and {@link BaseSelector.modify}. */
export interface RegisterOptions {
  /**
   * How readiness is reported (default `'level'`; in modify, default: the
   * key's current mode). A mode the backend cannot honour throws
   * `ERR_UNSUPPORTED_TRIGGER`; see {@link BaseSelector.supportsTrigger}.
   */
  trigger?: Trigger;
}

const TRIGGERS: Record<Trigger, NativeTrigger> = {
  level: NativeTrigger.Level,
  edge: NativeTrigger.Edge,
  oneshot: NativeTrigger.Oneshot,
};

/** What `register` returns: the fd's registration, immutable (modify makes a new one). */
export class SelectorKey<T = unknown> {
  /** Made by the selector; users read keys, they do not build them. */
  constructor(
    /** The fileobj as it was registered. */
    readonly fileobj: FileObject,
    /** Its fd (the fileobj's `fileno()` at registration). */
    readonly fd: number,
    /** The events watched: a combination of EVENT_READ, EVENT_WRITE and EVENT_PRIORITY. */
    readonly events: number,
    /** The data given to register or modify (undefined if none). */
    readonly data: T,
    /** The trigger mode the fd is registered with. */
    readonly trigger: Trigger = 'level',
  ) {}
}

/** A read-only, live view of a selector's registrations, keyed by fd. */
class KeyMapView<T> implements ReadonlyMap<number, SelectorKey<T>> {
  constructor(private readonly check: () => void, private readonly map: FdMap<SelectorKey<T>>) {}
  get size(): number {
    this.check();
    return this.map.size;
  }
  get(fd: number): SelectorKey<T> | undefined {
    this.check();
    return this.map.get(fd);
  }
  has(fd: number): boolean {
    this.check();
    return this.map.has(fd);
  }
  forEach(fn: (key: SelectorKey<T>, fd: number, map: ReadonlyMap<number, SelectorKey<T>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.entries()) fn.call(thisArg, key, fd, this);
  }
  entries(): MapIterator<[number, SelectorKey<T>]> {
    this.check();
    return this.map.entries();
  }
  keys(): MapIterator<number> {
    this.check();
    return this.map.keys();
  }
  values(): MapIterator<SelectorKey<T>> {
    this.check();
    return this.map.values();
  }
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T>]> {
    return this.entries();
  }
}

const INITIAL_CAPACITY = 64; // (fd, events) pairs

// Set by BaseSelector's static block, which alone sees its native object.
let markOwnedByReactor: (selector: BaseSelector) => void;

/**
 * The interface every backend shares, modelled on Python's
 * `selectors.BaseSelector`: register fds (or fileobjs) for events, then
 * {@link select} waits until some are ready. `T` is the type of each key's
 * `data`.
 *
 * The bookkeeping and every argument check happen here, before any syscall,
 * so a call that throws leaves the selector as it was. Bad input throws a
 * coded `TypeError`/`RangeError`/`Error` (see {@link ERROR_CODES}); a call
 * the kernel refuses throws a {@link SystemError} whose `code` is the errno
 * name (`EBADF`, `EPERM`, ...). Every call but {@link close} throws
 * `ERR_SELECTOR_CLOSED` once the selector is closed.
 *
 * Construct a backend's class ({@link EpollSelector}, {@link PollSelector},
 * ...) or {@link DefaultSelector}; a class this build or kernel lacks
 * throws `ERR_BACKEND_UNAVAILABLE`.
 *
 * @typeParam T - The type of the data attached to each registration.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, sys } from 'node-selectors';
 *
 * const [r, w] = sys.pipe();
 * using selector = new DefaultSelector<string>();
 * selector.register(r, EVENT_READ, 'the pipe');
 * sys.write(w, new TextEncoder().encode('hi'));
 * for (const [key, events] of selector.select(1000)) {
 *   console.log(key.data, events & EVENT_READ ? 'readable' : '');
 * }
 * selector.unregister(r);
 * sys.close(r);
 * sys.close(w);
 * ```
 */
export abstract class BaseSelector<T = unknown> implements Disposable {
  /** The backend's name: `'epoll'`, `'poll'`, ... */
  readonly backend: BackendName;
  /** The ready buffer of the fast path: after `selectRaw` returned n, pairs
   * (fd, events) at [2i, 2i + 1] for i < n. Replaced when it grows, so read
   * the property after each call rather than keeping the array. */
  readyEvents: Int32Array;

  #native: NativeSelector | null;
  readonly #slot: number;
  /** The backend's answer per trigger, asked once: register is on a
   * server's hot path (once per connection) and each native call costs. */
  readonly #supports: Array<boolean | undefined> = [];
  readonly #supportedEvents: number;
  readonly #keys = new FdMap<SelectorKey<T>>();
  readonly #view: KeyMapView<T>;

  static {
    markOwnedByReactor = (selector) => selector.#native?.setOwner(true);
  }

  /**
   * @param backend - The backend to open.
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks the backend.
   * @throws {@link SystemError} when the kernel refuses a new instance (`EMFILE`, `ENOMEM`, ...).
   */
  protected constructor(backend: BackendName) {
    this.backend = backend;
    if (!binding.backends.includes(backend)) {
      throw codedError('ERR_BACKEND_UNAVAILABLE', `backend '${backend}' is not available on this platform`);
    }
    warnUnclosed();
    this.#native = openNative(backend);
    countOpenSelector(1);
    this.#slot = this.#native.slot();
    this.#supportedEvents = this.#native.supportedEvents();
    this.readyEvents = new Int32Array(2 * INITIAL_CAPACITY);
    this.#native.setBuffer(this.readyEvents);
    this.#view = new KeyMapView(() => this.checkOpen(), this.#keys);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#native === null;
  }

  /** The events this backend can watch on this platform: every bit but
   * EVENT_PRIORITY where the kernel offers no way to watch urgent data
   * (kqueue on FreeBSD, which has no out-of-band filter). Registering an
   * event outside it throws ERR_UNSUPPORTED_EVENTS. */
  get supportedEvents(): number {
    return this.#supportedEvents;
  }

  /** The finest timeout `select()` honours, in milliseconds: 0.000001 where
   * the kernel takes a timespec (ppoll, pselect, epoll_pwait2, kevent,
   * io_uring), 1 where it takes whole milliseconds (poll without ppoll,
   * epoll_wait before Linux 5.11). Coarser timeouts are rounded up. */
  get timeoutResolution(): number {
    return this.checkOpen().timeoutResolutionNs() / 1e6;
  }

  /**
   * Whether this backend honours the trigger mode (level: always). False for
   * a name that is no trigger mode.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   */
  supportsTrigger(trigger: Trigger): boolean {
    const native = this.checkOpen();
    if (trigger === 'level') return true;
    return Object.hasOwn(TRIGGERS, trigger) && this.honours(native, TRIGGERS[trigger]);
  }

  /**
   * Starts watching `fileobj` for `events`; returns its new key.
   * @param fileobj - An fd, or an object with `fileno()`.
   * @param events - A non-empty combination of {@link EVENT_READ}, {@link EVENT_WRITE} and {@link EVENT_PRIORITY}.
   * @param data - Anything, kept in the key and returned with it by {@link select}.
   * @param options - The trigger mode (default `'level'`).
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fileobj` is not a non-negative integer fd or its `fileno()` fails.
   * @throws `ERR_FD_OUT_OF_RANGE` (RangeError) from {@link SelectSelector} for an fd >= {@link FD_SETSIZE}.
   * @throws `ERR_INVALID_EVENTS` (RangeError) when `events` is 0, not an integer, or has other bits.
   * @throws `ERR_UNSUPPORTED_EVENTS` (Error) for EVENT_PRIORITY where the backend cannot watch it.
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError) for an unknown trigger mode.
   * @throws `ERR_UNSUPPORTED_TRIGGER` (Error) for a mode the backend cannot honour.
   * @throws `ERR_ALREADY_REGISTERED` (Error) when the fd is already registered.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   * @throws {@link SystemError} when the kernel refuses the fd (`EBADF`; `EPERM` for a regular file in epoll).
   */
  register(fileobj: FileObject, events: number, data?: T, options?: RegisterOptions): SelectorKey<T> {
    const native = this.checkOpen();
    const fd = this.fdOf(fileobj);
    checkEvents(events);
    this.checkSupportedEvents(events);
    const trigger = this.checkTrigger(native, options);
    if (this.#keys.has(fd)) {
      throw codedError('ERR_ALREADY_REGISTERED', `fd ${fd} is already registered`);
    }
    // Room for every key after this one, plus the internal wakeup channel.
    this.ensureCapacity(this.#keys.size + 2);
    binding.add(this.#slot, fd, events, TRIGGERS[trigger]);
    const key = new SelectorKey<T>(fileobj, fd, events, data as T, trigger);
    this.#keys.set(fd, key);
    return key;
  }

  /**
   * Stops watching `fileobj`; returns the key it was registered with. An fd
   * closed since it was registered can still be unregistered, and so can a
   * fileobj whose `fileno()` fails now (it is found by identity).
   * @throws `ERR_NOT_REGISTERED` (Error) when the fd is not registered.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fileobj` is no fd and was not registered.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   */
  unregister(fileobj: FileObject): SelectorKey<T> {
    this.checkOpen();
    const key = this.lookup(fileobj);
    binding.remove(this.#slot, key.fd);
    this.#keys.delete(key.fd);
    return key;
  }

  /**
   * Changes the events (and the data, when given) of a registered fileobj;
   * returns its new key (the same key when nothing changed). Omitted `data`
   * keeps the current data; omitted `trigger` keeps the current mode.
   * Unchanged events and mode make no syscall, except for a oneshot key,
   * which modify re-arms.
   * @throws `ERR_NOT_REGISTERED` (Error) when the fd is not registered.
   * @throws `ERR_INVALID_FD`, `ERR_INVALID_EVENTS`, `ERR_UNSUPPORTED_EVENTS`, `ERR_INVALID_ARG_VALUE`,
   * `ERR_UNSUPPORTED_TRIGGER`, `ERR_SELECTOR_CLOSED`: as {@link register}.
   * @throws {@link SystemError} when the kernel refuses the change.
   */
  modify(fileobj: FileObject, events: number, data?: T, options?: RegisterOptions): SelectorKey<T> {
    const native = this.checkOpen();
    const key = this.lookup(fileobj);
    checkEvents(events);
    this.checkSupportedEvents(events);
    const trigger = options?.trigger === undefined ? key.trigger : this.checkTrigger(native, options);
    const newData = arguments.length >= 3 ? (data as T) : key.data;
    if (events !== key.events || trigger !== key.trigger || trigger === 'oneshot') {
      binding.modify(this.#slot, key.fd, events, TRIGGERS[trigger]);
    }
    if (events === key.events && trigger === key.trigger && newData === key.data) return key;
    const updated = new SelectorKey<T>(key.fileobj, key.fd, events, newData, trigger);
    this.#keys.set(key.fd, updated);
    return updated;
  }

  /**
   * Waits for registered fds to become ready, up to `timeoutMs`
   * milliseconds (undefined, null or Infinity: no limit; <= 0: poll once).
   * A fraction is rounded up to the backend's {@link timeoutResolution}, so
   * the call never returns early when nothing is ready; an interrupted wait
   * (EINTR) goes on with the time left.
   *
   * Returns each ready key once with its ready events, a subset of
   * `key.events`: error and hang-up conditions come as EVENT_READ and/or
   * EVENT_WRITE, masked by the key's interest. Empty on timeout or
   * {@link wakeup}.
   * @param timeoutMs - Milliseconds to wait at most.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `timeoutMs` is not a number, null or undefined.
   * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `timeoutMs` is NaN.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   */
  select(timeoutMs?: number | null): Array<[SelectorKey<T>, number]> {
    const n = this.selectRaw(timeoutMs);
    const ready = this.readyEvents;
    const keys = this.#keys;
    if (n === 1) {
      // One ready fd, the common case of a busy loop: the result as one
      // literal, allocated at its final size.
      const key = keys.get(ready[0]!);
      return key === undefined ? [] : [[key, ready[1]!]];
    }
    const result: Array<[SelectorKey<T>, number]> = [];
    for (let i = 0; i < n; i++) {
      const key = keys.get(ready[2 * i]!);
      if (key !== undefined) result.push([key, ready[2 * i + 1]!]);
    }
    return result;
  }

  /**
   * The allocation-free form of {@link select}: waits, fills
   * {@link readyEvents} with (fd, events) pairs and returns how many.
   * Same timeout and errors as select.
   *
   * @example
   * ```ts
   * const n = selector.selectRaw(100);
   * const ready = selector.readyEvents; // read after each call: it may be replaced
   * for (let i = 0; i < n; i++) console.log('fd', ready[2 * i], 'events', ready[2 * i + 1]);
   * ```
   */
  selectRaw(timeoutMs?: number | null): number {
    if (this.#native === null) this.checkOpen();
    return binding.wait(this.#slot, toNativeTimeout(timeoutMs));
  }

  /**
   * The key `fileobj` is registered with.
   * @throws `ERR_NOT_REGISTERED` (Error) when the fd is not registered.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fileobj` is no fd and was not registered.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   */
  getKey(fileobj: FileObject): SelectorKey<T> {
    this.checkOpen();
    return this.lookup(fileobj);
  }

  /**
   * A live, read-only view of the registrations, keyed by fd (iteration
   * goes in fd order over a snapshot). Reading it after {@link close} throws
   * `ERR_SELECTOR_CLOSED`.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   */
  getMap(): ReadonlyMap<number, SelectorKey<T>> {
    this.checkOpen();
    return this.#view;
  }

  /** Makes a `select()` that is blocked, or the next one, return early
   * with no events. Wakeups before a select coalesce into one early return.
   * From another thread, use `wakeupHandle()` and `wakeupSelector()`.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed. */
  wakeup(): void {
    this.checkOpen().wakeup();
  }

  /** A number that lets any thread wake this selector through
   * `wakeupSelector(handle)`: post it to a worker. It stays valid until the
   * selector is closed; after that, waking through it does nothing. The
   * wakeup channel (an eventfd, or a pipe) is made on first use, watched by
   * the backend and never shown in `getMap()` or in results.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed.
   * @throws {@link SystemError} when the channel cannot be made (`EMFILE`, ...). */
  wakeupHandle(): number {
    return this.checkOpen().wakeupHandle();
  }

  /** Frees the kernel object and forgets every registration. Idempotent. */
  close(): void {
    if (this.#native === null) return;
    // Those watching the kernel object from elsewhere (an attached reactor's
    // libuv handle or helper thread) let go of it while its fd still names it.
    const observers = closeObservers.get(this);
    if (observers !== undefined) {
      closeObservers.delete(this);
      for (const observer of observers) observer();
      if (this.#native === null) return; // an observer closed it meanwhile
    }
    this.#native.close();
    this.#native = null;
    this.#keys.clear();
    countOpenSelector(-1);
    warnUnclosed();
  }

  /** The same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal The kernel fd when it is readable exactly when a wait would
   * report events (epoll; kqueue on a BSD kernel), so that libuv can watch
   * it for an attached reactor; -1 otherwise. */
  pollableFd(): number {
    return this.checkOpen().pollableFd();
  }

  /** The kernel object's fd, for the backends that have one (their `fileno()`). */
  protected kernelFd(): number {
    return this.checkOpen().fileno();
  }

  /** Checks an fd against backend limits (SelectSelector: FD_SETSIZE). */
  protected checkFdLimit(_fd: number): void {}

  private checkOpen(): NativeSelector {
    if (this.#native === null) throw codedError('ERR_SELECTOR_CLOSED', `the ${this.backend} selector is closed`);
    return this.#native;
  }

  private fdOf(fileobj: FileObject): number {
    const fd = fileDescriptor(fileobj);
    this.checkFdLimit(fd);
    return fd;
  }

  // Finds the key of a registered fileobj. A fileobj whose fileno() fails now
  // (a socket closed since it was registered) is found by identity instead.
  private lookup(fileobj: FileObject): SelectorKey<T> {
    let fd: number;
    try {
      fd = fileDescriptor(fileobj);
    } catch (err) {
      if (typeof fileobj === 'object' && fileobj !== null) {
        for (const key of this.#keys.values()) if (key.fileobj === fileobj) return key;
      }
      throw err;
    }
    const key = this.#keys.get(fd);
    if (key === undefined) throw codedError('ERR_NOT_REGISTERED', `fd ${fd} is not registered`);
    return key;
  }

  private checkSupportedEvents(events: number): void {
    if ((events & ~this.#supportedEvents) === 0) return;
    throw codedError(
      'ERR_UNSUPPORTED_EVENTS',
      `the ${this.backend} backend cannot watch EVENT_PRIORITY on this platform (its kernel has no out-of-band filter); ` +
        'use PollSelector or SelectSelector for urgent data',
    );
  }

  private checkTrigger(native: NativeSelector, options: RegisterOptions | undefined): Trigger {
    const trigger = options?.trigger ?? 'level';
    if (trigger === 'level') return trigger; // every backend has it
    if (!Object.hasOwn(TRIGGERS, trigger)) {
      throw codedTypeError('ERR_INVALID_ARG_VALUE', `trigger must be 'level', 'edge' or 'oneshot', got ${describe(trigger)}`);
    }
    if (!this.honours(native, TRIGGERS[trigger])) {
      throw codedError('ERR_UNSUPPORTED_TRIGGER', `the ${this.backend} backend cannot honour the '${trigger}' trigger`);
    }
    return trigger;
  }

  private honours(native: NativeSelector, mode: NativeTrigger): boolean {
    return (this.#supports[mode] ??= native.supports(mode));
  }

  // Keeps room for every registered fd in the ready buffer, so one wait can
  // report them all and none is starved.
  private ensureCapacity(pairs: number): void {
    if (this.readyEvents.length >= 2 * pairs) return;
    let capacity = this.readyEvents.length / 2;
    while (capacity < pairs) capacity *= 2;
    const buffer = new Int32Array(2 * capacity);
    this.checkOpen().setBuffer(buffer);
    this.readyEvents = buffer;
  }
}

/** @internal `selector` was made by a reactor, which closes it: collected
 * open, it is reported as an unclosed reactor (lib/resources.ts). */
export function markReactorSelector(selector: BaseSelector): void {
  markOwnedByReactor(selector);
}

const closeObservers = new WeakMap<BaseSelector, Set<() => void>>();

/** @internal Runs `observer` once, just before `selector` closes; returns
 * the call that cancels it. */
export function onSelectorClose(selector: BaseSelector, observer: () => void): () => void {
  let observers = closeObservers.get(selector);
  if (observers === undefined) closeObservers.set(selector, (observers = new Set()));
  observers.add(observer);
  return () => observers.delete(observer);
}

/**
 * The fd of a FileObject: the number itself, or what its fileno() returns.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when it is not a non-negative integer fd, or `fileno()` throws or returns none.
 */
export function fileDescriptor(fileobj: FileObject): number {
  if (typeof fileobj === 'number') {
    checkFd(fileobj);
    return fileobj;
  }
  if (typeof fileobj === 'object' && fileobj !== null && typeof fileobj.fileno === 'function') {
    let fd: unknown;
    try {
      fd = fileobj.fileno();
    } catch (cause) {
      const err = codedTypeError('ERR_INVALID_FD', `fileno() failed: ${(cause as Error)?.message ?? String(cause)}`);
      err.cause = cause;
      throw err;
    }
    checkFd(fd, 'fileno()');
    return fd;
  }
  throw codedTypeError('ERR_INVALID_FD', `fileobj must be an fd or have a fileno() method, got ${describe(fileobj)}`);
}

/** A new native selector. Out of fds, the error says how many selectors
 * this thread holds open (and how many of those were never closed but
 * collected), which is where a program that forgets close() finds out. */
function openNative(backend: BackendName): NativeSelector {
  try {
    return new binding.Selector(backend);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EMFILE' || e.code === 'ENFILE') {
      const [byUsers, byReactors] = binding.collectedOpen();
      const collected = byUsers + byReactors;
      const hint =
        ` (${openSelectors()} selectors are open in this thread` +
        (collected > 0 ? `; ${collected} were collected without close() and held fds until then` : '') +
        '; close() the ones no longer needed)';
      const message = e.message;
      e.message = message + hint;
      // V8 formats the stack on first read, with the message of that time.
      if (typeof e.stack === 'string' && !e.stack.includes(hint)) e.stack = e.stack.replace(message, e.message);
    }
    throw error;
  }
}

function checkEvents(events: unknown): asserts events is number {
  if (typeof events !== 'number' || !Number.isInteger(events) || events === 0 || (events & ~ALL_EVENTS) !== 0 || events < 0) {
    throw codedRangeError(
      'ERR_INVALID_EVENTS',
      `events must be a non-empty combination of EVENT_READ, EVENT_WRITE and EVENT_PRIORITY, got ${describe(events)}`,
    );
  }
}

// The native side takes milliseconds as a double, negative for "no limit",
// and rounds up to its clock's precision so that a wait is never cut short.
function toNativeTimeout(timeoutMs: number | null | undefined): number {
  if (timeoutMs === undefined || timeoutMs === null || timeoutMs === Infinity) return -1;
  if (typeof timeoutMs !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `timeout must be a number, null or undefined, got ${describe(timeoutMs)}`);
  }
  if (Number.isNaN(timeoutMs)) throw codedRangeError('ERR_INVALID_ARG_VALUE', 'timeout must not be NaN');
  return timeoutMs > 0 ? timeoutMs : 0;
}

/**
 * Wakes the selector that `handle` (from {@link BaseSelector.wakeupHandle})
 * names, from any thread, main or worker: a blocked `select()` returns early
 * with no events. Returns false, doing nothing, once that selector is closed.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `handle` is not a positive integer.
 *
 * @example
 * ```ts
 * import { isMainThread, Worker, workerData } from 'node:worker_threads';
 *
 * if (isMainThread) {
 *   const selector = new DefaultSelector();
 *   new Worker(new URL(import.meta.url), { workerData: { handle: selector.wakeupHandle() } });
 *   selector.select(); // returns once the worker wakes it
 *   selector.close();
 * } else {
 *   wakeupSelector((workerData as { handle: number }).handle);
 * }
 * ```
 */
export function wakeupSelector(handle: number): boolean {
  if (typeof handle !== 'number' || !Number.isSafeInteger(handle) || handle <= 0) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `a wakeup handle is a positive integer, got ${describe(handle)}`);
  }
  return binding.wakeup(handle);
}

/** The FD_SETSIZE this build's select() was compiled with: {@link SelectSelector} refuses fds from this one up. */
export const FD_SETSIZE: number = binding.FD_SETSIZE;
