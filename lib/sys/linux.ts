// Linux's event fds: eventfd, timerfd, inotify and pidfd. Each exists where
// its feature test passed when the addon was built (native/configure.mjs);
// elsewhere the call throws ERR_NOT_SUPPORTED naming it and the platform, and
// sys.supports(name) answers false. pidfdOpen also needs the running kernel
// to have pidfd_open (5.3+), which is probed once, the first time it matters.
// Same rules as every sys module: arguments checked first, every fd made here
// non-blocking and close-on-exec, a SystemError for every kernel failure.
import { checkFd, codedError, codedRangeError, codedTypeError, describe, notSupported, type SystemError } from '../errors.js';
import { binding } from '../native.js';
import { checkInteger } from './checks.js';

const native = binding.sys;
const c = native.constants;

// inotify's constants: the platform's values, read from the addon (never
// hard-coded here), undefined where the build has no inotify.
/** inotify event: the file was read. `undefined` where the platform has no inotify (as every IN_* constant). */
export const IN_ACCESS: number | undefined = c.IN_ACCESS;
/** inotify event: the file was written. */
export const IN_MODIFY: number | undefined = c.IN_MODIFY;
/** inotify event: metadata changed (permissions, timestamps, links, owner, ...). */
export const IN_ATTRIB: number | undefined = c.IN_ATTRIB;
/** inotify event: a file opened for writing was closed. */
export const IN_CLOSE_WRITE: number | undefined = c.IN_CLOSE_WRITE;
/** inotify event: a file not opened for writing was closed. */
export const IN_CLOSE_NOWRITE: number | undefined = c.IN_CLOSE_NOWRITE;
/** inotify: IN_CLOSE_WRITE | IN_CLOSE_NOWRITE. */
export const IN_CLOSE: number | undefined = c.IN_CLOSE;
/** inotify event: the file was opened. */
export const IN_OPEN: number | undefined = c.IN_OPEN;
/** inotify event: a file was moved out of the watched directory (its `cookie` pairs it with the IN_MOVED_TO). */
export const IN_MOVED_FROM: number | undefined = c.IN_MOVED_FROM;
/** inotify event: a file was moved into the watched directory (same `cookie` as its IN_MOVED_FROM). */
export const IN_MOVED_TO: number | undefined = c.IN_MOVED_TO;
/** inotify: IN_MOVED_FROM | IN_MOVED_TO. */
export const IN_MOVE: number | undefined = c.IN_MOVE;
/** inotify event: a file or directory was created in the watched directory. */
export const IN_CREATE: number | undefined = c.IN_CREATE;
/** inotify event: a file or directory was deleted from the watched directory. */
export const IN_DELETE: number | undefined = c.IN_DELETE;
/** inotify event: the watched file or directory itself was deleted. */
export const IN_DELETE_SELF: number | undefined = c.IN_DELETE_SELF;
/** inotify event: the watched file or directory itself was moved. */
export const IN_MOVE_SELF: number | undefined = c.IN_MOVE_SELF;
/** inotify event (reported, not asked for): the filesystem was unmounted. */
export const IN_UNMOUNT: number | undefined = c.IN_UNMOUNT;
/** inotify event (reported, not asked for): the event queue overflowed, events were lost (wd -1). */
export const IN_Q_OVERFLOW: number | undefined = c.IN_Q_OVERFLOW;
/** inotify event (reported, not asked for): the watch is gone (removed, or its file deleted or unmounted). */
export const IN_IGNORED: number | undefined = c.IN_IGNORED;
/** inotify watch flag: watch the path only if it is a directory. */
export const IN_ONLYDIR: number | undefined = c.IN_ONLYDIR;
/** inotify watch flag: do not follow a symbolic link at the path. */
export const IN_DONT_FOLLOW: number | undefined = c.IN_DONT_FOLLOW;
/** inotify watch flag: no events for children once they are unlinked from the directory. */
export const IN_EXCL_UNLINK: number | undefined = c.IN_EXCL_UNLINK;
/** inotify watch flag: add to the mask of an existing watch of the path instead of replacing it. */
export const IN_MASK_ADD: number | undefined = c.IN_MASK_ADD;
/** inotify event bit (reported): the event's subject is a directory. */
export const IN_ISDIR: number | undefined = c.IN_ISDIR;
/** inotify watch flag: report one event, then remove the watch (2^31: a positive number here). */
export const IN_ONESHOT: number | undefined = c.IN_ONESHOT;
/** inotify: every event a watch can ask for (IN_ACCESS through IN_MOVE_SELF). */
export const IN_ALL_EVENTS: number | undefined = c.IN_ALL_EVENTS;

