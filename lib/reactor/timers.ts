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
