// Checks of command-line options (read with node:util parseArgs as strings),
// for the benchmarks, the examples and the servers they start: each fails
// with a RangeError that names the option.

/** `--NAME VALUE` as a positive integer, or `fallback` when the option was not given. */
export function positiveInt(name: string, value: string | undefined, fallback?: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** `--NAME VALUE` as one of `choices`. */
export function oneOf<const T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new RangeError(`--${name} must be one of ${choices.join(', ')}, got ${value}`);
  return value as T;
}

/** `--NAME VALUE` as a TCP port (0: any free one). */
export function portNumber(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad --${name}: ${value}`);
  return port;
}