// The bits inotifyAddWatch takes: the events, and the flags that shape the watch.
const WATCH_EVENTS = IN_ALL_EVENTS ?? 0;
const WATCH_BITS =
  (WATCH_EVENTS | (IN_ONLYDIR ?? 0) | (IN_DONT_FOLLOW ?? 0) | (IN_EXCL_UNLINK ?? 0) | (IN_MASK_ADD ?? 0) | (IN_ONESHOT ?? 0)) >>> 0;

/** The largest time timerfdSet takes, in ms: 2^31 - 1 seconds (a 32-bit time_t holds it). */
const MAX_TIMER_MS = 2147483647000;

function checkTimerMs(ms: unknown, name: string): asserts ms is number {
  if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(ms)}`);
  if (!(ms >= 0 && ms <= MAX_TIMER_MS)) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `${name} must be a number of milliseconds in [0, ${MAX_TIMER_MS}], got ${ms}`);
  }
}

/**
 * A new eventfd: a 64-bit counter in the kernel, starting at `initval`,
 * non-blocking and close-on-exec. Read and write it with {@link read} and
 * {@link write} and 8-byte buffers holding an unsigned 64-bit integer in the
 * host's byte order (a `BigUint64Array` of length 1, or a `DataView` with
 * `littleEndian` set on little-endian hosts):
 * - a write adds its value (1 to 2^64 - 2) to the counter; -1 when the sum
 *   would pass 2^64 - 2 (the write would block);
 * - a read returns the counter and resets it to 0, or in `semaphore` mode
 *   returns 1 and decrements it; -1 while the counter is 0;
 * - the fd is readable while the counter is above 0, writable while a write
 *   of 1 would not block.
 * A buffer of fewer than 8 bytes is refused by the kernel (`EINVAL`).
 * @param initval - The counter's first value, an integer in [0, 2^32 - 1]; default 0.
 * @param options - `semaphore`: reads take 1 at a time (EFD_SEMAPHORE); default false.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no eventfd (macOS).
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `initval` is not a number, `options` not an object, or `semaphore` not a boolean.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `initval` is not an integer in [0, 2^32 - 1].
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `ENFILE`).
 *
 * @example
 * ```ts
 * const fd = sys.eventfd();
 * const counter = new BigUint64Array(1);                // host byte order, as the kernel
 * counter[0] = 3n;
 * sys.write(fd, new Uint8Array(counter.buffer));        // 8 bytes: adds 3
 * sys.read(fd, new Uint8Array(counter.buffer));         // 8: counter[0] === 3n, now 0
 * sys.close(fd);
 * ```
 */
export function eventfd(initval = 0, options?: { semaphore?: boolean }): number {
  if (native.eventfd === undefined) throw notSupported('eventfd');
  checkInteger(initval, 'initval', 0, 0xffffffff);
  let semaphore = false;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    }
    if (options.semaphore !== undefined) {
      if (typeof options.semaphore !== 'boolean') {
        throw codedTypeError('ERR_INVALID_ARG_TYPE', `options.semaphore must be a boolean, got ${describe(options.semaphore)}`);
      }
      semaphore = options.semaphore;
    }
  }
  return native.eventfd(initval, semaphore);
}

/**
 * A new timerfd on the monotonic clock (CLOCK_MONOTONIC: wall-clock changes
 * do not move it), disarmed, non-blocking and close-on-exec. Arm it with
 * {@link timerfdSet}. It is readable once it has expired; a {@link read} of
 * 8 bytes then gives the number of expirations since the last read (an
 * unsigned 64-bit integer in host byte order) and makes it unreadable again;
 * -1 before the first expiry.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no timerfd (macOS, FreeBSD 13).
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `ENFILE`).
 */
export function timerfd(): number {
  if (native.timerfd === undefined) throw notSupported('timerfd');
  return native.timerfd();
}

/**
 * Arms (or re-arms) a timerfd: it first expires `initialMs` from now, then
 * every `intervalMs` (0, the default: once). `initialMs` 0 disarms it, as
 * timerfd_settime(2) does. Both are milliseconds as floats, kept to the
 * nanosecond (0.25 is 250 µs); a positive time too small for a nanosecond
 * counts as 1 ns, never as 0. Expirations not yet read are discarded.
 * @param fd - A timerfd, from {@link timerfd}.
 * @param initialMs - Time to the first expiry, in [0, 2147483647000] ms; 0 disarms.
 * @param intervalMs - Period after that, in the same range; 0 (default): expire once.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no timerfd.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when a time is not a number.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when a time is negative, NaN, infinite or above the bound.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`; `EINVAL` for an fd that is not a timerfd).
 */
