// The C programs of the benchmarks (baselines, the reference server, the load
// generator) live as sources in bench/c/ and are compiled on first use with
// the system's C compiler into bench/bin/, so that `npm install` stays the
// only set-up. A binary is rebuilt when its source is newer.
//
//   const server = await compileC('hello_epoll');
//   const loadgen = await compileC('loadgen', { libs: ['-lpthread'] });
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The package root: the nearest directory up from here holding binding.gyp
 * (this file runs from bench/ under tsx and from dist/bench/ once compiled). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package root (binding.gyp)');
    dir = parent;
  }
  return dir;
}

export interface CompileOptions {
  /** Compiler flags; default -O2 -Wall -Wextra. */
  flags?: string[];
  /** Linker arguments, placed after the source: ['-lpthread'], ['-luring']. */
  libs?: string[];
  /** Rebuild even when the binary is newer than its source. */
  force?: boolean;
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of a program's source and of the headers
 * beside it (bench/c/*.h, which the servers share), so that a change to a
 * header rebuilds every program. */
async function newestInput(source: string): Promise<number> {
  const dir = dirname(source);
  const headers = (await readdir(dir)).filter((f) => f.endsWith('.h')).map((f) => join(dir, f));
  const times = await Promise.all([source, ...headers].map(mtime));
  return Math.max(...times.map((t) => t ?? 0));
}

/** Compiles bench/c/NAME.c (if its binary is missing or older) and resolves
 * to the binary's path. CC overrides the compiler, as in make. */
export async function compileC(name: string, options: CompileOptions = {}): Promise<string> {
  if (!/^[\w-]+$/.test(name)) throw new RangeError(`not a C program name: ${name}`);
  const root = packageRoot();
  const source = join(root, 'bench', 'c', `${name}.c`);
  const binDir = join(root, 'bench', 'bin');
  const binary = join(binDir, name);
  if ((await mtime(source)) === undefined) throw new Error(`no such C program: ${source}`);
  const sourceTime = await newestInput(source);
  const binaryTime = await mtime(binary);
  if (!options.force && binaryTime !== undefined && binaryTime >= sourceTime) return binary;

  await mkdir(binDir, { recursive: true });
  // Build beside the target and rename, so that a concurrent build or a run
  // of the old binary never sees a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = process.env['CC'] || 'cc';
  try {
    await run(cc, [...(options.flags ?? ['-O2', '-Wall', '-Wextra']), '-o', partial, source, ...(options.libs ?? [])]);
    await rename(partial, binary);
  } catch (err) {
    await rm(partial, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(`no C compiler '${cc}' found: install one (Debian: apt-get install gcc) or set CC`);
    }
    throw new Error(`compiling ${source} with ${cc} failed${e.stderr ? `:\n${e.stderr}` : ''}`, { cause: err });
  }
  return binary;
}
