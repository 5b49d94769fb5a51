// Shared fixtures: real fds, closed at the end of each test.
import { fstatSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import { availableBackends, type Deferred, DefaultSelector, EVENT_PRIORITY, EVENT_READ, FD_SETSIZE, selectorClass, sys, type BackendName, type BaseSelector, Reactor } from '../lib/index.js';
import { binding } from '../lib/native.js';
import { fdsOpenedSince, openFds, openFdsOnceBackTo } from './fds.js';

/** Every available backend plus DefaultSelector: the shared suite runs on each. */
export const BACKENDS: Array<{ name: string; backend: string; create: <T = unknown>() => BaseSelector<T> }> = [
  ...availableBackends().map((name) => ({ name, backend: name, create: <T,>() => new (selectorClass(name))<T>() })),
  { name: 'DefaultSelector', backend: defaultBackend(), create: <T,>() => new DefaultSelector<T>() },
];

/** The backend DefaultSelector stands for in this run. */
export function defaultBackend(): string {
  const sel = new DefaultSelector();
  sel.close();
  return sel.backend;
}

/** What a backend can do on this machine, for tests to ask instead of the
 * OS name. 'priority': it can watch EVENT_PRIORITY (FreeBSD's kqueue and
 * libkqueue have no out-of-band filter). */
export function backendHas(backend: string, capability: 'priority' | 'subMsTimeouts' | 'edge' | 'oneshot'): boolean {
  const sel = new (selectorClass(backend as BackendName))();
  try {
    if (capability === 'priority') return (sel.supportedEvents & EVENT_PRIORITY) !== 0;
    if (capability === 'subMsTimeouts') return sel.timeoutResolution < 1;
    return sel.supportsTrigger(capability);
  } finally {
    sel.close();
  }
}

/** The fds `backend` can watch are below this: FD_SETSIZE where it refuses
 * an fd numbered FD_SETSIZE (select), Infinity where it takes one. Probed
 * by registering a pipe dup2'd to that number (left alone if in use; where
 * the fd limit forbids it, no server here can go past it either). */
export function fdCeiling(backend: string): number {
  try {
    fstatSync(FD_SETSIZE);
    return FD_SETSIZE; // in use: not probed, the lower answer
  } catch {
    // free, as expected
  }
  const sel = new (selectorClass(backend as BackendName))();
  const [r, w] = sys.pipe();
  try {
    let high: number;
    try {
      high = sys.dup2(r, FD_SETSIZE);
    } catch {
      return FD_SETSIZE;
    }
    try {
      sel.register(high, EVENT_READ);
      return Infinity;
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_FD_OUT_OF_RANGE') return FD_SETSIZE;
      throw err;
    } finally {
      sel.close();
      sys.close(high);
    }
  } finally {
    sys.close(r);
    sys.close(w);
  }
}

/** The kqueue backend runs on libkqueue (a user-space kqueue on epoll, for
 * the Linux builds that exercise kqueue.cc), not on a BSD kernel. Five of
 * its differences make some tests meaningless there; each such test is
 * skipped by one of the names below, never wholesale.
 *  - R1 `kqueueReAddFails`: EV_ADD of a filter already added fails unless
 *    EV_CLEAR is set, so `modify` cannot be judged;
 *  - R2 `kqueueFdNeverReadable`: the kqueue fd is never readable, so an
 *    attached reactor's libuv watch of it never fires;
 *  - R3 `kqueueAtMost512`: one kevent() returns at most 512 events;
 *  - R4 `kqueueEatsSoError`: SO_ERROR is consumed inside kevent();
 *  - R5 `kqueueLateFdRelease`: each kqueue holds about 7 fds, closed later by
 *    a monitor thread, so fd counts differ for a while after close();
 *  - R6 `kqueueWriteFilterEagain`: adding EVFILT_WRITE for a Unix datagram
 *    socket whose receiver is full fails with EAGAIN. */
export const isLibkqueue = binding.build.libkqueue;
export type LibkqueueLimit =
  | 'kqueueReAddFails'
  | 'kqueueFdNeverReadable'
  | 'kqueueAtMost512'
  | 'kqueueEatsSoError'
  | 'kqueueLateFdRelease'
  | 'kqueueWriteFilterEagain';
/** Whether `backend` is kqueue on libkqueue and so has `limit` (libkqueue
 * has all six; the name says which one a test depends on). */
export const kqueueLimit = (backend: string, _limit: LibkqueueLimit): boolean => backend === 'kqueue' && isLibkqueue;

const opened: number[] = [];
const selectors: BaseSelector<any>[] = [];

/** Closes every fd and selector a test made, even when it failed. */
afterEach(() => {
  for (const s of selectors.splice(0)) s.close();
  for (const fd of opened.splice(0)) {
    try {
      sys.close(fd);
    } catch {
      /* closed by the test itself */
    }
  }
});

export function track<T extends BaseSelector<any>>(s: T): T {
  selectors.push(s);
  return s;
}

/** A reactor on a new selector from `create` (closed at the end of the
 * test), and the fds open just before the reactor itself was made, its
 * selector already open: once the reactor is closed (which releases its own
 * fds, its timerfd), they are what is open again. */
export function reactorWithFds(create: () => BaseSelector): [Reactor, number[]] {
  const selector = track(create());
  const before = openFds();
  return [new Reactor({ selector }), before];
}

export function pipe(): [number, number] {
  const fds = sys.pipe();
  opened.push(...fds);
  return fds;
}

export function socketpair(): [number, number] {
  const fds = sys.socketpair();
  opened.push(...fds);
  return fds;
}

/** Any fd the test made (a socket, an accepted connection): closed at the end. */
export function owned(fd: number): number {
  opened.push(fd);
  return fd;
}

/** Closes an fd now and forgets it, so that the end of the test never closes
 * its number again after the kernel has handed it out anew. */
export function release(fd: number): void {
  const i = opened.indexOf(fd);
  if (i >= 0) opened.splice(i, 1);
  sys.close(fd);
}

/** What `call` throws, or undefined if it returns. */
export function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  return undefined;
}

