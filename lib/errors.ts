// Every coded error the package throws, TypeScript and addon alike, and the
// only place that builds one. Each carries a Node-style `code`; errors from
// the kernel come from the addon (or systemError here) with `code` (the
// errno name), `errno` and `syscall`, as Node reports system errors.
//
// ERROR_CODES is the vocabulary: README's error table lists exactly these
// codes, and a test checks both that table and that every code the sources
// throw is listed here.
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/**
 * Every code the package gives its errors, with the error class it comes
 * as and when. Kernel errors (`EBADF`, ...) are not listed: their code is
 * the errno name (see {@link SystemError}).
 *
 * @example
 * ```ts
 * try {
 *   selector.unregister(fd);
 * } catch (err) {
 *   if ((err as CodedError).code !== 'ERR_NOT_REGISTERED') throw err;
 * }
 * ```
 */
export const ERROR_CODES = {
  // Selectors
  /** TypeError/RangeError: an fd (or fileobj) that is not a non-negative integer, or whose fileno() returns none. */
  ERR_INVALID_FD: 'TypeError/RangeError: an fd (or fileobj) that is not a non-negative integer, or whose fileno() returns none',
  /** RangeError: events 0, not an integer, or bits other than READ/WRITE/PRIORITY. */
  ERR_INVALID_EVENTS: 'RangeError: events 0, not an integer, or bits other than READ/WRITE/PRIORITY',
  /** Error: register of an fd already registered (selector), addHandler of an fd with a handler (reactor). */
  ERR_ALREADY_REGISTERED: 'Error: register of an fd already registered (selector), addHandler of an fd with a handler (reactor)',
  /** Error: unregister/modify/getKey of an fd not registered; updateHandler of an fd without a handler. */
  ERR_NOT_REGISTERED: 'Error: unregister/modify/getKey of an fd not registered; updateHandler of an fd without a handler',
  /** Error: any call but close on a closed selector. */
  ERR_SELECTOR_CLOSED: 'Error: any call but close on a closed selector',
  /** RangeError: SelectSelector given an fd >= FD_SETSIZE. */
  ERR_FD_OUT_OF_RANGE: 'RangeError: SelectSelector given an fd >= FD_SETSIZE',
  /** Error: a backend this build or kernel lacks, or NODE_SELECTORS_BACKEND naming one. */
  ERR_BACKEND_UNAVAILABLE: 'Error: a backend this build or kernel lacks, or NODE_SELECTORS_BACKEND naming one',
  /** Error: a trigger mode the backend cannot honour. */
  ERR_UNSUPPORTED_TRIGGER: 'Error: a trigger mode the backend cannot honour',
  /** Error: EVENT_PRIORITY where the backend cannot watch it. */
  ERR_UNSUPPORTED_EVENTS: 'Error: EVENT_PRIORITY where the backend cannot watch it',
  /** Error: the addon used out of order (a wait before its buffer is set, a watcher on a thread without an event loop). */
  ERR_INVALID_STATE: 'Error: the addon used out of order (a wait before its buffer is set, a watcher on a thread without an event loop)',
  // Arguments, everywhere
  /** TypeError: an argument of the wrong type (a timeout that is not a number, a callback that is not a function, ...). */
  ERR_INVALID_ARG_TYPE: 'TypeError: an argument of the wrong type (a timeout that is not a number, a callback that is not a function, ...)',
  /** TypeError/RangeError: an argument of the right type but a bad value (NaN, an unknown family, option or backend name, ...). */
  ERR_INVALID_ARG_VALUE: 'TypeError/RangeError: an argument of the right type but a bad value (NaN, an unknown family, option or backend name, ...)',
  /** RangeError: a number outside its range (offset/length outside the buffer, a negative count or timeout). */
  ERR_OUT_OF_RANGE: 'RangeError: a number outside its range (offset/length outside the buffer, a negative count or timeout)',
  // sys and sockets
  /** Error: a sys call this platform or build lacks (eventfd off Linux, ...); sys.supports(name) tells in advance. */
  ERR_NOT_SUPPORTED: 'Error: a sys call this platform or build lacks (eventfd off Linux, ...); sys.supports(name) tells in advance',
  /** TypeError: a host that is not an IP address. */
  ERR_INVALID_IP_ADDRESS: 'TypeError: a host that is not an IP address',
  /** RangeError: a port outside 0..65535. */
  ERR_SOCKET_BAD_PORT: 'RangeError: a port outside 0..65535',
  /** Error: connect() on a ReactorSocket already connected or connecting. */
  ERR_SOCKET_CONNECTING: 'Error: connect() on a ReactorSocket already connected or connecting',
  /** Error: connect() on a destroyed ReactorSocket. */
  ERR_SOCKET_CLOSED: 'Error: connect() on a destroyed ReactorSocket',
  /** Error: a ReactorSocket write still pending when the socket was destroyed. */
  ERR_STREAM_DESTROYED: 'Error: a ReactorSocket write still pending when the socket was destroyed',
  // Reactor
  /** Error: a call that adds work to a closed reactor (addHandler, callSoon, callLater, run, attach, spawn, stream, listen, a wait). */
  ERR_REACTOR_CLOSED: 'Error: a call that adds work to a closed reactor (addHandler, callSoon, callLater, run, attach, spawn, stream, listen, a wait)',
  /** Error: run() or attach() while run() is running. */
  ERR_REACTOR_RUNNING: 'Error: run() or attach() while run() is running',
  /** Error: run() on an attached reactor. */
  ERR_REACTOR_ATTACHED: 'Error: run() on an attached reactor',
  /** Error: work that only Node's loop can carry, on a reactor not attached to it, which would never end: an await on a wait (readable, writable, sleep, a stream operation) of an idle reactor; a ReactorSocket's connect() or wrapped fd; an async listen() handler under run(). */
  ERR_REACTOR_NOT_RUNNING: "Error: work that only Node's loop can carry, on a reactor not attached to it, which would never end: an await on a wait (readable, writable, sleep, a stream operation) of an idle reactor; a ReactorSocket's connect() or wrapped fd; an async listen() handler under run()",
  // Coroutines
  /** Error: a second reader (or writer) waiting on the same fd. */
  ERR_ALREADY_WAITING: 'Error: a second reader (or writer) waiting on the same fd',
  /** CancelledError: thrown into a cancelled task where it waits, and by its result. */
  ERR_TASK_CANCELLED: 'CancelledError: thrown into a cancelled task where it waits, and by its result',
  /** Error: result() of a future that is not done. */
  ERR_TASK_PENDING: 'Error: result() of a future that is not done',
  /** Error: a coroutine yielded something it cannot wait for (or a task itself). */
  ERR_INVALID_YIELD: 'Error: a coroutine yielded something it cannot wait for (or a task itself)',
  /** Error: withTimeout() gave up on a task that did not finish in time (the task is cancelled). */
  ERR_TIMEOUT: 'Error: withTimeout() gave up on a task that did not finish in time (the task is cancelled)',
  // Streams
  /** Error: an FdStream operation after close(), and readers waiting when it closed. */
  ERR_STREAM_CLOSED: 'Error: an FdStream operation after close(), and readers waiting when it closed',
  /** IncompleteReadError: readExactly/readUntil met end of stream first. */
  ERR_STREAM_EOF: 'IncompleteReadError: readExactly/readUntil met end of stream first',
  /** LimitExceededError: readUntil found no delimiter within maxBytes. */
  ERR_STREAM_LIMIT: 'LimitExceededError: readUntil found no delimiter within maxBytes',
  /** Error: an FdStream closed by its idle timeout (setTimeout, TcpServer idleTimeout), to its waiting operations. */
  ERR_STREAM_TIMEOUT: 'Error: an FdStream closed by its idle timeout (setTimeout, TcpServer idleTimeout), to its waiting operations',
  // Datagram endpoints
  /** Error: send() on a DatagramEndpoint whose queue would pass its maxQueuedBytes (the datagram is not queued). */
  ERR_DATAGRAM_QUEUE_FULL: 'Error: send() on a DatagramEndpoint whose queue would pass its maxQueuedBytes (the datagram is not queued)',
  /** Error: a datagram longer than a DatagramEndpoint's maxMessageSize, reported instead of delivered (its first bytes in `partial`). */
  ERR_DATAGRAM_TRUNCATED: "Error: a datagram longer than a DatagramEndpoint's maxMessageSize, reported instead of delivered (its first bytes in `partial`)",
  /** Error: send() or address() on a closed DatagramEndpoint; its drain() when queued datagrams were dropped (abort(), the reactor closed). */
  ERR_DATAGRAM_CLOSED: 'Error: send() or address() on a closed DatagramEndpoint; its drain() when queued datagrams were dropped (abort(), the reactor closed)',
  // Signals
  /** TypeError: a signal name or number the platform does not have (addSignalHandler, removeSignalHandler). */
  ERR_UNKNOWN_SIGNAL: 'TypeError: a signal name or number the platform does not have (addSignalHandler, removeSignalHandler)',
  /** Error: addSignalHandler of a signal no handler may take: SIGKILL, SIGSTOP, or a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL). */
  ERR_SIGNAL_UNCATCHABLE: 'Error: addSignalHandler of a signal no handler may take: SIGKILL, SIGSTOP, or a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL)',
  /** Error: addSignalHandler when 64 reactors of the process (over all threads) handle signals already. */
  ERR_SIGNAL_CHANNELS_EXHAUSTED: 'Error: addSignalHandler when 64 reactors of the process (over all threads) handle signals already',
  // Inboxes
  /** Error: postToInbox to an inbox that was closed (or its reactor's selector closed), in the posting thread. */
  ERR_INBOX_CLOSED: "Error: postToInbox to an inbox that was closed (or its reactor's selector closed), in the posting thread",
  /** Error: postToInbox when the message would take the inbox's queued bytes past its maxQueuedBytes; nothing is queued. */
  ERR_INBOX_FULL: "Error: postToInbox when the message would take the inbox's queued bytes past its maxQueuedBytes; nothing is queued",
} as const;

