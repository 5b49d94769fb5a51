// asyncio's task helpers on the reactor: gather() and withTimeout()
// (asyncio.gather and asyncio.wait_for). A layer on coroutines.ts: each is a
// generator coroutine spawned on the loop it is given, so what it returns is
// an ordinary Task, to yield from a coroutine, await, or cancel; and like
// every task it works under run() as under attach().
import { CancelledError, codedError, codedRangeError, codedTypeError, describe } from '../errors.js';
import type { ReactorCore } from './core.js';
import { type Coroutine, Deferred, Future, spawn, Task } from './coroutines.js';

/** What {@link gather} and {@link withTimeout} wait for: a task or any other
 * future (a {@link Deferred}), or a generator, which they spawn on the loop
 * (as asyncio wraps a coroutine in a task). */
export type Awaitable<T = unknown> = Future<T> | Coroutine<T>;

/** The result type of an {@link Awaitable}. */
export type AwaitedResult<A> = A extends Future<infer T> ? T : A extends Coroutine<infer T> ? T : never;

/** The results of {@link gather}: a tuple when the tasks are one, each element its task's result type. */
export type GatherResults<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedResult<A[K]> };

/**
 * Waits for every task, future or generator of `tasks` and gives their
 * results in the order given, as asyncio.gather does:
 *
 * - the first one to fail (or to be cancelled) fails the gather with its
 *   error at once; the others are not cancelled and keep running, and what
 *   they end with later is dropped (a failure too: the gather has reported
 *   the first);
 * - cancelling the gather's task cancels every task of `tasks` not done yet
 *   (a Deferred, which has no cancel(), is left alone), and the gather ends
 *   cancelled once those tasks have ended;
 * - an empty list gives `[]` at once.
 *
 * Generators are spawned on `loop` first, in order. A task of `tasks` that
 * fails is observed by the gather, so its failure is not reported to the
 * reactor's error listeners on its own; the gather's is, when nobody waits
 * for the gather.
 *
 * @param loop - The reactor the gather (and the generators) run on.
 * @param tasks - Tasks, futures and generators; the result tuple follows their types.
 * @returns A task whose result is the array of results.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `loop` is not a reactor, `tasks` not an array,
 * or an element neither a future nor a generator.
 * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when a task of `tasks` belongs to another reactor.
 * @throws `ERR_REACTOR_CLOSED` (Error) when the loop is closed.
 *
 * @example
 * ```ts
 * function* lookUp(ms: number, name: string): Coroutine<string> {
 *   yield reactor.sleep(ms);
 *   return name;
 * }
 * const both = gather(reactor, [lookUp(20, 'ada'), reactor.spawn(lookUp(10, 'grace'))]);
 * both.addDoneCallback((t) => console.log(t.result())); // [ 'ada', 'grace' ]: a Task<[string, string]>
 * reactor.run();
 * ```
 */
export function gather<const A extends readonly Awaitable[]>(loop: ReactorCore, tasks: A): Task<GatherResults<A>> {
  checkLoop(loop);
  if (!Array.isArray(tasks)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `gather() needs an array of tasks, futures or generators, got ${describe(tasks)}`);
  tasks.forEach((t, i) => checkAwaitable(loop, t, `tasks[${i}]`));
  const children = tasks.map((t: Awaitable) => (t instanceof Future ? t : spawn(loop, t)));
  return spawn(loop, gatherAll(children)) as Task<unknown> as Task<GatherResults<A>>;
}

function* gatherAll(children: Array<Future<unknown>>): Coroutine<unknown[]> {
  const results: unknown[] = new Array(children.length);
  if (children.length === 0) return results;
  const all = new Deferred<unknown[]>();
  let pending = children.length;
  children.forEach((child, i) => {
    child.addDoneCallback((f) => {
      // Once the gather has its outcome, the others' results are dropped,
      // failures included (asyncio marks them retrieved).
      if (all.done) return;
      if (!f.fulfilled) all.reject(f.exception);
      else {
        results[i] = f.result();
        if (--pending === 0) all.resolve(results);
      }
    });
  });
  try {
    return (yield all) as unknown[];
  } catch (err) {
    // `all` settled: a child's failure. Otherwise the gather's own task was cancelled.
    if (all.done) throw err;
    yield* cancelAndWait(children, err);
    throw err;
  }
}