export function timerfdSet(fd: number, initialMs: number, intervalMs = 0): void {
  if (native.timerfdSet === undefined) throw notSupported('timerfdSet');
  checkFd(fd);
  checkTimerMs(initialMs, 'initialMs');
  checkTimerMs(intervalMs, 'intervalMs');
  native.timerfdSet(fd, initialMs, intervalMs);
}

/**
 * A new inotify instance, non-blocking and close-on-exec: add watches with
 * {@link inotifyAddWatch}; it is readable while events are queued. Read it
 * into a buffer of at least 16 + NAME_MAX + 1 (272) bytes (a smaller one may
 * fail with `EINVAL`: the kernel returns whole events only), then decode
 * what was read with {@link parseInotify}; -1 when no event is queued.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no inotify (macOS, FreeBSD 13).
 * @throws {@link SystemError} when the kernel refuses (`EMFILE` at the per-user instance limit, ...).
 */
export function inotifyInit(): number {
  if (native.inotifyInit === undefined) throw notSupported('inotifyInit');
  return native.inotifyInit();
}

/**
 * Watches `path` for the events of `mask` and returns its watch descriptor
 * (`wd`, a positive integer naming the watch in the events). A path already
 * watched by this instance keeps its wd and gets the new mask (with
 * IN_MASK_ADD: the union).
 * @param fd - An inotify fd, from {@link inotifyInit}.
 * @param path - A file or directory (a directory reports on its entries too, with their names).
 * @param mask - At least one event (IN_ALL_EVENTS bits) and any of IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_MASK_ADD, IN_ONESHOT:
 * the unsigned 32-bit word, or the same bits as the signed number JavaScript's `|` makes of them.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no inotify.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `path` is not a string or `mask` not a number.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `path` contains NUL, or `mask` has no event bit or a bit that is not a watch's (e.g. IN_ISDIR, IN_IGNORED).
 * @throws {@link SystemError} when the kernel refuses (`ENOENT`, `EACCES`, `ENOTDIR` with IN_ONLYDIR, `ENOSPC` at the watch limit, ...).
 */
export function inotifyAddWatch(fd: number, path: string, mask: number): number {
  if (native.inotifyAddWatch === undefined) throw notSupported('inotifyAddWatch');
  checkFd(fd);
  if (typeof path !== 'string') throw codedTypeError('ERR_INVALID_ARG_TYPE', `path must be a string, got ${describe(path)}`);
  if (path.includes('\0')) throw codedRangeError('ERR_INVALID_ARG_VALUE', `path must not contain NUL, got ${describe(path)}`);
  if (typeof mask !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `mask must be a number, got ${describe(mask)}`);
  // A mask made with JavaScript's | is a signed 32-bit number (IN_ONESHOT | x
  // is negative): the same 32 bits as the unsigned word.
  if (!Number.isInteger(mask) || mask < -0x80000000 || mask > 0xffffffff || (mask & ~WATCH_BITS) !== 0 || (mask & WATCH_EVENTS) === 0) {
    throw codedRangeError(
      'ERR_INVALID_ARG_VALUE',
      `mask must hold at least one IN_* event and only watch bits (IN_ALL_EVENTS, IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_MASK_ADD, IN_ONESHOT), got ${mask}`,
    );
  }
  return native.inotifyAddWatch(fd, path, mask >>> 0);
}