/** Every code the package gives its errors (see ERROR_CODES). */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An Error, TypeError or RangeError with one of the package's codes.
 * @property code - One of {@link ERROR_CODES}.
 */
export type CodedError<C extends ErrorCode = ErrorCode, E extends Error = Error> = E & { code: C };

/** @deprecated Use ErrorCode: the selector's codes are part of it. */
export type SelectorErrorCode = Extract<
  ErrorCode,
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
  | 'ERR_SOCKET_BAD_PORT'
>;

/** @deprecated Use ErrorCode: the reactor's codes are part of it. */
export type ReactorErrorCode = Extract<
  ErrorCode,
  | 'ERR_REACTOR_CLOSED'
  | 'ERR_REACTOR_RUNNING'
  | 'ERR_REACTOR_ATTACHED'
  | 'ERR_ALREADY_WAITING'
  | 'ERR_TASK_CANCELLED'
  | 'ERR_TASK_PENDING'
  | 'ERR_INVALID_YIELD'
  | 'ERR_STREAM_CLOSED'
  | 'ERR_STREAM_EOF'
  | 'ERR_STREAM_LIMIT'
>;

/** @deprecated Use CodedError. */
export type ReactorError = CodedError<ReactorErrorCode>;

/**
 * An error from the kernel, as Node reports system errors: message
 * `EBADF: bad file descriptor, epoll_ctl` (or, for a connect,
 * `connect ECONNREFUSED 127.0.0.1:3306`).
 */