/**
 * Waits for `task` at most `ms` milliseconds, as asyncio.wait_for does:
 * its result (or its error) when it ends in time; otherwise `task` is
 * cancelled (a CancelledError thrown into its coroutine where it waits, so
 * its `finally` blocks run), and once it has ended the returned task fails
 * with `ERR_TIMEOUT`; unless it caught the cancellation and returned a value
 * or failed otherwise, which is then the outcome. A Deferred, which has no
 * cancel(), is left as it is when the time is up. The timer is cancelled as
 * soon as `task` ends, so it never keeps run() going. Cancelling the
 * returned task cancels `task` too.
 *
 * @param loop - The reactor whose timer limits the wait.
 * @param task - A task or future, or a generator, spawned on `loop`.
 * @param ms - The limit in milliseconds, >= 0 (0: only a task already done gives its result); Infinity: no limit.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `loop` is not a reactor, `task` neither a future nor a generator,
 * or `ms` not a number.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `ms` is NaN; (TypeError) when `task` belongs to another reactor.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `ms` is negative.
 * @throws `ERR_REACTOR_CLOSED` (Error) when the loop is closed.
 *
 * @example
 * ```ts
 * const reply = reactor.spawn(function* () {
 *   yield reactor.readable(fd);
 *   return 'a reply';
 * });
 * reactor.spawn(function* () {
 *   try {
 *     console.log(yield withTimeout(reactor, reply, 5000));
 *   } catch (err) {
 *     if ((err as CodedError).code !== 'ERR_TIMEOUT') throw err;
 *     console.log('no reply within 5 s; the waiting task was cancelled');
 *   }
 * });
 * reactor.run();
 * ```
 */
export function withTimeout<T>(loop: ReactorCore, task: Awaitable<T>, ms: number): Task<T> {
  checkLoop(loop);
  checkAwaitable(loop, task, 'task');
  if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `the time limit must be a number, got ${describe(ms)}`);
  if (Number.isNaN(ms)) throw codedRangeError('ERR_INVALID_ARG_VALUE', 'the time limit must not be NaN');
  if (ms < 0) throw codedRangeError('ERR_OUT_OF_RANGE', `the time limit must be >= 0, got ${ms}`);
  const child = task instanceof Future ? task : spawn(loop, task);
  return spawn(loop, waitAtMost(loop, child, ms));
}

function* waitAtMost<T>(loop: ReactorCore, child: Future<T>, ms: number): Coroutine<T> {
  const ended = new Deferred<void>();
  let expired = false;
  child.addDoneCallback(() => ended.resolve());
  const timer =
    child.done || ms === Infinity
      ? null
      : loop.callLater(ms, () => {
          expired = true;
          if (child instanceof Task) child.cancel(`the task did not finish within ${ms} ms`);
          else ended.resolve();
        });
  try {
    yield ended;
  } catch (err) {
    // The withTimeout task itself was cancelled: so is the child.
    timer?.cancel();
    yield* cancelAndWait([child], err);
    throw err;
  }
  timer?.cancel();
  // A task cancelled by the timer; or a future the timer gave up on.
  if (expired && (child.cancelled || !child.done)) throw codedError('ERR_TIMEOUT', `the task did not finish within ${ms} ms`);
  return child.result();
}

// Cancels the tasks of `children` not done (with the message of `reason`,
// the gather's own cancellation) and waits until they have ended, whatever
// with: a cancelled task may catch the error and still wait for something.
// Cancelling the waiting task again cancels them again.
function* cancelAndWait<T>(children: ReadonlyArray<Future<T>>, reason: unknown): Coroutine<void> {
  const message = reason instanceof CancelledError ? reason.message : undefined;
  for (const child of children) if (child instanceof Task && !child.done) child.cancel(message);
  for (const child of children) {
    while (child instanceof Task && !child.done) {
      try {
        yield child;
      } catch (err) {
        // The child's own outcome, or the waiting task cancelled again.
        if (!child.done && err instanceof CancelledError) for (const c of children) if (c instanceof Task && !c.done) c.cancel(err.message);
      }
    }
  }
}

function checkLoop(loop: ReactorCore): void {
  if (loop === null || typeof loop !== 'object' || typeof (loop as Partial<ReactorCore>).callLater !== 'function') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `the loop must be a Reactor, got ${describe(loop)}`);
  }
  if (loop.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
}

function checkAwaitable(loop: ReactorCore, value: unknown, what: string): void {
  if (value instanceof Future) {
    if (value instanceof Task && value.reactor !== loop) throw codedTypeError('ERR_INVALID_ARG_VALUE', `${what} is a task of another reactor`);
    return;
  }
  const gen = value as Partial<Coroutine> | null;
  if (gen !== null && typeof gen === 'object' && typeof gen.next === 'function' && typeof gen.throw === 'function') return;
  throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a task, a future or a generator, got ${describe(value)}`);
}
