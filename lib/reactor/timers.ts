// The reactor's timers, as Node's and libuv's: one list per delay, in
// which timers are appended in deadline order (the clock is monotonic, so a
// timer armed later with the same delay is due later), and a binary min-heap
// of those lists ordered by their first timer's (deadline, sequence number).
// Arming a timer with a delay already in use, cancelling it and restarting
// it (refresh(): unlink, append at its list's tail) are O(1); only a new
// delay, an emptied list and a cancelled list head touch the heap, which
// holds one entry per delay in use (a handful) rather than one per timer.
// A timer whose deadline would not keep its list in order (callEvery's grid
// points) gets a list of its own in the heap, so the order always holds.
// Timers due together fire in (deadline, sequence number) order: the order
// they were scheduled (or refreshed) in, across delays too.
import { clock } from './clock.js';

/** What callSoon and callLater return. */
export interface Handle {
  /** Stops the callback from running; harmless once it ran or was cancelled. */
  cancel(): void;
  /** Whether cancel() was called (or the reactor closed before it ran). */
  readonly cancelled: boolean;
}

/**
 * What callLater returns: a {@link Handle} that can also be restarted, as
 * Node's `timeout.refresh()`: an idle timer restarted on every request or
 * read costs O(1), with no new timer and no heap work.
 */
export interface TimerHandle extends Handle {
  /**
   * Restarts the timer: it fires its delay after now (on the reactor's
   * clock), as if callLater had just been called with the same delay and
   * callback, and among timers due together it counts as scheduled now. A
   * timer that already fired is armed again; one called from its own
   * callback fires again a delay later. Does nothing once the timer was
   * cancelled or the reactor closed. O(1).
   * @returns The same handle.
   */
  refresh(): this;
}

/** @internal What callSoon returns. */
export class SoonHandle implements Handle {
  cancelled = false;
  /** Never queued again once due, unlike a Timer (see ReactorCore's #callEach). */
  readonly list = null;
  constructor(readonly callback: () => void) {}
  cancel(): void {
    this.cancelled = true;
  }
}

/** @internal A list of timers in (deadline, sequence number) order: the
 * timers of one delay, or one timer that fits no such list. */
class TimerList {
  head: Timer | null = null;
  tail: Timer | null = null;
  /** The slot in the queue's heap. */
  index = -1;

  constructor(
    /** The delay of its timers, the key in the queue's map; NaN for a list of its own. */
    readonly delay: number,
  ) {}
}

/** @internal */
export class Timer implements TimerHandle {
  cancelled = false;
  /** The list holding it while it waits; null once due, fired or cancelled. */
  list: TimerList | null = null;
  prev: Timer | null = null;
  next: Timer | null = null;

  constructor(
    public when: number,
    public seq: number,
    /** Its delay (>= 0): refresh() arms it this long after now. */
    readonly delay: number,
    readonly callback: () => void,
    private readonly queue: TimerQueue,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.list !== null) this.queue.unlink(this);
  }

  refresh(): this {
    if (this.cancelled || this.queue.closed) return this;
    if (this.list !== null) this.queue.unlink(this);
    this.queue.insert(this, this.queue.now() + this.delay);
    return this;
  }
}

function before(a: TimerList, b: TimerList): boolean {
  const x = a.head!;
  const y = b.head!;
  return x.when < y.when || (x.when === y.when && x.seq < y.seq);
}

/** @internal The reactor's pending timers: see the file comment. */
export class TimerQueue {
  /** The lists, ordered by their first timer. */
  readonly #heap: TimerList[] = [];
  /** The list of each delay in use. */
  readonly #byDelay = new Map<number, TimerList>();
  #seq = 0;
  #size = 0;

  /**
   * @param wake - Called when an insertion makes a timer the earliest.
   * @param now - The clock refresh() reads (the reactor's: performance.now()).
   */
  constructor(
    private readonly wake: () => void = () => {},
    readonly now: () => number = clock,
  ) {}

  /** Timers waiting. */
  get size(): number {
    return this.#size;
  }