export interface SystemError extends Error {
  /** The errno name: `'EBADF'`, `'ECONNREFUSED'`, ... */
  code: string;
  /** The errno as Node gives it: negative (`-9` for EBADF on Linux). */
  errno: number;
  /** The call that failed: `'epoll_ctl'`, `'connect'`, ... */
  syscall: string;
  /** The remote address of a failed connect, as net.Socket's errors have. */
  address?: string;
  /** The remote port of a failed connect. */
  port?: number;
}

function make<C extends ErrorCode, E extends Error>(err: E, code: C): CodedError<C, E> {
  (err as CodedError<C, E>).code = code;
  return err as CodedError<C, E>;
}

/** @internal An Error with `code`. */
export function codedError<C extends ErrorCode>(code: C, message: string): CodedError<C> {
  return make(new Error(message), code);
}

/** @internal A TypeError with `code`. */
export function codedTypeError<C extends ErrorCode>(code: C, message: string): CodedError<C, TypeError> {
  return make(new TypeError(message), code);
}

/** @internal A RangeError with `code`. */
export function codedRangeError<C extends ErrorCode>(code: C, message: string): CodedError<C, RangeError> {
  return make(new RangeError(message), code);
}

// Node's errno table (negative errno -> [name, description]), read once.
let errnoNames: Map<number, [string, string]> | undefined;