/**
 * Removes a watch; the kernel then queues an IN_IGNORED event for its wd.
 * @param fd - The inotify fd the watch belongs to.
 * @param wd - The watch descriptor {@link inotifyAddWatch} returned.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no inotify.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_OUT_OF_RANGE` (RangeError) when `wd` is not an integer in [1, 2^31 - 1].
 * @throws {@link SystemError} when the kernel refuses (`EINVAL`: no such watch, e.g. removed already or gone with its file).
 */
export function inotifyRemoveWatch(fd: number, wd: number): void {
  if (native.inotifyRemoveWatch === undefined) throw notSupported('inotifyRemoveWatch');
  checkFd(fd);
  checkInteger(wd, 'wd', 1, 0x7fffffff);
  native.inotifyRemoveWatch(fd, wd);
}

/** One inotify event, as {@link parseInotify} decodes it. */
export interface InotifyEvent {
  /** The watch descriptor of the watch that reported it; -1 for IN_Q_OVERFLOW. */
  wd: number;
  /** The event's bits (IN_CREATE, ..., with IN_ISDIR when its subject is a directory), an unsigned 32-bit number. */
  mask: number;
  /** Pairs an IN_MOVED_FROM with its IN_MOVED_TO (the same non-zero value); 0 for other events. */
  cookie: number;
  /** The name of the entry inside a watched directory (UTF-8 decoded); '' for an event on the watched path itself. */
  name: string;
}

// struct inotify_event: int wd; uint32_t mask, cookie, len; char name[len]
// (NUL-padded). The kernel writes it in the host's byte order.
const EVENT_HEADER = 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder();

/**
 * Decodes the events in `buf[0, n)`, what one read of an inotify fd
 * returned: the kernel's struct inotify_event layout (wd i32, mask u32,
 * cookie u32, len u32, then `len` bytes of NUL-padded name), in the host's
 * byte order. Pure TypeScript, no syscall. The kernel returns whole events
 * only, so `n` ending inside an event means the bytes did not come from one
 * read: that is refused (ERR_INVALID_ARG_VALUE), never half-decoded.
 * @param buf - The buffer the read filled.
 * @param n - What the read returned: the count of bytes to decode (0: none).
 * @returns The events in the order the kernel queued them.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no inotify.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array or `n` not a number.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `n` is not an integer in [0, buf.length].
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `n` ends inside an event.
 *
 * @example
 * ```ts
 * const inotifyFd = sys.inotifyInit();
 * sys.inotifyAddWatch(inotifyFd, '/tmp', sys.IN_CREATE! | sys.IN_DELETE!);
 * // ... once the fd is readable:
 * const buf = new Uint8Array(4096);
 * const n = sys.read(inotifyFd, buf);                    // -1: no event queued
 * if (n > 0) for (const event of sys.parseInotify(buf, n)) console.log(event.wd, event.mask, event.name);
 * sys.close(inotifyFd);
 * ```
 */
