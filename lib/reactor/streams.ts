// Buffered streams over a non-blocking fd, for coroutines and async code.
//
// Each operation is written once, as a generator, and returned as an Op: an
// object that is both iterable (`yield* stream.read(100)` in a coroutine)
// and thenable (`await stream.read(100)` in an async function, with the
// reactor attached). Reads go to the fd first and wait only on EAGAIN, so a
// request that has already arrived costs no registration at all.
//
// Memory is bounded on both sides: readUntil never buffers more than its
// maxBytes, and write() makes its caller wait once more than highWaterMark
// bytes are queued, until the queue has drained to half of it.
//
// A layer on the coroutines: it waits through them and never touches the
// reactor core beyond its public calls. Op (what the operations return)
// is ops.ts; the options are stream-options.ts.
import { checkCallback, codedError, codedRangeError, codedTypeError, describe, IncompleteReadError, LimitExceededError } from '../errors.js';
import { EVENT_WRITE } from '../selector.js';
import * as sys from '../sys/index.js';
import { type Coroutine, Deferred, FdWait, type FdWaiter, readable } from './coroutines.js';
import { type FdWaiters, fdWaiters } from './fd-waits.js';
import { Op } from './ops.js';
import { checkCount, type StreamOptions, streamSettings } from './stream-options.js';
import type { ReactorCore } from './core.js';
import type { Handle, TimerHandle } from './timers.js';

/** The longest pause between two reads of a FIFO without a writer (see
 * StreamOptions.eofIsFinal), in milliseconds. */
const EOF_RETRY_MAX_MS = 100;

/** Reads in a row served without waiting after which a read lets the loop
 * run one pass first (see FdStream's #loopTurn). */
const YIELD_EVERY = 64;

/** The least room left in a stream's read buffer that a read goes into
 * rather than a new buffer (bytes). */
const MIN_ROOM = 4096;

// What FdStream's #fillNow asks to wait for, when no byte came.
const WAIT = -1;
const PAUSE = -2;

const EMPTY = new Uint8Array(0);

// FdStream's read(n) step by step, for ReadOp (set in FdStream's static block).
let readNext: (stream: FdStream, op: ReadOp) => IteratorResult<unknown, Uint8Array>;

// How far a ReadOp has got (its `state`).
const enum ReadState {
  Start,
  Turn, // let the loop run a pass first (see FdStream's #loopTurn)
  Wait, // waits for readability
  Pause, // waits for a pause, then for readability (a FIFO without a writer)
}

// read(n): the commonest operation, so its own iterator rather than a
// generator: `yield* stream.read(n)` steps it directly, without a generator
// to make and resume per read. An Op by its prototype (below) rather than by
// `extends`, which would cost a super() call per read.
class ReadOp {
  state = ReadState.Start;
  busy = false;

  constructor(readonly stream: FdStream, readonly n: number) {}

  [Symbol.iterator](): Coroutine<Uint8Array> {
    // Each use runs the operation anew: one already running (the same op
    // used twice at once) gets a fresh one.
    const op = this.busy ? new ReadOp(this.stream, this.n) : this;
    op.busy = true;
    op.state = ReadState.Start;
    return op as unknown as Coroutine<Uint8Array>;
  }

  next(): IteratorResult<unknown, Uint8Array> {
    try {
      const r = readNext(this.stream, this);
      if (r.done === true) this.busy = false;
      return r;
    } catch (err) {
      this.busy = false;
      throw err;
    }
  }

  // The wait failed (the stream closed, a cancellation): the read ends with it.
  throw(err: unknown): never {
    this.busy = false;
    throw err;
  }

  return(value: Uint8Array): IteratorResult<unknown, Uint8Array> {
    this.busy = false;
    return { done: true, value };
  }
}
// Op's then() (which runs [Symbol.iterator]()) and `instanceof Op`.
Object.setPrototypeOf(ReadOp.prototype, Op.prototype);


