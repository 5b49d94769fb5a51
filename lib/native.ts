// Loads the addon (a prebuild, or build/Release from `npm install`) and
// declares its interface, so the rest of lib/ is typed against it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Trigger modes as the addon numbers them. */
export const enum NativeTrigger {
  Level = 0,
  Edge = 1,
  Oneshot = 2,
}

/** One kernel multiplexer instance; see native/backend.h. */
export interface NativeSelector {
  add(fd: number, events: number, trigger: NativeTrigger): void;
  modify(fd: number, events: number, trigger: NativeTrigger): void;
  remove(fd: number): void;
  /** Blocks up to `timeoutMs` (negative: no limit); returns the number of
   * (fd, events) pairs written to the buffer given to `setBuffer`. */
  wait(timeoutMs: number): number;
  setBuffer(buffer: Int32Array): void;
  supports(trigger: NativeTrigger): boolean;
  fileno(): number;
  close(): void;
}

export interface NativeSys {
  pipe(): [number, number];
  socketpair(family?: number, type?: number): [number, number];
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  close(fd: number): void;
  setNonBlocking(fd: number, on: boolean): void;
}

export interface NativeBinding {
  Selector: new (backend: string) => NativeSelector;
  /** Backends compiled into this build, best first. */
  backends: string[];
  FD_SETSIZE: number;
  sys: NativeSys;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('node-selectors: cannot find the package root (binding.gyp)');
    dir = parent;
  }
  return dir;
}

const require = createRequire(import.meta.url);

function load(): NativeBinding {
  // NODE_SELECTORS_ADDON points at a specific build, e.g. a sanitizer build.
  const explicit = process.env['NODE_SELECTORS_ADDON'];
  if (explicit) return require(explicit) as NativeBinding;
  const nodeGypBuild = require('node-gyp-build') as (root: string) => unknown;
  return nodeGypBuild(packageRoot()) as NativeBinding;
}

export const binding: NativeBinding = load();