export { fdsNewSince, openFds } from './fds.js';

/** The fds that differ from `before`, opened or closed since ([] when none),
 * once they are back to it (peers and helper threads close their ends a
 * moment after we do) or after 3 s. libkqueue closes a kqueue's fds from a
 * monitor thread a moment after close() (R5), perhaps of selectors closed
 * before `before` was taken: in a run with libkqueue selectors only fds
 * opened since count. */
export async function fdsChangedSince(before: number[]): Promise<number[]> {
  if (BACKENDS.some((b) => kqueueLimit(b.backend, 'kqueueLateFdRelease'))) return fdsOpenedSince(before);
  const now = await openFdsOnceBackTo(before);
  return [...now.filter((fd) => !before.includes(fd)), ...before.filter((fd) => !now.includes(fd))];
}

export const enc = (s: string) => new TextEncoder().encode(s);

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built entry point (dist/, made by `tsc`, which `npm test` runs first),
 * for child processes, which cannot load TypeScript. */
export const DIST_INDEX = fileURLToPath(new URL('../dist/lib/index.js', import.meta.url));

/** Runs an ES module in a child node process; `LIB` in the code is the
 * package's built entry point. Returns its stdout, trimmed; throws with its
 * stderr when it fails. */
export function runNode(code: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): string {
  return runNodeOutput(code, nodeArgs, env).stdout;
}

/** runNode, with the child's stderr too (its warnings). */
export function runNodeOutput(
  code: string,
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): { stdout: string; stderr: string } {
  const source = code.replaceAll('LIB', JSON.stringify(DIST_INDEX));
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', source], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  return { stdout: r.stdout.trim(), stderr: r.stderr };
}

/** Why IPv6 over loopback cannot be tested here (a reason to skip with), or
 * null when `::1` can be bound: the capability, asked of the kernel. */
export function noIpv6Loopback(): string | null {
  let fd = -1;
  try {
    fd = sys.socket(sys.AF_INET6, sys.SOCK_DGRAM);
    sys.bind(fd, '::1', 0);
    return null;
  } catch (err) {
    return `no IPv6 loopback here (${(err as Error).message})`;
  } finally {
    if (fd >= 0) sys.close(fd);
  }
}

/** run() until nothing is left (and `until` must be done by then), or
 * attach() until `until` settles (its failure fails the test), then detach(). */
export async function driveUntil(r: Reactor, mode: 'run' | 'attach', until: Deferred<void>): Promise<void> {
  if (mode === 'run') {
    r.run();
    expect(until.done).toBe(true);
    return;
  }
  r.attach();
  try {
    await until;
  } finally {
    r.detach();
  }
}

/** Keeps the thread busy for `ms` milliseconds (a slow callback, a late tick). */
export function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
