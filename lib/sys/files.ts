// Files and devices: open (always non-blocking and close-on-exec), readv and
// sendfile. Same rules as every sys module: arguments checked first, -1 for
// "would block", a SystemError for every other failure.
import { checkFd, codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding } from '../native.js';
import { checkInteger } from './checks.js';

const native = binding.sys;
const c = native.constants;
const IOV_MAX = c.IOV_MAX;

// The platform's values, read from the addon (never hard-coded here).
/** open: read only (the default). */
export const O_RDONLY = c.O_RDONLY;
/** open: write only. */
export const O_WRONLY = c.O_WRONLY;
/** open: read and write. */
export const O_RDWR = c.O_RDWR;
/** open: create the file if it does not exist (with `mode`, less the umask). */
export const O_CREAT = c.O_CREAT;
/** open: truncate a regular file opened for writing to length 0. */
export const O_TRUNC = c.O_TRUNC;
/** open: every write goes to the end of the file. */
export const O_APPEND = c.O_APPEND;
/** open: with O_CREAT, fail with `EEXIST` if the file exists. */
export const O_EXCL = c.O_EXCL;
/** open: a terminal opened does not become the process's controlling terminal. */
export const O_NOCTTY = c.O_NOCTTY;

const ACCESS_MODES = new Set([O_RDONLY, O_WRONLY, O_RDWR]);
const OPEN_FLAGS = O_CREAT | O_TRUNC | O_APPEND | O_EXCL | O_NOCTTY;

/**
 * Opens `path` (a file, a device such as a serial line or `/dev/tty`, a
 * FIFO) and returns the new fd, always non-blocking and close-on-exec
 * (`O_NONBLOCK | O_CLOEXEC` are added to `flags`, in the one call).
 *
 * Non-blocking changes two things an ordinary open does not do: a FIFO
 * opened read-only opens at once even with no writer (its reads return 0
 * until one comes: see `StreamOptions.eofIsFinal`), and a FIFO opened
 * write-only with no reader fails with `ENXIO` instead of waiting for one.
 * A regular file is always "ready": poll, select and io_uring report it
 * readable and writable (BSD kqueue: readable before its end), and epoll
 * refuses it (`EPERM`).
 *
 * @param path - The file's path (a string without NUL).
 * @param flags - One of O_RDONLY (the default), O_WRONLY, O_RDWR, or'ed with
 *   any of O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_NOCTTY.
 * @param mode - The permissions of a file O_CREAT creates, less the umask (default 0o666).
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `path` is not a string, or `flags` or `mode` not a number.
 * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when `path` contains NUL.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `flags` has another bit, or two access modes.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `mode` is not an integer in [0, 0o7777].
 * @throws {@link SystemError} when the kernel refuses (`ENOENT`, `EACCES`, `EEXIST`, `ENXIO`, `EMFILE`, ...).
 */
export function open(path: string, flags: number = O_RDONLY, mode = 0o666): number {
  if (typeof path !== 'string') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `path must be a string, got ${describe(path)}`);
  }
  if (path.includes('\0')) throw codedTypeError('ERR_INVALID_ARG_VALUE', `path must not contain NUL, got ${describe(path)}`);
  if (typeof flags !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `flags must be a number, got ${describe(flags)}`);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff || (flags & ~(OPEN_FLAGS | c.O_ACCMODE)) !== 0 || !ACCESS_MODES.has(flags & c.O_ACCMODE)) {
    throw codedRangeError(
      'ERR_INVALID_ARG_VALUE',
      `flags must be O_RDONLY, O_WRONLY or O_RDWR, or'ed with O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_NOCTTY; got ${flags}`,
    );
  }
  checkInteger(mode, 'mode', 0, 0o7777);
  return native.open(path, flags, mode);
}

/**
 * Reads into the buffers in order with one syscall (at most IOV_MAX of
 * them), filling each before the next: bytes read in all, 0 at end of
 * stream (or when the buffers hold no byte), -1 if it would block. The
 * counterpart of `writev`.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `bufs` is not an array of Uint8Arrays.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) for more than IOV_MAX buffers.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ECONNRESET`, `EIO`, ...).
 */
export function readv(fd: number, bufs: Uint8Array[]): number {
  checkFd(fd);
  if (!Array.isArray(bufs)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `bufs must be an array of Uint8Arrays, got ${describe(bufs)}`);
  }
  if (bufs.length > IOV_MAX) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `readv takes at most ${IOV_MAX} buffers, got ${bufs.length}`);
  }
  for (const buf of bufs) {
    if (!(buf instanceof Uint8Array)) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `every buffer must be a Uint8Array, got ${describe(buf)}`);
    }
  }
  return native.readv(fd, bufs);
}

/**
 * Sends up to `count` bytes of the file `inFd`, from `offset`, to `outFd`
 * in the kernel (no copy through JavaScript): bytes sent (possibly fewer:
 * call again from `offset + n`), 0 when `offset` is at or past the end of
 * the file (or `count` is 0), -1 if `outFd` would block with nothing sent.
 *
 * The file offset of `inFd` is not changed, as with pread: the explicit
 * `offset` says where to read, so one file can be sent to many fds at once.
 * One call moves at most 0x7ffff000 bytes.
 *
 * Linux's `sendfile(out, in, &offset, count)`, FreeBSD's and macOS's
 * `sendfile(in, out, offset, ...)` behind one call, chosen by the build's
 * feature tests. The BSD forms send only to a stream socket; where a
 * platform's sendfile refuses this pair of fds (a pipe or a file as
 * `outFd` on macOS and FreeBSD, an `outFd` opened O_APPEND on Linux), or
 * the platform has none, one pread of at most 64 KiB and one write do the
 * same step, with the same results. Bytes a BSD sendfile sent before the
 * socket filled up are reported as sent, not as -1.
 *
 * @param outFd - Where the bytes go: a socket, a pipe, a file.
 * @param inFd - A regular file (something pread can read).
 * @param offset - Where in `inFd` to start, in bytes.
 * @param count - The most bytes to send.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when either fd is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_OUT_OF_RANGE` (RangeError) when `offset` or
 *   `count` is not an integer in [0, 2^53 - 1].
 * @throws {@link SystemError} when the kernel refuses (`EPIPE`, `ECONNRESET`, `ESPIPE` for an
 *   `inFd` that is not a file, `EBADF`, ...); `syscall` names the call that failed
 *   (`sendfile`, or `pread`/`write` for the fallback).
 */
export function sendfile(outFd: number, inFd: number, offset: number, count: number): number {
  checkFd(outFd, 'outFd');
  checkFd(inFd, 'inFd');
  checkInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  checkInteger(count, 'count', 0, Number.MAX_SAFE_INTEGER);
  return native.sendfile(outFd, inFd, offset, count);
}
