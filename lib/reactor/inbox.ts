// A cross-thread inbox: asyncio's call_soon_threadsafe for values. run()
// owns the thread, so a worker's MessagePort messages cannot arrive until it
// returns; an inbox lets any thread hand values to a reactor that is blocked
// in select, under run() as under attach().
//
// The poster serializes the value (v8.serialize, in its own thread) and
// the addon copies the bytes into the inbox's queue (native/inbox.cc),
// whose wakeup channel is readable while messages are queued. The inbox
// watches that channel with an ordinary fd handler, so this is a layer on
// the core's public calls, like streams and the server: the handler takes
// the queued messages in order, deserializes each and calls onMessage.
import { deserialize, serialize } from 'node:v8';
import { checkCallback, codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding, type NativeInbox } from '../native.js';
import { EVENT_READ, onSelectorClose } from '../selector.js';
import type { ReactorCore } from './core.js';

/** Options of {@link Inbox} ({@link Reactor.inbox}). */
export interface InboxOptions {
  /**
   * The most bytes of messages (as v8.serialize encodes them) the inbox
   * queues before a {@link postToInbox} throws `ERR_INBOX_FULL`; default
   * 64 MiB. This is the back-pressure: a poster that outruns the reactor
   * is told, and nothing it posted earlier is lost. A message larger than
   * the bound can never be posted.
   */
  maxQueuedBytes?: number;
}

/** The default {@link InboxOptions.maxQueuedBytes}: 64 MiB. */
export const DEFAULT_INBOX_BYTES = 64 * 1024 * 1024;

// Messages delivered per handler call: a busy inbox shares the pass with
// the other handlers instead of delivering a whole backlog at once. What is
// left keeps the channel readable, so the next pass goes on.
const BATCH = 1024;

/**
 * Values posted from any thread (a worker_thread, or this one), delivered
 * in a reactor pass to `onMessage`, one call per value, in the order they
 * were posted (per posting thread; posts from several threads interleave).
 * Give {@link handle} to the posters (`workerData`, `postMessage`); they call
 * {@link postToInbox}. A post wakes a reactor blocked in select, under
 * run() as under attach().
 *
 * Nothing posted is lost while the inbox is open: a post either queues the
 * value or throws in the poster (`ERR_INBOX_FULL` past
 * {@link InboxOptions.maxQueuedBytes}, `ERR_INBOX_CLOSED` after close).
 * Values still queued when the inbox closes are dropped, and counted:
 * close() returns how many.
 *
 * The inbox is a handler of its reactor: while it is open, run() does not
 * return for want of work, and an attached reactor keeps the process alive
 * (unless unref()ed). It closes by itself when its reactor's selector
 * closes (reactor.close() for a reactor that made its selector). An
 * exception thrown by `onMessage` goes to the reactor's reportError, and
 * the next value is still delivered.
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 *
 * const inbox = reactor.inbox((value) => console.log('got', value));
 * new Worker('./producer.js', { workerData: { inbox: inbox.handle } });
 * // in producer.js: postToInbox(workerData.inbox, { job: 1 });
 * reactor.run();
 * ```
 */
export class Inbox {
  /** The number that names this inbox to {@link postToInbox}, in any thread of the process. Never reused. */
  readonly handle: number;
  readonly #loop: ReactorCore;
  readonly #onMessage: (value: unknown) => void;
  readonly #native: NativeInbox;
  readonly #fd: number;
  #closed = false;
  #stopObservingSelector: () => void;
  // The batch being delivered, so that a close() from onMessage counts
  // what it will not deliver.
  #batch: Buffer[] = [];
  #next = 0;

