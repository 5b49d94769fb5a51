// What a ReactorSocket is given: its constructor's options, where connect()
// goes (its arguments normalized as net.Socket's are), what address()
// returns, and what connecting or wrapping an fd needs first: a reactor
// attached to Node's event loop.
import type { DuplexOptions } from 'node:stream';
import { codedError, codedRangeError, codedTypeError, describe } from '../errors.js';
import * as sys from '../sys/index.js';
import type { ReactorCore } from './core.js';

/**
 * Options of `new ReactorSocket(options)`; `allowHalfOpen` (default false, as
 * net.Socket's), `readableHighWaterMark` and `writableHighWaterMark` are
 * node:stream's.
 */
export interface ReactorSocketOptions extends Pick<DuplexOptions, 'allowHalfOpen' | 'readableHighWaterMark' | 'writableHighWaterMark'> {
  /** The reactor that watches the fd. It must be attached (`reactor.attach()`)
   * before connect() or wrapping an fd: the stream's events go through
   * Node's loop, which run() does not let turn. */
  reactor: ReactorCore;
  /** An open, connected, non-blocking socket to wrap (an accepted
   * connection, one half of a socketpair): the stream owns it from now on
   * and closes it when destroyed. Without it, call connect(). */
  fd?: number;
}

/** Where `ReactorSocket.connect` connects over TCP. */
export interface TcpConnectOptions {
  /** The TCP port, 0..65535. */
  port: number;
  /** An IP address or a name (resolved with dns.lookup); default 'localhost'. */
  host?: string;
  /** 4 or 6: the address family a name resolves to. */
  family?: number;
}

/** Where `ReactorSocket.connect` connects over a Unix socket. */
export interface UnixConnectOptions {
  /** A Unix socket path. */
  path: string;
}

/** Where `ReactorSocket.connect` connects: a TCP port or a Unix socket path. */
export type ConnectOptions = TcpConnectOptions | UnixConnectOptions;

/** What `ReactorSocket.address()` returns for a TCP socket. */
export interface AddressInfo {
  /** The IP address. */
  address: string;
  /** `'IPv4'` or `'IPv6'`. */
  family: string;
  /** The port. */
  port: number;
}

/** @internal `'IPv4'`, `'IPv6'` or `'Unix'` for an address family. */
export function familyName(family: number): string {
  return family === sys.AF_INET6 ? 'IPv6' : family === sys.AF_INET ? 'IPv4' : 'Unix';
}

/** @internal ERR_REACTOR_NOT_RUNNING for `what` on a reactor not attached.
 * A ReactorSocket's stream events (resume, 'end', 'close', write callbacks)
 * go through process.nextTick, which only Node's loop turns: the reactor
 * must be attached, not idle and not inside run(). */
export function notAttachedError(what: string): Error {
  return codedError(
    'ERR_REACTOR_NOT_RUNNING',
    `${what} on a reactor that is not attached would never make progress: call reactor.attach() first ` +
      "(a ReactorSocket lives on Node's event loop, which run() holds up until it returns)",
  );
}

/** @internal Throws unless `reactor` is attached (ERR_REACTOR_CLOSED when it is closed). */
export function checkAttached(reactor: ReactorCore, what: string): void {
  if (reactor.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
  if (!reactor.attached) throw notAttachedError(what);
}

/** @internal connect()'s arguments as options and a listener. */
export function normalizeConnectArgs(args: unknown[]): [ConnectOptions, (() => void) | undefined] {
  const last = args[args.length - 1];
  const listener = typeof last === 'function' ? (last as () => void) : undefined;
  const [first, second] = args;
  let options: ConnectOptions;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    options = { port: Number(first), ...(typeof second === 'string' ? { host: second } : {}) };
  } else if (typeof first === 'string') {
    options = { path: first };
  } else if (first !== null && typeof first === 'object') {
    options = first as ConnectOptions;
  } else {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `connect() takes options, a port or a path, got ${describe(first)}`);
  }
  if ('path' in options && typeof options.path === 'string') return [options, listener];
  const port = (options as TcpConnectOptions).port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw codedRangeError('ERR_SOCKET_BAD_PORT', `port must be an integer in [0, 65535], got ${describe(port)}`);
  }
  return [options, listener];
}
