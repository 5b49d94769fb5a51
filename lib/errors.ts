// Errors raised by the TypeScript layer. Each carries a Node-style `code`;
// errors from the kernel come from the addon with `code`, `errno` and `syscall`.

export type SelectorErrorCode =
  | 'ERR_INVALID_FD'
  | 'ERR_INVALID_EVENTS'
  | 'ERR_ALREADY_REGISTERED'
  | 'ERR_NOT_REGISTERED'
  | 'ERR_SELECTOR_CLOSED'
  | 'ERR_FD_OUT_OF_RANGE'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_UNSUPPORTED_TRIGGER'
  | 'ERR_UNSUPPORTED_EVENTS'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_INVALID_IP_ADDRESS'
  | 'ERR_SOCKET_BAD_PORT';

/** An error from the kernel, as Node reports system errors. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

type ErrorClass = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

function make<E extends Error>(Ctor: ErrorClass, code: SelectorErrorCode, message: string): E & { code: SelectorErrorCode } {
  const err = new Ctor(message) as E & { code: SelectorErrorCode };
  err.code = code;
  return err;
}

export function codedError(code: SelectorErrorCode, message: string): Error & { code: SelectorErrorCode } {
  return make(Error, code, message);
}

export function codedTypeError(code: SelectorErrorCode, message: string): TypeError & { code: SelectorErrorCode } {
  return make(TypeError, code, message);
}

export function codedRangeError(code: SelectorErrorCode, message: string): RangeError & { code: SelectorErrorCode } {
  return make(RangeError, code, message);
}

/** Checks that `fd` is a non-negative 32-bit integer. */
export function checkFd(fd: unknown, what = 'fd'): asserts fd is number {
  // The common case in a few instructions, so that it inlines into the
  // syscall wrappers; the rest only runs for a bad fd.
  if (typeof fd === 'number' && (fd | 0) === fd && fd >= 0) return;
  badFd(fd, what);
}

function badFd(fd: unknown, what: string): never {
  if (typeof fd !== 'number') {
    throw codedTypeError('ERR_INVALID_FD', `${what} must be a non-negative integer, got ${describe(fd)}`);
  }
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw codedRangeError('ERR_INVALID_FD', `${what} must be a non-negative integer, got ${fd}`);
  }
  throw new Error(`unreachable: ${fd} is a valid fd`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
