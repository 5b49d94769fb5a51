// The options of datagram endpoints (datagram.ts): their types, and the
// checks that make a contradiction (a path with a port, an address of the
// other family) a coded error before any socket is opened.
import { type CodedError, codedRangeError, codedTypeError, describe } from '../errors.js';
import { isIP } from 'node:net';
import type * as sys from '../sys/index.js';

/** Where a connected endpoint sends ({@link DatagramOptions.connect}): an IP address and port, or a Unix socket path. */
export type DatagramPeer =
  | {
      /** The peer's IP address (no name lookup). */
      host: string;
      /** The peer's UDP port. */
      port: number;
    }
  | {
      /** The path of the peer's Unix datagram socket. */
      path: string;
    };

/** Options of {@link openDatagram}. */
export interface DatagramOptions {
  /** The IP address to bind (no name lookup; an IPv6 address makes an IPv6 socket). Default
   * `'127.0.0.1'` (`'::1'` with family 6) when `port` is given; with neither, a UDP endpoint is
   * not bound, and the kernel gives it a free port of the wildcard address at its first send. */
  host?: string;
  /** The UDP port to bind; 0 picks a free one (read it back from {@link DatagramEndpoint.address}). */
  port?: number;
  /** A Unix datagram endpoint bound at this path (the socket file is removed when the endpoint
   * closes; a file already there is `EADDRINUSE`, never removed). */
  path?: string;
  /** 4 or 6 for UDP, `'unix'` for a Unix datagram socket; inferred from `host`, `path` or
   * `connect` when they say. Default 4. An unbound Unix client: `{ family: 'unix' }`. */
  family?: 4 | 6 | 'unix';
  /** Connects the socket to this peer: send() then takes no destination, only the peer's
   * datagrams are received, and ICMP errors of earlier sends (ECONNREFUSED: nobody at that
   * port) are reported to the error path. */
  connect?: DatagramPeer;
  /** SO_REUSEADDR before binding. */
  reuseAddr?: boolean;
  /** SO_BROADCAST: allow sends to a broadcast address. */
  broadcast?: boolean;
  /** The longest datagram delivered whole, the size of the receive buffer (default 64 KiB,
   * which holds any UDP datagram over IPv4). A longer one is not delivered: an
   * {@link DatagramTruncatedError} goes to the error path instead. */
  maxMessageSize?: number;
  /** The most bytes the send queue holds (default 1 MiB); a send() that would pass it
   * throws `ERR_DATAGRAM_QUEUE_FULL` and queues nothing. */
  maxQueuedBytes?: number;
  /** Called with the errors no call can throw, as asyncio's error_received: an ICMP error
   * (ECONNREFUSED), a {@link DatagramTruncatedError}, a queued datagram the kernel refused
   * (a {@link SystemError} whose `address`, and `port`, say where it was going). The endpoint
   * stays open. Default: the reactor's reportError. */
  onError?: (err: Error) => void;
}

/** Called with a copy of each datagram received (never a view of a reused buffer) and its
 * sender: `{ family, address, port }` for UDP, `{ family, path }` for a named Unix socket,
 * null for an unnamed one (an unbound Unix client: there is nowhere to reply). */
export type MessageHandler = (data: Uint8Array, address: sys.SocketAddress | null) => void;

/** A datagram longer than `maxMessageSize`, reported instead of delivered. */
export type DatagramTruncatedError = CodedError<'ERR_DATAGRAM_TRUNCATED'> & {
  /** Its first `limit` bytes (a copy); the rest is lost. */
  partial: Uint8Array;
  /** The sender, as {@link MessageHandler} gets it. */
  sender: sys.SocketAddress | null;
  /** The endpoint's maxMessageSize. */
  limit: number;
};

/** @internal A size option: an integer >= 1, or `fallback` when not given. */
export function checkSize(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `${what} must be an integer >= 1, got ${describe(value)}`);
  }
  return value;
}

/** @internal A boolean option, false when not given. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw codedTypeError('ERR_INVALID_ARG_TYPE', `${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** @internal An ERR_INVALID_ARG_VALUE TypeError. */
export const badValue = (message: string) => codedTypeError('ERR_INVALID_ARG_VALUE', message);

/** @internal Throws: `host` is not of the endpoint's IP family. */
export function badFamily(host: string, family: number): never {
  throw badValue(`${host} is not an IPv${family} address, and this endpoint is IPv${family}`);
}

/** @internal The endpoint's family, from what the options say; contradictions refused. */
export function datagramFamily(options: DatagramOptions): 4 | 6 | 'unix' {
  const { host, port, path, connect, family } = options;
  if (family !== undefined && family !== 4 && family !== 6 && family !== 'unix') {
    throw badValue(`family must be 4, 6 or 'unix', got ${describe(family)}`);
  }
  if (path !== undefined && (host !== undefined || port !== undefined)) {
    throw badValue('path binds a Unix endpoint: it takes no host or port');
  }
  const connectUnix = connect !== undefined && 'path' in connect;
  if (path !== undefined || connectUnix || family === 'unix') {
    if (host !== undefined || port !== undefined) throw badValue('a Unix endpoint takes a path, not a host or port');
    if (family !== undefined && family !== 'unix') throw badValue(`path makes a Unix endpoint, not IPv${family}`);
    if (connect !== undefined && !connectUnix) throw badValue('a Unix endpoint connects to { path }');
    return 'unix';
  }
  const hosts = [host, connect === undefined ? undefined : (connect as { host?: unknown }).host];
  let inferred: 4 | 6 | undefined = family;
  for (const h of hosts) {
    if (typeof h !== 'string') continue;
    const f = isIP(h);
    if (f === 0) continue; // refused with its own code where it is checked
    if (inferred !== undefined && f !== inferred) badFamily(h, inferred);
    inferred = f as 4 | 6;
  }
  return inferred ?? 4;
}
