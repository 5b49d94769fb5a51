// The C programs of the benchmarks (baselines, the reference server, the load
// generator) live as sources in bench/c/ and are compiled on first use with
// the system's C compiler into bench/bin/, so that `npm install` stays the
// only set-up. A binary is rebuilt when its source is newer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Compiles bench/c/NAME.c (if its binary is missing or older) and resolves
 * to the binary's path. CC overrides the compiler, as in make. */
export async function compileC(name: string): Promise<string> {
  const root = packageRoot();
  const source = join(root, 'bench', 'c', `${name}.c`);
  const binDir = join(root, 'bench', 'bin');
  const binary = join(binDir, name);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(binDir, { recursive: true });
  const cc = process.env['CC'] || 'cc';
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-o', binary, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new Error(`no C compiler '${cc}' found: install one (Debian: apt-get install gcc) or set CC`);
    }
    throw new Error(`compiling ${source} with ${cc} failed`, { cause: err });
  }
  return binary;
}
