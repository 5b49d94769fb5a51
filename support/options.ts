// Checks of command-line options (read with node:util parseArgs as strings),
// for the benchmarks, the examples and the servers they start: each fails
// with a RangeError that names the option. parseCommandLine and usageExit
// answer --help and bad options as a command-line tool does; commandLine
// declares a program's options once, with a line of explanation each, and
// builds its usage from them.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** `--NAME VALUE` as a positive integer, or `fallback` when the option was not given. */
export function positiveInt(name: string, value: string | undefined, fallback?: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** `--NAME VALUE` as an integer >= 0, or `fallback` when the option was not given. */
export function nonNegativeInt(name: string, value: string | undefined, fallback?: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (n === undefined || !Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be an integer >= 0, got ${value}`);
  return n;
}

/** `--NAME VALUE` as a number from `min` to `max`. */
export function numberIn(name: string, value: string, min: number, max: number): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!(n >= min && n <= max)) throw new RangeError(`--${name} must be a number from ${min} to ${max}, got ${value}`);
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
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--${name} must be a port number, 0 to 65535, got ${value}`);
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
    // `--port -1`: parseArgs will not take a value that looks like an option.
    const ambiguous = /^Option '(--[^' ]+)' argument is ambiguous/.exec(message);
    usageExit(
      program,
      usage,
      unknown
        ? `unknown option ${unknown[1]}`
        : ambiguous
          ? `${ambiguous[1]} needs a value (one starting with a dash is written ${ambiguous[1]}=-VALUE)`
          : message.split('\n')[0]!.split('. ')[0]!,
    );
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  return parsed.values;
}

/** One option of a program: its parseArgs declaration, and for the usage a
 * line saying what it does and the name of its value. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Printed in the usage as `(default: ...)`; an option whose default
   * depends on others leaves it out and says so in `help`. */
  default?: string | boolean;
  /** The value's name in the usage (string options): N, PORT, MS. */
  arg?: string;
  /** What the option does, on one line. */
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

type WithHelp<O extends OptionSpecs> = O & { help: { type: 'boolean'; default: false; help: string } };
type Values<O extends OptionSpecs> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: WithHelp<O> }>>['values'];

export interface CommandLine<O extends OptionSpecs> {
  values: Values<O>;
  /** The usage, as --help prints it. */
  usage: string;
  /** Refuses a value: usageExit with this program's usage. */
  fail(message: string): never;
  /** fn(), a RangeError it throws (the checks above) refused through fail. */
  check<T>(fn: () => T): T;
}

function defaultText(value: string | boolean): string {
  return value === '' ? 'none' : String(value);
}

/** The usage text of a program: `Usage: SYNOPSIS`, then every option (and
 * --help) on a line of its own, with its explanation and default. */
export function formatUsage(synopsis: string, options: OptionSpecs): string {
  const all: OptionSpecs = { ...options, help: { type: 'boolean', help: 'print this usage and exit' } };
  const heads = Object.entries(all).map(([name, spec]) => `--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`);
  const width = Math.max(...heads.map((h) => h.length));
  const lines = Object.values(all).map((spec, i) => {
    const fallback = spec.type === 'string' && spec.default !== undefined ? ` (default: ${defaultText(spec.default)})` : '';
    return `  ${heads[i]!.padEnd(width)}  ${spec.help}${fallback}`;
  });
  return `Usage: ${synopsis}\n\nOptions:\n${lines.join('\n')}\n`;
}

/** Reads a program's command line (`args`, by default process.argv's) as
 * a command-line tool does: the options as `options` declares them, plus
 * --help, which prints the usage (formatUsage) and exits 0; an unknown or
 * malformed option prints one line naming it and the usage, and exits 2. */
export function commandLine<const O extends OptionSpecs>(program: string, synopsis: string, options: O, args: string[] = process.argv.slice(2)): CommandLine<O> {
  const usage = formatUsage(synopsis, options);
  const declared: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = { help: { type: 'boolean', default: false } };
  for (const [name, spec] of Object.entries(options)) {
    declared[name] = spec.default === undefined ? { type: spec.type } : { type: spec.type, default: spec.default };
  }
  const values = parseCommandLine(program, usage, { args, strict: true, options: declared as { help: { type: 'boolean' } } }) as Values<O>;
  const fail = (message: string): never => usageExit(program, usage, message);
  return {
    values,
    usage,
    fail,
    check<T>(fn: () => T): T {
      try {
        return fn();
      } catch (err) {
        if (err instanceof RangeError) fail(err.message);
        throw err;
      }
    },
  };
}