export function parseInotify(buf: Uint8Array, n: number): InotifyEvent[] {
  if (native.inotifyInit === undefined) throw notSupported('parseInotify');
  if (!(buf instanceof Uint8Array)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `buf must be a Uint8Array, got ${describe(buf)}`);
  checkInteger(n, 'n', 0, buf.length);
  const view = new DataView(buf.buffer, buf.byteOffset, n);
  const events: InotifyEvent[] = [];
  let at = 0;
  while (at < n) {
    if (at + EVENT_HEADER > n) {
      throw codedRangeError('ERR_INVALID_ARG_VALUE', `n (${n}) ends inside the header of the event at byte ${at}`);
    }
    const len = view.getUint32(at + 12, LITTLE_ENDIAN);
    const end = at + EVENT_HEADER + len;
    if (end > n) throw codedRangeError('ERR_INVALID_ARG_VALUE', `n (${n}) ends inside the name of the event at byte ${at}`);
    const nameBytes = buf.subarray(at + EVENT_HEADER, end);
    const nul = nameBytes.indexOf(0);
    events.push({
      wd: view.getInt32(at, LITTLE_ENDIAN),
      mask: view.getUint32(at + 4, LITTLE_ENDIAN),
      cookie: view.getUint32(at + 8, LITTLE_ENDIAN),
      name: len === 0 ? '' : utf8.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
    });
    at = end;
  }
  return events;
}

// Whether the running kernel has pidfd_open: undefined until probed; and
// when it has not, the SystemError that said so.
let pidfdKernel: boolean | undefined;
let pidfdRefusal: SystemError | undefined;

// One pidfd_open of this process, closed at once. ENOSYS (a kernel before
// 5.3) or EPERM (a seccomp filter that refuses the call: pidfd_open of one's
// own pid is otherwise always allowed) settle it as missing; any other
// failure (EMFILE) says nothing about the kernel, so it is not kept.
function pidfdWorks(): boolean {
  if (pidfdKernel !== undefined) return pidfdKernel;
  if (native.pidfdOpen === undefined) return (pidfdKernel = false);
  try {
    native.close(native.pidfdOpen(process.pid));
    return (pidfdKernel = true);
  } catch (err) {
    const code = (err as SystemError).code;
    if (code !== 'ENOSYS' && code !== 'EPERM') return true;
    pidfdRefusal = err as SystemError;
    return (pidfdKernel = false);
  }
}

// ERR_NOT_SUPPORTED for pidfdOpen: the build's, or the kernel's with its
// refusal as the cause.
function pidfdNotSupported(): Error {
  if (pidfdRefusal === undefined) return notSupported('pidfdOpen');
  const err = codedError(
    'ERR_NOT_SUPPORTED',
    `sys.pidfdOpen is not supported by this kernel: pidfd_open failed with ${pidfdRefusal.code} (Linux 5.3 and later have it; see sys.supports)`,
  );
  err.cause = pidfdRefusal;
  return err;
}

// sys.supports('pidfdOpen') reads this table: the build says whether the
// call was compiled; the kernel, probed on first use, whether it runs.
if (native.supported['pidfdOpen'] === true) {
  Object.defineProperty(native.supported, 'pidfdOpen', { enumerable: true, configurable: true, get: pidfdWorks });
}

/**
 * A pidfd: an fd that refers to process `pid` (close-on-exec, as every
 * pidfd; non-blocking). It becomes readable once the process has exited, so
 * a selector or the reactor can wait for a child's exit like for any fd.
 * Waiting for it reaps nothing: the exit status stays for whoever waits for
 * the process (Node's child_process still emits 'exit'). A pidfd cannot be
 * read (`EINVAL`): only its readiness tells. Open it while the process is
 * known to be yours and unreaped (right after spawning it), since a pid is
 * reused once reaped.
 * @param pid - A process id, a positive integer.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no pidfd_open, or the running kernel lacks it (Linux before 5.3, or a seccomp filter refusing it: the error's `cause` is the ENOSYS or EPERM that told).
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_OUT_OF_RANGE` (RangeError) when `pid` is not an integer in [1, 2^31 - 1].
 * @throws {@link SystemError} when the kernel refuses (`ESRCH`: no such process, or one already reaped; `EMFILE`).
 */
export function pidfdOpen(pid: number): number {
  if (native.pidfdOpen === undefined || !pidfdWorks()) throw pidfdNotSupported();
  checkInteger(pid, 'pid', 1, 0x7fffffff);
  return native.pidfdOpen(pid);
}
