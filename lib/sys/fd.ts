// fd-level calls that apply to any fd: read, write, close, dup2, pipes and
// the fd's flags. Same rules as every sys module: arguments checked first,
// -1 for "would block", a SystemError for every other failure, and every fd
// made here non-blocking and close-on-exec.
import { checkFd } from '../errors.js';
import { binding } from '../native.js';
import { checkLength, checkOffset } from './checks.js';

const native = binding.sys;

/**
 * Reads into buf[offset, offset + length): bytes read, 0 at end of stream, -1 if it would block.
 * `offset` defaults to 0, `length` to the rest of `buf`.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `offset` or `length` falls outside `buf`.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ECONNRESET`, ...).
 */
export function read(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  // The whole buffer goes without offset and length: two fewer conversions.
  return off === 0 && len === buf.length ? native.read(fd, buf) : native.read(fd, buf, off, len);
}

/**
 * Writes buf[offset, offset + length): bytes written (possibly fewer), or -1 if it would block.
 * `offset` defaults to 0, `length` to the rest of `buf`.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `offset` or `length` falls outside `buf`.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `EPIPE` when the reader has gone: never a SIGPIPE, ...).
 */
export function write(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  // The whole buffer goes without offset and length: two fewer conversions.
  return off === 0 && len === buf.length ? native.write(fd, buf) : native.write(fd, buf, off, len);
}

/**
 * Closes `fd`. Remove it from any selector or reactor first.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF` for an fd not open).
 */
export function close(fd: number): void {
  checkFd(fd);
  native.close(fd);
}

/** Makes `newFd` name the file `oldFd` names (closing what `newFd` named
 * before, as dup2(2)), close-on-exec; returns `newFd`. A registered fd
 * replaced this way is, to a selector, a closed fd: unregister it (what the
 * backend reports for it until then is not defined, as after close()).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when either fd is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`). */
export function dup2(oldFd: number, newFd: number): number {
  checkFd(oldFd);
  checkFd(newFd);
  return native.dup2(oldFd, newFd);
}

/** A pipe: [readFd, writeFd], both non-blocking and close-on-exec.
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `ENFILE`). */
export function pipe(): [number, number] {
  return native.pipe();
}

/**
 * Sets (or, with `on` false, clears) the fd's O_NONBLOCK flag.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`).
 */
export function setNonBlocking(fd: number, on = true): void {
  checkFd(fd);
  native.setNonBlocking(fd, Boolean(on));
}

/** The fd's O_NONBLOCK (file status) and FD_CLOEXEC (descriptor) flags, as
 * fcntl(F_GETFL) and fcntl(F_GETFD) report them: `{ nonBlocking, closeOnExec }`,
 * true when O_NONBLOCK (resp. FD_CLOEXEC) is set.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`). */
export function getFdFlags(fd: number): { nonBlocking: boolean; closeOnExec: boolean } {
  checkFd(fd);
  return native.getFdFlags(fd);
}
