// Argument checks shared by the sys modules: each throws a coded error
// (lib/errors.ts) before any syscall, and allocates nothing when the
// argument is good, so the common case inlines into the hot calls.
import { isIP } from 'node:net';
import { codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding } from '../native.js';

const UNIX_PATH_MAX = binding.sys.constants.UNIX_PATH_MAX;

// The checks of buf/offset/length, split so that the common case inlines
// into read/write/recv/send without allocating: each returns a number, and
// the messages are built only when a check fails.

/** @internal Checks buf and offset; returns the offset to use. */
export function checkOffset(buf: unknown, offset: number | undefined): number {
  if (!(buf instanceof Uint8Array)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `buf must be a Uint8Array, got ${describe(buf)}`);
  }
  if (offset === undefined) return 0;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `offset must be an integer in [0, ${buf.length}], got ${describe(offset)}`);
  }
  return offset;
}

/** @internal Checks length against the buffer after `off`; returns the length to use. */
export function checkLength(buf: Uint8Array, off: number, length: number | undefined): number {
  if (length === undefined) return buf.length - off;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || off + length > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `length must be an integer in [0, ${buf.length - off}], got ${describe(length)}`);
  }
  return length;
}

/** @internal */
export function checkInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** @internal */
export function checkMember(value: unknown, allowed: Set<number>, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`);
  }
  if (!allowed.has(value)) {
    throw codedRangeError('ERR_INVALID_ARG_VALUE', `unknown ${name}: ${value}`);
  }
}

// An IP address and a port, or (no port) a Unix socket path. A path starting
// with "\0" names a Linux abstract socket, which has no terminator.
/** @internal */
export function checkAddress(host: unknown, port: unknown): void {
  if (typeof host !== 'string') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `host must be a string, got ${describe(host)}`);
  }
  if (port === undefined) {
    const abstract = host.startsWith('\0');
    const bytes = Buffer.byteLength(host);
    if (bytes === 0 || bytes > UNIX_PATH_MAX + (abstract ? 1 : 0) || (!abstract && host.includes('\0'))) {
      throw codedRangeError(
        'ERR_INVALID_ARG_VALUE',
        `a Unix socket path must be 1 to ${UNIX_PATH_MAX} bytes without NUL (or start with NUL for an abstract name), got ${describe(host)}`,
      );
    }
    return;
  }
  if (isIP(host) === 0) {
    throw codedTypeError('ERR_INVALID_IP_ADDRESS', `host must be an IPv4 or IPv6 address (no name lookup), got ${describe(host)}`);
  }
  if (typeof port !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `port must be a number, got ${describe(port)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw codedRangeError('ERR_SOCKET_BAD_PORT', `port must be an integer in [0, 65535], got ${port}`);
  }
}
