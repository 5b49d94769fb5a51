// The reactor's timers: a binary min-heap ordered by (deadline, sequence
// number), so timers due at the same instant fire in the order they were
// scheduled. Each timer remembers its heap slot, which makes cancel() an
// O(log n) removal instead of leaving dead entries to pile up in the heap.

/** What callSoon and callLater return. */
export interface Handle {
  /** Stops the callback from running; harmless once it ran or was cancelled. */
  cancel(): void;
  /** Whether cancel() was called (or the reactor closed before it ran). */
  readonly cancelled: boolean;
}

/** @internal */
export class Timer implements Handle {
  /** The slot in the heap; -1 once it left the heap (fired or cancelled). */
  index = -1;
  cancelled = false;

  constructor(
    readonly when: number,
    readonly seq: number,
    readonly callback: () => void,
    private readonly heap: TimerHeap,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.index >= 0) this.heap.remove(this);
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.when < b.when || (a.when === b.when && a.seq < b.seq);
}

/** @internal */
export class TimerHeap {
  readonly #items: Timer[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  /** The earliest timer, or undefined when there is none. */
  peek(): Timer | undefined {
    return this.#items[0];
  }

  /** Schedules `callback` at the monotonic time `when` (ms). */
  push(when: number, callback: () => void): Timer {
    const timer = new Timer(when, this.#seq++, callback, this);
    const items = this.#items;
    timer.index = items.length;
    items.push(timer);
    this.#up(timer.index);
    return timer;
  }

  /** Removes and returns the earliest timer. */
  pop(): Timer | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  remove(timer: Timer): void {
    if (this.#items[timer.index] === timer) this.#removeAt(timer.index);
  }

  clear(): void {
    for (const t of this.#items) {
      t.index = -1;
      t.cancelled = true;
    }
    this.#items.length = 0;
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const removed = items[i]!;
    removed.index = -1;
    const last = items.pop()!;
    if (i === items.length) return;
    items[i] = last;
    last.index = i;
    // The moved timer may belong above or below its new slot.
    if (i > 0 && before(last, items[(i - 1) >> 1]!)) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const items = this.#items;
    const t = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!before(t, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = p;
    }
    items[i] = t;
    t.index = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const t = items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const right = c + 1;
      if (right < n && before(items[right]!, items[c]!)) c = right;
      const child = items[c]!;
      if (!before(child, t)) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = t;
    t.index = i;
  }
}

/** @internal Puts `callback` in the reactor's heap at the monotonic time
 * `when`; null once the reactor is closed. */
export type ScheduleAt = (when: number, callback: () => void) => Handle | null;

/**
 * @internal What callEvery returns: `fn` every `period` ms on the grid
 * start + k * period, as Tornado's PeriodicCallback. The next call is
 * planned from the last planned time, not from when the call ran, so the
 * period does not drift by the time the calls take; ticks missed while the
 * thread was busy (a call, or anything else, ran past them) are skipped
 * rather than run in a burst: the next call is the first grid point still
 * ahead. What `fn` throws goes where a timer's exception goes (the
 * reactor's reportError), and the period goes on.
 */
export class PeriodicTimer implements Handle {
  #next: number;
  #stopped = false;
  // The pending timer, or the one firing now (not cancelled while it runs).
  #timer: Handle;
  readonly #tick: () => void;

  constructor(
    readonly period: number,
    fn: () => void,
    start: number,
    private readonly schedule: ScheduleAt,
  ) {
    this.#next = start + period;
    const tick = (): void => {
      try {
        fn();
      } finally {
        if (!this.cancelled) this.#rearm();
      }
    };
    // A slow-callback report or a stack trace names fn, not this wrapper.
    Object.defineProperty(tick, 'name', { value: fn.name || 'callEvery callback' });
    this.#tick = tick;
    const timer = schedule(this.#next, tick);
    if (timer === null) throw new Error('unreachable: callEvery on a closed reactor');
    this.#timer = timer;
  }

  /** Whether cancel() was called, or the reactor closed. */
  get cancelled(): boolean {
    return this.#stopped || this.#timer.cancelled;
  }

  /** Stops the calls; harmless when already cancelled, and allowed from inside `fn`. */
  cancel(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  #rearm(): void {
    // The timer fired, so #next <= now (the clock is monotonic): the next
    // grid point ahead, skipping those already passed.
    const now = performance.now();
    this.#next += (Math.floor((now - this.#next) / this.period) + 1) * this.period;
    const timer = this.schedule(this.#next, this.#tick);
    if (timer === null) this.#stopped = true; // fn closed the reactor
    else this.#timer = timer;
  }
}
