// Thin, fast wrappers of POSIX calls on integer fds. Arguments are checked
// here, before any syscall; a call that would block returns -1 (no exception
// on the hot path); every other failure throws a SystemError (code, errno,
// syscall). Every fd created here is non-blocking and close-on-exec.
import { checkFd, codedRangeError, codedTypeError, describe } from './errors.js';
import { binding } from './native.js';

const native = binding.sys;

/** Checks buf/offset/length and returns the length to use. */
function checkRange(buf: unknown, offset: number | undefined, length: number | undefined): [number, number] {
  if (!(buf instanceof Uint8Array)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `buf must be a Uint8Array, got ${describe(buf)}`);
  }
  const off = offset ?? 0;
  if (typeof off !== 'number' || !Number.isInteger(off) || off < 0 || off > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `offset must be an integer in [0, ${buf.length}], got ${describe(offset)}`);
  }
  const len = length ?? buf.length - off;
  if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || off + len > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `length must be an integer in [0, ${buf.length - off}], got ${describe(length)}`);
  }
  return [off, len];
}

/** Reads into buf[offset, offset + length): bytes read, 0 at end of stream, -1 if it would block. */
export function read(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const [off, len] = checkRange(buf, offset, length);
  return native.read(fd, buf, off, len);
}

/** Writes buf[offset, offset + length): bytes written, or -1 if it would block. */
export function write(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const [off, len] = checkRange(buf, offset, length);
  return native.write(fd, buf, off, len);
}

export function close(fd: number): void {
  checkFd(fd);
  native.close(fd);
}

/** A pipe: [readFd, writeFd], both non-blocking and close-on-exec. */
export function pipe(): [number, number] {
  return native.pipe();
}

/** A connected pair of Unix stream sockets, non-blocking and close-on-exec. */
export function socketpair(): [number, number] {
  return native.socketpair();
}

export function setNonBlocking(fd: number, on = true): void {
  checkFd(fd);
  native.setNonBlocking(fd, Boolean(on));
}
