// What FdStream's reads and writes return: an operation usable as `yield*
// op` in a coroutine and as `await op` in async code (Op), and how `await`
// runs one (OpRun): the fd's waiters resume it directly from the pass that
// completes it, with no Promise per step. FdStream's read(n) has its own
// Op, by prototype (streams.ts's ReadOp).
//
// A layer on the coroutines, beside streams.ts, which alone builds Ops.
import { codedError } from '../errors.js';
import { type Coroutine, FdWait, type FdWaiter, Future } from './coroutines.js';
import { checkAwaitable } from './fd-waits.js';

/** An operation usable as `yield* op` in a coroutine or `await op` in async
 * code (with the reactor attached): what FdStream's reads and writes
 * return. Each use runs the operation anew. */
export class Op<T> implements PromiseLike<T> {
  /**
   * Made by FdStream.
   * @param start - Starts the operation: a new generator each call.
   */
  constructor(private readonly start: () => Coroutine<T>) {}

  /** Runs the operation as a coroutine: `yield* op` gives its result. */
  [Symbol.iterator](): Coroutine<T> {
    return this.start();
  }

  /**
   * Runs the operation from async code: `await op` gives its result. An
   * operation that completes at once (the bytes were there) settles the
   * returned Promise as `Promise.resolve(value).then(...)` would. One that
   * has to wait calls `onfulfilled` or `onrejected` from the pass of the
   * loop that completes it, without further microtask hops, so an `await`
   * resumes in the microtasks right after that pass.
   */
  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return new OpRun<T>(this[Symbol.iterator]()).then(onfulfilled, onrejected);
  }
}

// Runs one stream operation (a generator that yields the stream's FdWait or
// a Future) for Op.then, without a Promise per step: the fd's waiters resume
// it directly (FdWaiter), and its read interest lingers until the next pass
// so that the next read of an await loop costs no epoll_ctl.
class OpRun<T> implements FdWaiter {
  #done = false;
  #failed = false;
  #value: unknown = undefined;
  #onFulfilled: ((value: T) => unknown) | null | undefined = null;
  #onRejected: ((reason: unknown) => unknown) | null | undefined = null;
  #resolve: ((value: unknown) => void) | null = null;
  #reject: ((reason: unknown) => void) | null = null;
  #onFutureDone: ((f: Future<unknown>) => void) | null = null;

  constructor(private readonly gen: Coroutine<T>) {}

  then<A, B>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.#step(undefined, false);
    if (this.#done) {
      const settled = this.#failed ? Promise.reject(this.#value) : Promise.resolve(this.#value as T);
      return settled.then(onfulfilled, onrejected);
    }
    this.#onFulfilled = onfulfilled;
    this.#onRejected = onrejected;
    return new Promise<A | B>((resolve, reject) => {
      this.#resolve = resolve as (value: unknown) => void;
      this.#reject = reject;
    });
  }

  /** Part of `FdWaiter`: the stream's fd is ready. */
  resume(events: number): void {
    this.#continue(events, false);
  }

  /** Part of `FdWaiter`: the wait failed (the stream closed). */
  fail(err: unknown): void {
    this.#continue(err, true);
  }

  #continue(input: unknown, isError: boolean): void {
    this.#step(input, isError);
    if (!this.#done) return;
    const callback = this.#failed ? this.#onRejected : this.#onFulfilled;
    try {
      if (typeof callback === 'function') this.#resolve!(callback(this.#value as T));
      else if (this.#failed) this.#reject!(this.#value);
      else this.#resolve!(this.#value);
    } catch (err) {
      this.#reject!(err);
    }
  }

  #step(input: unknown, isError: boolean): void {
    for (;;) {
      let r: IteratorResult<unknown, T>;
      try {
        r = isError ? this.gen.throw(input) : this.gen.next(input);
      } catch (err) {
        this.#done = this.#failed = true;
        this.#value = err;
        return;
      }
      if (r.done) {
        this.#done = true;
        this.#value = r.value;
        return;
      }
      const y = r.value;
      try {
        if (y instanceof FdWait) {
          checkAwaitable(y.reactor);
          y.waiters.wait(y.fd, y.events, this, true);
          return;
        }
        if (!(y instanceof Future)) throw codedError('ERR_INVALID_YIELD', `cannot await a ${typeof y}`);
        if (!y.done) {
          this.#onFutureDone ??= (f: Future<unknown>): void => this.#continue(f.fulfilled ? f.result() : f.exception, !f.fulfilled);
          y.addDoneCallback(this.#onFutureDone);
          return;
        }
        isError = !y.fulfilled;
        input = isError ? y.exception : y.result();
      } catch (err) {
        input = err;
        isError = true;
      }
    }
  }
}
