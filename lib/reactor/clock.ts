// The reactor's clock: performance.now(), monotonic milliseconds.
//
// In Node `performance` is an accessor on globalThis, so each global lookup
// calls its getter; the loop reads the clock for every timer it arms or
// restarts, so it reads it through a reference taken once.
const perf = performance;

/** @internal Monotonic time in milliseconds: `performance.now()`. */
export function clock(): number {
  return perf.now();
}