  /**
   * @param loop - The reactor that delivers the values.
   * @param onMessage - Called with each value, in a reactor pass.
   * @param options - The bound of the queue.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `onMessage` is not a function, or `maxQueuedBytes` not a number.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `maxQueuedBytes` is not a safe integer >= 1.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws {@link SystemError} when the wakeup channel cannot be made (`EMFILE`, ...).
   */
  constructor(loop: ReactorCore, onMessage: (value: unknown) => void, options: InboxOptions = {}) {
    checkCallback(onMessage, 'onMessage');
    const max = options.maxQueuedBytes ?? DEFAULT_INBOX_BYTES;
    if (typeof max !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `maxQueuedBytes must be a number, got ${describe(max)}`);
    if (!Number.isSafeInteger(max) || max < 1) throw codedRangeError('ERR_OUT_OF_RANGE', `maxQueuedBytes must be a safe integer >= 1, got ${max}`);
    this.#loop = loop;
    this.#onMessage = onMessage;
    this.#native = new binding.Inbox(max);
    this.handle = this.#native.handle();
    this.#fd = this.#native.fd();
    try {
      loop.addHandler(this.#fd, () => this.#deliver(), EVENT_READ);
    } catch (err) {
      this.#native.close();
      throw err;
    }
    this.#stopObservingSelector = onSelectorClose(loop.selector, () => this.close());
  }

  /** Whether {@link close} was called (or the reactor's selector closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops delivering: the handle is dead from now on (a post through it
   * throws `ERR_INBOX_CLOSED` in the poster), the channel is closed, and
   * values still queued are dropped. Idempotent; may be called from
   * onMessage, which is then not called again.
   * @returns How many posted values were dropped undelivered (0 when already closed).
   */
  close(): number {
    if (this.#closed) return 0;
    this.#closed = true;
    this.#stopObservingSelector();
    this.#loop.removeHandler(this.#fd);
    const undelivered = this.#batch.length - this.#next;
    this.#batch = [];
    this.#next = 0;
    return this.#native.close() + undelivered;
  }

  /** The same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #deliver(): void {
    if (this.#closed) return;
    this.#batch = this.#native.take(BATCH);
    this.#next = 0;
    while (!this.#closed && this.#next < this.#batch.length) {
      const bytes = this.#batch[this.#next++] as Buffer;
      let value: unknown;
      try {
        value = deserialize(bytes);
      } catch (err) {
        this.#loop.reportError(err);
        continue;
      }
      try {
        this.#onMessage(value);
      } catch (err) {
        this.#loop.reportError(err);
      }
    }
    this.#batch = [];
    this.#next = 0;
  }
}

/**
 * Opens an {@link Inbox} on `loop`: the same as `reactor.inbox(onMessage, options)`.
 * @throws The errors of the {@link Inbox} constructor.
 */
export function openInbox(loop: ReactorCore, onMessage: (value: unknown) => void, options?: InboxOptions): Inbox {
  return new Inbox(loop, onMessage, options);
}

/**
 * Posts `value` to the inbox `handle` names ({@link Inbox.handle}), from any
 * thread of the process: a worker_thread, or the reactor's own. The value
 * is structured-cloned (v8.serialize, here in the calling thread; its
 * receiver gets v8.deserialize's copy), queued after this thread's earlier
 * posts, and wakes the reactor if it is blocked in select. Needs no reactor
 * in the calling thread.
 * @param handle - An {@link Inbox.handle}.
 * @param value - What v8.serialize accepts: primitives, plain objects, arrays, Maps, Sets, Dates, RegExps, typed arrays, Buffers, errors, nested and cyclic.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `handle` is not a positive safe integer.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when no inbox ever had `handle`.
 * @throws `ERR_INBOX_CLOSED` (Error) when the inbox was closed: the value is not queued.
 * @throws `ERR_INBOX_FULL` (Error) when the inbox's queued bytes would pass its maxQueuedBytes: the value is not queued; retry later.
 * @throws v8.serialize's error (`... could not be cloned`) for a value it cannot clone (a function, a symbol, ...): nothing is queued.
 *
 * @example
 * ```ts
 * import { workerData } from 'node:worker_threads';
 *
 * // in a worker: workerData.inbox is an Inbox's handle
 * postToInbox(workerData.inbox, { id: 7, at: new Date(), body: new Uint8Array([1, 2]) });
 * ```
 */
export function postToInbox(handle: number, value: unknown): void {
  if (typeof handle !== 'number' || !Number.isSafeInteger(handle) || handle <= 0) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `an inbox handle is a positive integer, got ${describe(handle)}`);
  }
  binding.inboxPost(handle, serialize(value));
}
