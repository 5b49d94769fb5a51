// The one place the tests look at a process's fds, on every platform:
// /proc/PID/fd (Linux), else /dev/fd when it lists every fd (macOS; FreeBSD
// with fdescfs mounted), else probing each number with fstat (FreeBSD's
// plain /dev/fd shows only 0-2). No other test file reads /proc.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';

/** Lists this process's open fds, ascending. Self-contained (its imports
 * come as arguments) so that a child process can run it from its source
 * text: see `LIST_OPEN_FDS`. */
export function listOpenFds(
  fs: { readdirSync: typeof readdirSync; fstatSync: typeof fstatSync; openSync: typeof openSync; closeSync: typeof closeSync },
  procDir: string | undefined,
): number[] {
  const isOpen = (fd: number) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  };
  const fromDir = (dir: string) =>
    fs
      .readdirSync(dir)
      .map(Number)
      // The listing's own directory fd is closed by the time we return.
      .filter((fd) => Number.isInteger(fd) && isOpen(fd));
  if (procDir !== undefined) return fromDir(procDir).sort((a, b) => a - b);
  // /dev/fd is trusted only if it shows an fd just opened above 2.
  let marker = -1;
  try {
    marker = fs.openSync('/dev/null', 'r');
    const listed = fromDir('/dev/fd');
    if (listed.includes(marker)) return listed.filter((fd) => fd !== marker).sort((a, b) => a - b);
  } catch {
    /* no /dev/fd */
  } finally {
    if (marker >= 0) fs.closeSync(marker);
  }
  const open: number[] = [];
  for (let fd = 0; fd < 65536; fd++) if (isOpen(fd)) open.push(fd);
  return open;
}

const PROC_SELF = existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined;

/** This process's open fds, ascending. */
export function openFds(): number[] {
  return listOpenFds({ readdirSync, fstatSync, openSync, closeSync }, PROC_SELF);
}

/** An ES-module snippet for `runNode`: defines `openFds()` in the child. */
export const LIST_OPEN_FDS = `
import * as __fs from 'node:fs';
const __listOpenFds = ${listOpenFds.toString()};
const openFds = () => __listOpenFds(__fs, __fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined);
const isOpen = (fd) => { try { __fs.fstatSync(fd); return true; } catch { return false; } };
const fdIdentity = (fd) => { const s = __fs.fstatSync(fd, { bigint: true }); return s.dev + ':' + s.ino; };
`;

/** `read()` once `done` holds for it, or as it is after `ms` milliseconds:
 * for fds that peers, child processes or other threads close a moment after
 * we do. */
async function settled<T>(read: () => T, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    value = read();
  }
  return value;
}

/** This process's open fds once they are back to `expected`, or as they are
 * after `ms` milliseconds. */
export function openFdsOnceBackTo(expected: number[], ms = 3000): Promise<number[]> {
  return settled(openFds, (now) => now.join() === expected.join(), ms);
}

/** The fds open now that were not in `before`, at once: for checks that an
 * error path opened nothing. Fds in `before` that closed meanwhile do not
 * count (libkqueue closes earlier kqueues' fds late, R5). */
export function fdsNewSince(before: number[]): number[] {
  return openFds().filter((fd) => !before.includes(fd));
}

/** The fds opened since `before` that are still open once at most `left`
 * are (none by default), or after `ms` milliseconds. Fds in `before` that
 * closed meanwhile do not count. */
export async function fdsOpenedSince(before: number[], ms = 3000, left = 0): Promise<number[]> {
  return settled(() => fdsNewSince(before), (fds) => fds.length <= left, ms);
}

/** Whether `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** The kernel object an fd names, as device and inode: the same in every
 * process that holds it (a socket's or pipe's inode on Linux, macOS and the BSDs). */
export function fdIdentity(fd: number): string {
  const s = fstatSync(fd, { bigint: true });
  return `${s.dev}:${s.ino}`;
}

/** What /proc says an fd is ('anon_inode:[io_uring]', 'socket:[123]'), where
 * there is a /proc; undefined elsewhere. */
export function fdTarget(fd: number): string | undefined {
  if (PROC_SELF === undefined) return undefined;
  try {
    return readlinkSync(`${PROC_SELF}/${fd}`);
  } catch {
    return undefined;
  }
}

/** How many fds another process has open: /proc/PID/fd, else lsof. */
export function processFdCount(pid: number): number {
  if (existsSync(`/proc/${pid}/fd`)) return readdirSync(`/proc/${pid}/fd`).length;
  const r = spawnSync('lsof', ['-a', '-p', String(pid), '-d', '0-65535', '-F', 'f'], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot count the fds of process ${pid}: no /proc and no lsof`);
  return r.stdout.split('\n').filter((line) => /^f\d+$/.test(line)).length;
}

/** processFdCount once it is back to `expected` (a peer closes its end a
 * moment after the server does), or as it is after `ms` milliseconds. */
export function settledFdCount(pid: number, expected: number, ms = 5000): Promise<number> {
  return settled(() => processFdCount(pid), (n) => n === expected, ms);
}
