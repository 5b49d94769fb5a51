// Summary statistics of repeated measurements. Medians, because a shared,
// noisy machine adds outliers in one direction only.

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    n: values.length,
  };
}

/** A number formatted for a table: 3 significant digits, thousands kept whole. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

/** A ratio as "1.23×", or "—" when there is nothing to compare to. */
export function ratio(value: number, reference: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference <= 0) return '—';
  return `${(value / reference).toFixed(2)}×`;
}

/** min–max of a summary, or "—" when it has no values. */
export function range(s: Summary, digits = 3): string {
  return s.n > 0 ? `${fmt(s.min, digits)}–${fmt(s.max, digits)}` : '—';
}

/** A share (of a core) as a whole percentage: 0.87 → "87%". */
export function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—';
}