/** @internal A Node-style system error from a positive errno, as net.Socket builds one:
 * `connect ECONNREFUSED 127.0.0.1:3306` with code, errno (negative), syscall,
 * and address and port when given. */
export function systemError(errno: number, syscall: string, address?: string, port?: number): SystemError {
  errnoNames ??= getSystemErrorMap();
  const [code] = errnoNames.get(-errno) ?? [`Unknown system error ${errno}`];
  const where = address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err = new Error(`${syscall} ${code}${where}`) as SystemError;
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/** @internal What net.Socket reports for a write after the peer's FIN ended
 * a socket without allowHalfOpen (and its writable side with it): code
 * `EPIPE`, message `This socket has been ended by the other party`. */
export function endedByPeerError(): SystemError {
  const err = new Error('This socket has been ended by the other party') as SystemError;
  err.code = 'EPIPE';
  err.errno = -constants.errno.EPIPE;
  err.syscall = 'write';
  return err;
}

/** Thrown into a task at the point where it waits when the task is cancelled,
 * and by the task's result afterwards. */
export class CancelledError extends Error {
  /** Always `'ERR_TASK_CANCELLED'`. */
  readonly code = 'ERR_TASK_CANCELLED' as const;
  /**
   * A cancellation, with `message`.
   * @param message - What {@link Task.cancel} was given, or a default.
   */
  constructor(message = 'the task was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** readExactly() or readUntil() met end of stream first; `partial` holds
 * what did arrive; `expected` is the byte count asked for (-1: a delimiter). */
export class IncompleteReadError extends Error {
  /** Always `'ERR_STREAM_EOF'`. */
  readonly code = 'ERR_STREAM_EOF' as const;
  /**
   * An end of stream met after `partial.length` of `expected` bytes.
   * @param partial - The bytes that did arrive before end of stream.
   * @param expected - The byte count asked for, or -1 when a delimiter was.
   */
  constructor(readonly partial: Uint8Array, readonly expected: number) {
    super(
      expected < 0
        ? `end of stream before the delimiter, after ${partial.length} bytes`
        : `end of stream after ${partial.length} of ${expected} bytes`,
    );
    this.name = 'IncompleteReadError';
  }
}

/** readUntil() found no delimiter within its byte limit. */
export class LimitExceededError extends Error {
  /** Always `'ERR_STREAM_LIMIT'`. */
  readonly code = 'ERR_STREAM_LIMIT' as const;
  /**
   * No delimiter within `limit` bytes.
   * @param limit - The `maxBytes` given to readUntil: bytes buffered without a delimiter.
   */
  constructor(readonly limit: number) {
    super(`no delimiter within the first ${limit} bytes`);
    this.name = 'LimitExceededError';
  }
}

/** @internal The error of a sys call this platform or build lacks:
 * `ERR_NOT_SUPPORTED`, naming the call and the platform. */
export function notSupported(call: string): CodedError<'ERR_NOT_SUPPORTED'> {
  return codedError('ERR_NOT_SUPPORTED', `sys.${call} is not supported on ${process.platform}: this build of the addon has no ${call} (see sys.supports)`);
}

/** @internal Checks that `fd` is a non-negative 32-bit integer. */
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

/** @internal Checks that `fn` is a function (ERR_INVALID_ARG_TYPE names it `what`). */
export function checkCallback(fn: unknown, what: string): asserts fn is (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a function, got ${describe(fn)}`);
}

/** @internal Checks a duration argument or option (ms): a number
 * (ERR_INVALID_ARG_TYPE), not NaN (ERR_INVALID_ARG_VALUE), finite and >= `min`
 * (ERR_OUT_OF_RANGE); `what` names it. */
export function checkDuration(ms: unknown, what: string, min: number): number {
  if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a number, got ${describe(ms)}`);
  if (Number.isNaN(ms)) throw codedRangeError('ERR_INVALID_ARG_VALUE', `${what} must not be NaN`);
  if (!(ms >= min) || ms === Infinity) throw codedRangeError('ERR_OUT_OF_RANGE', `${what} must be a finite number ${min === 0 ? '>= 0' : '> 0'}, got ${ms}`);
  return ms;
}

/** @internal A short description of a bad argument, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
