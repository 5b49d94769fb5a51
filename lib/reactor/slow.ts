// Slow-callback detection, asyncio's debug mode: `new Reactor({ slowCallbackMs })`
// times every handler, callback, timer and task step, and each that takes
// slowCallbackMs or longer is reported as a 'slow' event. Off by default: the
// core then makes no SlowWatch, reads no clock per callback, and its dispatch
// loops test one local for null.
//
// Units nest: a handler resumes a task, whose step settles a future that wakes
// another task. Each stretch of time is reported once, by the innermost unit
// that reached the threshold; an outer unit is judged on its own time, that is
// its whole time less what its nested units already reported.
import { clock } from './clock.js';

/** What a `'slow'` event of a {@link Reactor} made with `slowCallbackMs` carries. */
export interface SlowCallback {
  /** What ran long: the function's name, or a description
   * (`'handler for fd 7'`, `'onData (handler for fd 7)'`, `'task step of echo'`). */
  readonly name: string;
  /** How long it ran, in milliseconds (at least `slowCallbackMs`), less the
   * time its nested units (a task step a handler resumed) already reported. */
  readonly durationMs: number;
}

/** @internal What a SlowWatch reports to: the reactor (core.ts), seen
 * through the calls it uses, so that this file imports nothing of the core. */
export interface SlowReporter {
  listenerCount(event: 'slow'): number;
  emit(event: 'slow', slow: SlowCallback): boolean;
  reportError(err: unknown): void;
}

/** @internal Times the reactor's units and reports those that run long. */
export class SlowWatch {
  // The time reported by units nested in the one running now; the tallies
  // of the units around it wait on the stack.
  #inner = 0;
  readonly #outer: number[] = [];

  /**
   * @param thresholdMs - A unit that takes this long or longer is reported.
   * @param loop - Where slow units go ('slow' listeners, else stderr) and what a unit throws.
   */
  constructor(
    readonly thresholdMs: number,
    private readonly loop: SlowReporter,
  ) {}

  /** Starts timing a unit; returns its start, for {@link end}. Units nest:
   * every start() is matched by one end(), in a finally. */
  start(): number {
    this.#outer.push(this.#inner);
    this.#inner = 0;
    return clock();
  }

  /** Ends the unit started at `start`; reports it, named by `name()`, when
   * its own time reached the threshold. */
  end(start: number, name: () => string): void {
    const total = clock() - start;
    const own = total - this.#inner;
    const outer = this.#outer.pop() ?? 0;
    if (own < this.thresholdMs) {
      this.#inner = outer + this.#inner;
      return;
    }
    this.#inner = outer + total;
    this.#report({ name: name(), durationMs: own });
  }

  /** Calls an fd handler, timed; what it throws goes to the loop's reportError. */
  handler(handler: (fd: number, events: number) => void, fd: number, events: number): void {
    const start = this.start();
    try {
      handler(fd, events);
    } catch (err) {
      this.loop.reportError(err);
    } finally {
      this.end(start, () => (handler.name ? `${handler.name} (handler for fd ${fd})` : `handler for fd ${fd}`));
    }
  }

  /** Calls a callSoon or timer callback (`kind` names it when anonymous), timed. */
  callback(callback: () => void, kind: string): void {
    const start = this.start();
    try {
      callback();
    } catch (err) {
      this.loop.reportError(err);
    } finally {
      this.end(start, () => callback.name || `${kind} callback`);
    }
  }

  // To the 'slow' listeners, or on stderr when there is none (as asyncio's
  // debug mode logs a warning); a listener's exception is the loop's error.
  #report(slow: SlowCallback): void {
    if (this.loop.listenerCount('slow') === 0) {
      console.warn(`node-selectors: ${slow.name} took ${slow.durationMs.toFixed(1)} ms (slowCallbackMs: ${this.thresholdMs})`);
      return;
    }
    try {
      this.loop.emit('slow', slow);
    } catch (err) {
      this.loop.reportError(err);
    }
  }
}
