// The reactor's timer queue (one list per delay, a heap of lists) against a
// reference model that keeps every timer in one array and sorts it: random
// sequences of arm, arm at a deadline out of its list's order (callEvery's
// grid points), cancel, refresh and clock advances must fire the same timers
// in the same order, with the same size and earliest timer after each step.
// The clock is the test's own, so no real time is involved.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Timer, TimerQueue } from '../lib/reactor/timers.js';

type Op =
  | { kind: 'arm'; delay: number }
  | { kind: 'armAt'; delay: number; early: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'refresh'; pick: number }
  | { kind: 'advance'; by: number };

// Few delays, so lists are shared; 0 and a fraction included.
const DELAYS = [0, 1, 2.5, 5, 10];

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('arm' as const), delay: fc.constantFrom(...DELAYS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('armAt' as const), delay: fc.constantFrom(...DELAYS), early: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refresh' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), by: fc.constantFrom(0, 0.5, 1, 2.5, 3, 7) }) },
);

interface Model {
  id: number;
  when: number;
  seq: number;
  delay: number;
  pending: boolean;
  cancelled: boolean;
}

describe('TimerQueue', () => {
  it('fires the same timers in the same order as a sorted array, through random arm, cancel, refresh and advance', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        let clock = 0;
        let wakes = 0;
        const queue = new TimerQueue(
          () => wakes++,
          () => clock,
        );
        const fired: number[] = [];
        const handles: Timer[] = [];
        const model: Model[] = [];
        let seq = 0;
        const pendingSorted = (): Model[] =>
          model.filter((m) => m.pending).sort((a, b) => a.when - b.when || a.seq - b.seq);
        const arm = (when: number, delay: number): void => {
          const id = handles.length;
          handles.push(queue.push(when, delay, () => fired.push(id)));
          model.push({ id, when, seq: seq++, delay, pending: true, cancelled: false });
        };
        for (const o of ops) {
          if (o.kind === 'arm') arm(clock + o.delay, o.delay);
          else if (o.kind === 'armAt') arm(Math.max(clock, clock + o.delay - o.early), o.delay);
          else if (o.kind === 'cancel' || o.kind === 'refresh') {
            if (handles.length === 0) continue;
            const i = o.pick % handles.length;
            const m = model[i]!;
            if (o.kind === 'cancel') {
              handles[i]!.cancel();
              if (!m.cancelled) {
                m.cancelled = true;
                m.pending = false;
              }
            } else {
              expect(handles[i]!.refresh()).toBe(handles[i]);
              if (!m.cancelled) {
                m.pending = true;
                m.when = clock + m.delay;
                m.seq = seq++;
              }
            }
          } else {
            clock += o.by;
            // What the reactor's timer pass does: pop what is due, then fire.
            const due: Timer[] = [];
            for (let t = queue.peek(); t !== undefined && t.when <= clock; t = queue.peek()) due.push(queue.pop()!);
            for (const t of due) t.callback();
            const expected = pendingSorted().filter((m) => m.when <= clock);
            for (const m of expected) m.pending = false;
            expect(fired.splice(0)).toEqual(expected.map((m) => m.id));
          }
          const sorted = pendingSorted();
          expect(queue.size).toBe(sorted.length);
          const first = queue.peek();
          expect(first === undefined ? undefined : handles.indexOf(first)).toBe(sorted[0]?.id);
          for (let i = 0; i < handles.length; i++) expect(handles[i]!.cancelled).toBe(model[i]!.cancelled);
        }
        // Drain: everything left fires in (deadline, scheduling order).
        const rest: number[] = [];
        for (let t = queue.pop(); t !== undefined; t = queue.pop()) rest.push(handles.indexOf(t));
        expect(rest).toEqual(pendingSorted().map((m) => m.id));
        expect(queue.size).toBe(0);
        // Each time a timer became the earliest the queue said so, and only then.
        expect(wakes).toBeLessThanOrEqual(ops.length);
      }),
      { numRuns: 400 },
    );
  });

  it('calls wake only when an insertion makes a timer the earliest', () => {
    let clock = 0;
    let wakes = 0;
    const queue = new TimerQueue(
      () => wakes++,
      () => clock,
    );
    const a = queue.push(10, 10, () => {});
    expect(wakes).toBe(1);
    queue.push(10, 10, () => {}); // after a, same list
    queue.push(20, 20, () => {}); // a new list, later
    expect(wakes).toBe(1);
    queue.push(5, 5, () => {}); // a new list, earliest
    expect(wakes).toBe(2);
    clock = 1;
    a.refresh(); // 11: later than 5
    expect(wakes).toBe(2);
    queue.close();
    expect(queue.size).toBe(0);
    expect(a.cancelled).toBe(true);
    a.refresh(); // closed: nothing
    expect(queue.size).toBe(0);
    expect(queue.peek()).toBeUndefined();
  });
});
