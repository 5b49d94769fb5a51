// Checks of command-line options (read with node:util parseArgs as strings),
// for the benchmarks, the examples and the servers they start: each fails
// with a RangeError that names the option. parseCommandLine and usageExit
// answer --help and bad options as a command-line tool does.
import { parseArgs, type ParseArgsConfig } from 'node:util';

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

/** Prints `program: message` and the usage on stderr, and exits 2: the
 * answer of a command-line tool to an option it cannot take. */
export function usageExit(program: string, usage: string, message: string): never {
  process.stderr.write(`${program}: ${message}\n${usage.trimEnd()}\n`);
  process.exit(2);
}

/** parseArgs(config) as a command-line tool reads its options: `--help`
 * (which `config` declares) prints the usage and exits 0; an unknown or
 * malformed option exits through usageExit with one line naming it. */
export function parseCommandLine<const C extends ParseArgsConfig & { options: { help: { type: 'boolean' } } }>(
  program: string,
  usage: string,
  config: C,
): ReturnType<typeof parseArgs<C>>['values'] {
  let parsed: ReturnType<typeof parseArgs<C>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    usageExit(program, usage, unknown ? `unknown option ${unknown[1]}` : message.split('. ')[0]!);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  return parsed.values;
}