  /** The earliest timer, or undefined when there is none. */
  peek(): Timer | undefined {
    return this.#heap[0]?.head ?? undefined;
  }

  /** Schedules `callback` at the monotonic time `when` (ms); `delay` is
   * what refresh() re-arms it with, and picks its list. */
  push(when: number, delay: number, callback: () => void): Timer {
    const timer = new Timer(when, 0, delay, callback, this);
    this.insert(timer, when);
    return timer;
  }

  /** Removes and returns the earliest timer. */
  pop(): Timer | undefined {
    const top = this.#heap[0]?.head ?? undefined;
    if (top !== undefined) this.unlink(top);
    return top;
  }

  /** Puts `timer` (in no list) in the queue, due at `when`, as the last scheduled. */
  insert(timer: Timer, when: number): void {
    timer.when = when;
    timer.seq = this.#seq++;
    this.#size++;
    const delay = timer.delay;
    let list = this.#byDelay.get(delay);
    if (list !== undefined && list.tail!.when <= when) {
      // The common case: after the last timer of its delay, O(1).
      const tail = list.tail!;
      tail.next = timer;
      timer.prev = tail;
      timer.next = null;
      list.tail = timer;
      timer.list = list;
      return;
    }
    // A new delay, or a deadline that would break its list's order: a new
    // list (that delay's, or one of its own), which the heap takes.
    list = new TimerList(list === undefined ? delay : NaN);
    if (list.delay === delay) this.#byDelay.set(delay, list);
    list.head = list.tail = timer;
    timer.prev = timer.next = null;
    timer.list = list;
    const heap = this.#heap;
    list.index = heap.length;
    heap.push(list);
    this.#up(list.index);
    if (heap[0] === list) this.wake();
  }

  /** Takes `timer` out of its list (it must be in one). */
  unlink(timer: Timer): void {
    const list = timer.list!;
    const { prev, next } = timer;
    timer.list = timer.prev = timer.next = null;
    this.#size--;
    if (next !== null) next.prev = prev;
    else list.tail = prev;
    if (prev !== null) {
      prev.next = next;
      return;
    }
    list.head = next;
    if (next !== null) {
      // The list's first deadline moved later: it may belong lower.
      this.#down(list.index);
      return;
    }
    // Emptied: out of the heap, and out of the map if it is its delay's.
    if (this.#byDelay.get(list.delay) === list) this.#byDelay.delete(list.delay);
    this.#removeAt(list.index);
  }

  /** Whether close() was called: refresh() then arms nothing. */
  closed = false;

  /** Cancels every timer waiting, for good (the reactor closed). */
  close(): void {
    this.closed = true;
    for (const list of this.#heap) {
      for (let t = list.head; t !== null; ) {
        const next = t.next;
        t.cancelled = true;
        t.list = t.prev = t.next = null;
        t = next;
      }
      list.index = -1;
    }
    this.#heap.length = 0;
    this.#byDelay.clear();
    this.#size = 0;
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    heap[i]!.index = -1;
    const last = heap.pop()!;
    if (i === heap.length) return;
    heap[i] = last;
    last.index = i;
    // The moved list may belong above or below its new slot.
    if (i > 0 && before(last, heap[(i - 1) >> 1]!)) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const l = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!before(l, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = l;
    l.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const l = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const right = c + 1;
      if (right < n && before(heap[right]!, heap[c]!)) c = right;
      const child = heap[c]!;
      if (!before(child, l)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = l;
    l.index = i;
  }
}

/** @internal Puts `callback` in the reactor's timers at the monotonic time
 * `when`, in the list of `delay` when it fits there; null once the reactor is closed. */
export type ScheduleAt = (when: number, callback: () => void, delay: number) => Handle | null;

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
    const timer = schedule(this.#next, tick, period);
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
    const now = clock();
    this.#next += (Math.floor((now - this.#next) / this.period) + 1) * this.period;
    const timer = this.schedule(this.#next, this.#tick, this.period);
    if (timer === null) this.#stopped = true; // fn closed the reactor
    else this.#timer = timer;
  }
}