const streamClosed = () => codedError('ERR_STREAM_CLOSED', 'the stream was closed');
// The result of a write that need not wait: nothing to do either way.
const DONE = new Op<void>(function* () {});
const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string, what: string): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a Uint8Array or a string, got ${describe(data)}`);
}

// The index of `needle` in hay[from, to), or -1.
function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0]!;
  const last = to - needle.length;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/**
 * A buffered stream over a non-blocking fd (a socket, a pipe, a terminal,
 * a FIFO), for coroutines and async code: reads of up to n bytes, exactly n bytes, or up
 * to a delimiter, and writes with back-pressure. Made by
 * {@link Reactor.stream} or handed to a {@link TcpServer}'s generator or
 * async handler; it closes the fd when it closes (unless `closeFd: false`).
 *
 * Each operation returns an {@link Op}: `yield*` it in a generator coroutine,
 * or `await` it in async code with the reactor attached. Reads go to the fd
 * first and wait only when it would block. Memory is bounded: readUntil
 * never buffers more than its `maxBytes`, and a write's result waits while
 * more than `highWaterMark` bytes are queued.
 *
 * Operations after {@link close} fail with `ERR_STREAM_CLOSED`; kernel
 * failures (`ECONNRESET`, `EPIPE`, ...) are {@link SystemError}s.
 *
 * @example
 * ```ts
 * const reactor = new Reactor();
 * const [a, b] = sys.socketpair();
 * const left = reactor.stream(a);
 * const right = reactor.stream(b);
 * reactor.spawn(function* () {
 *   yield* left.write('ping\n');
 *   const line: Uint8Array = yield* right.readUntil('\n');
 *   console.log(new TextDecoder().decode(line)); // 'ping\n'
 *   left.close();
 *   right.close();
 * });
 * reactor.run();
 * ```
 */
export class FdStream implements FdWaiter {
  /** The fd it reads and writes. */
  readonly fd: number;
  /** Queued bytes above which a write's result waits (bytes). */
  readonly highWaterMark: number;
  readonly #loop: ReactorCore;
  readonly #waiters: FdWaiters;
  readonly #readSize: number;
  readonly #closeFd: boolean;
  readonly #eofIsFinal: boolean;
  readonly #readable: FdWait;
  // Read buffer: bytes [#start, #end) are buffered, unread.
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;
  // With eofIsFinal false: 0-byte reads in a row, and the timer of the
  // pause before the next read (a FIFO without a writer).
  #emptyReads = 0;
  // Reads in a row that did not wait (see #loopTurn).
  #streak = 0;
  #pause: { timer: Handle; wake: Deferred<void> } | null = null;
  // Write queue: chunks not yet written; the first from #headOffset.
  #queue: Uint8Array[] = [];
  #headOffset = 0;
  #queued = 0;
  #flushing = false; // waiting for writability in the background
  #writeError: unknown = undefined;
  #drained: Deferred<void> | null = null;
  #drainLevel = 0; // the queue size at which #drained resolves
  #closing = false;
  #closed = false;
  // The idle timeout (setTimeout): one reactor timer for the stream's life,
  // restarted by each activity (refresh(), O(1)), armed again by activity
  // after it fired.
  #timeoutMs = 0;
  #onTimeout: (() => void) | null = null;
  #timer: TimerHandle | null = null;

  /**
   * @param reactor - The loop that watches the fd.
   * @param fd - A non-blocking fd; the stream owns it unless `options.closeFd` is false.
   * @param options - Buffer sizes, fd ownership, and whether a 0-byte read ends the stream.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `highWaterMark` or `readSize` is not an integer >= 1.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `eofIsFinal` is given but not a boolean.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  constructor(reactor: ReactorCore, fd: number, options: StreamOptions = {}) {
    this.#readable = readable(reactor, fd); // checks fd
    if (reactor.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
    this.#waiters = fdWaiters(reactor);
    this.#loop = reactor;
    this.fd = fd;
    const settings = streamSettings(options);
    this.highWaterMark = settings.highWaterMark;
    this.#readSize = settings.readSize;
    this.#closeFd = settings.closeFd;
    this.#eofIsFinal = settings.eofIsFinal;
    this.#buf = EMPTY; // allocated by the first read
  }

  /** Whether it is closed (its fd released): after close() once the queue is written, or after its idle timeout. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued for writing, not yet accepted by the kernel. */
  get writeQueueSize(): number {
    return this.#queued;
  }

  /**
   * Up to `n` bytes: what is buffered, or else what one read returns;
   * empty at end of stream. Like every read's result, a view of the
   * stream's read buffer (no copy), which the stream never writes over.
   * @param n - At most this many bytes (default `readSize`, 64 KiB).
   * @throws `ERR_OUT_OF_RANGE` (RangeError), at the call, when `n` is not an integer >= 1.
   * The operation fails with `ERR_STREAM_CLOSED` (closed before or while it waits),
   * `ERR_STREAM_TIMEOUT` (closed by its idle timeout), `ERR_ALREADY_WAITING` (another read waits),
   * or a {@link SystemError} (`ECONNRESET`, ...).
   */
  read(n: number = this.#readSize): Op<Uint8Array> {
    checkCount(n, 'n', 1);
    return new ReadOp(this, n) as unknown as Op<Uint8Array>;
  }

  /**
   * Exactly `n` bytes; an IncompleteReadError (with the partial bytes) if
   * the stream ends first.
   * @throws `ERR_OUT_OF_RANGE` (RangeError), at the call, when `n` is not an integer >= 0.
   * The operation fails with {@link IncompleteReadError} (`ERR_STREAM_EOF`), or as {@link read}'s does.
   */
  readExactly(n: number): Op<Uint8Array> {
    checkCount(n, 'n', 0);
    return new Op(() => this.#readExactly(n));
  }

  /** The bytes up to and including `delimiter`. A LimitExceededError when
   * `maxBytes` arrive without one (never buffering more), an
   * IncompleteReadError when the stream ends first.
   * @param delimiter - Bytes, or a string (UTF-8).
   * @param maxBytes - The most bytes it buffers looking for the delimiter (default 64 KiB).
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError), at the call, when `delimiter` is neither a Uint8Array nor a string.
   * @throws `ERR_OUT_OF_RANGE` (RangeError), at the call, when `delimiter` is empty or `maxBytes` is not an
   * integer >= its length.
   * The operation fails with {@link LimitExceededError} (`ERR_STREAM_LIMIT`),
   * {@link IncompleteReadError} (`ERR_STREAM_EOF`), or as {@link read}'s does.
   */
  readUntil(delimiter: Uint8Array | string, maxBytes = 64 * 1024): Op<Uint8Array> {
    const delim = toBytes(delimiter, 'delimiter');
    if (delim.length === 0) throw codedRangeError('ERR_OUT_OF_RANGE', 'delimiter must not be empty');
    checkCount(maxBytes, 'maxBytes', delim.length);
    return new Op(() => this.#readUntil(delim, maxBytes));
  }

  /** Writes what the kernel takes now and queues the rest, which goes out
   * in the background: this part happens at the call, whether or not the
   * result is used. The result waits (yield* or await) while more than
   * highWaterMark bytes are queued, until half of that is left.
   * @param data - Bytes (copied if queued), or a string (UTF-8).
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `data` is neither a Uint8Array nor a string.
   * @throws `ERR_STREAM_CLOSED` (Error) when the stream is closed or closing.
   * @throws The error an earlier write met in the background, or a {@link SystemError} (`EPIPE`, ...).
   */
  write(data: Uint8Array | string): Op<void> {
    this.#writeNow(toBytes(data, 'data'));
    return this.#queued > this.highWaterMark ? new Op(() => this.#drain(this.highWaterMark >> 1)) : DONE;
  }

  /** Waits until every queued byte is written; fails with the error writing
   * met ({@link SystemError}, `ERR_STREAM_TIMEOUT`). */
  drain(): Op<void> {
    return new Op(() => this.#drain(0));
  }

  /** Closes the stream: at once when nothing is queued, else once the queue
   * has been written (or writing failed). Readers waiting get ERR_STREAM_CLOSED. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#queued === 0 || this.#writeError !== undefined) this.#release();
  }

  /** After `ms` milliseconds in which no byte was read or written (0: never,
   * the default), calls `onTimeout` once (again only after more activity),
   * or without one closes the stream at once: queued writes are dropped, and
   * waiting reads, writes and drains fail with ERR_STREAM_TIMEOUT. */
  setTimeout(ms: number, onTimeout?: () => void): this {
    if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `timeout must be a number, got ${describe(ms)}`);
    if (!(ms >= 0) || ms === Infinity) throw codedRangeError('ERR_OUT_OF_RANGE', `timeout must be a finite number >= 0, got ${ms}`);
    if (onTimeout !== undefined) checkCallback(onTimeout, 'onTimeout');
    this.#timeoutMs = ms;
    this.#onTimeout = onTimeout ?? null;
    this.#timer?.cancel();
    this.#timer = null;
    if (ms > 0 && !this.#closed && !this.#loop.closed) {
      this.#timer = this.#loop.callLater(ms, () => {
        if (this.#closed || this.#timeoutMs === 0) return;
        if (this.#onTimeout !== null) this.#onTimeout();
        else this.#abort(codedError('ERR_STREAM_TIMEOUT', `no byte read or written for ${this.#timeoutMs} ms`));
      });
    }
    return this;
  }

  // Activity: the idle timer starts over (and is armed again if it fired).
  #touch(): void {
    if (!this.#closed) this.#timer?.refresh();
  }

  // Closes at once: what is queued is dropped, every waiter gets `err`.
  #abort(err: Error): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#writeError ??= err;
    this.#queue = [];
    this.#queued = 0;
    this.#headOffset = 0;
    this.#release(() => err);
  }

  // ---- reading

  // One attempt to read up to `max` more bytes into the buffer: the bytes
  // read, 0 at the end of the stream, or what to wait for first: WAIT (the
  // fd's readability) or PAUSE (this.#pause's timer, then readability: a
  // FIFO without a writer). A plain function returning a number, so that
  // the reads' generators wait from their own frame, one level below the
  // caller's coroutine.
  #fillNow(max: number): number {
    if (this.#closing) throw codedError('ERR_STREAM_CLOSED', 'the stream is closed');
    // The bytes before #end may have been handed out (see #take), so they
    // are never written over: with too little room after #end, a new
    // buffer gets the unread bytes. It holds what the read asks for (a
    // server reading requests of 8 KiB at most keeps 8 KiB per connection,
    // not readSize), twice what is buffered for a long line, and
    // 2 * MIN_ROOM at least, so that small reads still share a buffer.
    // Otherwise a read takes what room there is.
    const room = this.#buf.length - this.#end;
    if (room < max && room < MIN_ROOM) {
      const size = this.#end - this.#start;
      const fresh = new Uint8Array(Math.max(size + max, 2 * size, 2 * MIN_ROOM));
      fresh.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = fresh;
      this.#start = 0;
      this.#end = size;
    }
    const n = this.#readSome(Math.min(max, this.#buf.length - this.#end));
    if (n > 0) {
      this.#end += n;
      this.#emptyReads = 0;
      if (this.#timeoutMs > 0) this.#touch();
      return n;
    }
    if (n === 0 && (this.#eofIsFinal || this.#eof)) {
      this.#eof = true;
      return 0;
    }
    this.#streak = 0; // it waits: the loop gets its turn
    if (n < 0) this.#emptyReads = 0; // a writer is there (a FIFO), just no bytes yet
    else if (++this.#emptyReads > 1) {
      // Readable, yet 0 bytes again: a FIFO without a writer, which
      // reports readable until one comes. A pause instead of a spin.
      this.#pauseFor(Math.min(2 ** (this.#emptyReads - 2), EOF_RETRY_MAX_MS));
      return PAUSE;
    }
    return WAIT;
  }

  // Reads up to `max` more bytes into the buffer, waiting as needed: the
  // bytes read, or 0 at the end of the stream.
  *#fill(max: number): Coroutine<number> {
    for (;;) {
      const r = this.#fillNow(max);
      if (r >= 0) return r;
      if (r === PAUSE) {
        yield this.#pause!.wake;
        if (this.#closing) throw codedError('ERR_STREAM_CLOSED', 'the stream is closed');
      }
      yield this.#readable;
    }
  }

  // After YIELD_EVERY reads in a row that did not wait (the bytes were
  // there), the next one first lets the loop run a pass (this, yielded): a
  // reader whose peer always has more cannot keep the other fds, timers and
  // callbacks from running. A Deferred that a callSoon resolves, so the
  // same under run() and attach(), for a coroutine and for an await.
  #loopTurn(): Deferred<void> {
    this.#streak = 1;
    const next = new Deferred<void>();
    if (this.#loop.closed) next.resolve();
    else this.#loop.callSoon(() => next.resolve());
    return next;
  }

  // One read into the buffer: bytes read, 0 at end of stream, -1 if it
  // would block. EIO from a terminal (Linux's pty controller once the
  // terminal side is closed; a serial line that hung up) is its end: 0,
  // and final whatever eofIsFinal says.
  #readSome(max: number): number {
    try {
      return sys.read(this.fd, this.#buf, this.#end, max);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EIO' || !sys.isatty(this.fd)) throw err;
      this.#eof = true;
      return 0;
    }
  }

  #pauseFor(ms: number): void {
    this.#pause?.timer.cancel();
    const wake = new Deferred<void>();
    const timer = this.#loop.callLater(ms, () => {
      if (this.#pause?.wake === wake) this.#pause = null;
      wake.resolve();
    });
    this.#pause = { timer, wake };
  }

  // The next n buffered bytes, as a view of the buffer: no copy, and valid
  // for good, since the stream never writes over bytes it handed out.
  #take(n: number): Uint8Array {
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  static {
    readNext = (stream, op) => stream.#readNext(op);
  }

  // One step of read(n) (ReadOp): its result, or what it waits for.
  #readNext(op: ReadOp): IteratorResult<unknown, Uint8Array> {
    switch (op.state) {
      case ReadState.Start:
        if (++this.#streak > YIELD_EVERY) {
          op.state = ReadState.Turn;
          return { done: false, value: this.#loopTurn() };
        }
        break;
      case ReadState.Pause:
        if (this.#closing) throw codedError('ERR_STREAM_CLOSED', 'the stream is closed');
        op.state = ReadState.Wait;
        return { done: false, value: this.#readable };
      default:
        break;
    }
    if (this.#end === this.#start) {
      if (this.#eof) return { done: true, value: EMPTY };
      const r = this.#fillNow(Math.min(op.n, this.#readSize));
      if (r === 0) return { done: true, value: EMPTY };
      if (r < 0) {
        if (r === PAUSE) {
          op.state = ReadState.Pause;
          return { done: false, value: this.#pause!.wake };
        }
        op.state = ReadState.Wait;
        return { done: false, value: this.#readable };
      }
    }
    return { done: true, value: this.#take(Math.min(op.n, this.#end - this.#start)) };
  }

  *#readExactly(n: number): Coroutine<Uint8Array> {
    if (++this.#streak > YIELD_EVERY) yield this.#loopTurn();
    while (this.#end - this.#start < n) {
      if (this.#eof || (yield* this.#fill(Math.max(n - (this.#end - this.#start), Math.min(this.#readSize, n)))) === 0) {
        throw new IncompleteReadError(this.#take(this.#end - this.#start), n);
      }
    }
    return this.#take(n);
  }

  *#readUntil(delim: Uint8Array, maxBytes: number): Coroutine<Uint8Array> {
    if (++this.#streak > YIELD_EVERY) yield this.#loopTurn();
    // Searched up to here (relative to #start, which a refill may move), so
    // a long line is never rescanned from its beginning.
    let from = 0;
    for (;;) {
      const at = indexOf(this.#buf, delim, this.#start + from, this.#end);
      if (at >= 0) return this.#take(at + delim.length - this.#start);
      const buffered = this.#end - this.#start;
      if (buffered >= maxBytes) throw new LimitExceededError(maxBytes);
      if (this.#eof) throw new IncompleteReadError(this.#take(buffered), -1);
      // A delimiter may straddle two chunks: the next search starts just
      // before the end of what was searched.
      from = Math.max(0, buffered - (delim.length - 1));
      yield* this.#fill(Math.min(this.#readSize, maxBytes - buffered));
    }
  }

  // ---- writing

  #writeNow(bytes: Uint8Array): void {
    if (this.#closing) throw codedError('ERR_STREAM_CLOSED', 'the stream is closed');
    if (this.#writeError !== undefined) throw this.#writeError;
    if (bytes.length === 0) return;
    let offset = 0;
    if (this.#queued === 0) {
      // Nothing queued: write at once, queue only what the kernel refused.
      const n = sys.write(this.fd, bytes);
      if (n > 0 && this.#timeoutMs > 0) this.#touch();
      if (n === bytes.length) return;
      offset = n > 0 ? n : 0;
    }
    // Queue a copy: the caller may reuse its buffer once write() returns.
    this.#queue.push(bytes.slice(offset));
    this.#queued += bytes.length - offset;
    this.#startFlushing();
  }

  *#drain(lowWater: number): Coroutine<void> {
    while (this.#queued > lowWater) {
      if (this.#writeError !== undefined) throw this.#writeError;
      this.#drained ??= new Deferred<void>();
      this.#drainLevel = lowWater;
      yield this.#drained;
    }
    if (this.#writeError !== undefined) throw this.#writeError;
  }

  #startFlushing(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    this.#waiters.wait(this.fd, EVENT_WRITE, this);
  }

  // FdWaiter: the fd is writable; write what the kernel takes.
  /** Part of `FdWaiter`: the fd is writable; writes what the kernel takes of the queue. Called by the reactor, not by user code. */
  resume(): void {
    this.#flushing = false;
    try {
      while (this.#queued > 0) {
        const head = this.#queue[0]!;
        const n = sys.write(this.fd, head, this.#headOffset);
        if (n < 0) break;
        if (this.#timeoutMs > 0) this.#touch();
        this.#headOffset += n;
        this.#queued -= n;
        if (this.#headOffset === head.length) {
          this.#queue.shift();
          this.#headOffset = 0;
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.#queued > 0) this.#startFlushing();
    if (this.#queued <= this.#drainLevel) this.#wakeDrainers();
    if (this.#queued === 0 && this.#closing) this.#release();
  }

  // FdWaiter: writing failed (EPIPE, ECONNRESET) or the fd was dropped.
  /** Part of `FdWaiter`: writing failed or the fd was dropped; drops the queue, and later writes throw `err`. Called by the reactor, not by user code. */
  fail(err: unknown): void {
    this.#flushing = false;
    this.#writeError ??= err;
    this.#queue = [];
    this.#queued = 0;
    this.#headOffset = 0;
    this.#wakeDrainers();
    if (this.#closing) this.#release();
  }

  #wakeDrainers(): void {
    const d = this.#drained;
    if (d === null) return;
    this.#drained = null;
    d.resolve();
  }

  #release(makeError: () => unknown = streamClosed): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    const pause = this.#pause;
    this.#pause = null;
    if (pause !== null) {
      pause.timer.cancel();
      pause.wake.reject(makeError());
    }
    this.#buf = EMPTY;
    this.#start = this.#end = 0;
    this.#waiters.forget(this.fd, makeError);
    this.#wakeDrainers();
    if (this.#closeFd) sys.close(this.fd);
  }
}
