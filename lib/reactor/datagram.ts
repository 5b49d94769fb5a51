// Datagram endpoints on the reactor (asyncio's create_datagram_endpoint):
// UDP over IPv4 and IPv6, and Unix datagram sockets, with a message
// callback that gets a copy of each datagram and its sender's address.
//
// send() hands a datagram to the kernel at once when nothing is queued; when
// the kernel is full (sendto says -1) the datagram is queued with its
// destination and goes out, in order, once the fd is writable. The queue is
// bounded (ERR_DATAGRAM_QUEUE_FULL at the call): nothing is ever dropped
// silently. Linux reports an unconnected Unix datagram socket writable even
// while its destination's queue is full (the kernel only tracks a connected
// peer): a writable event that sends nothing makes the flush retry on a
// timer instead, 1 ms then doubling up to 100 ms, rather than spin.
//
// Errors that are no one call's (asyncio's error_received): an ICMP error
// surfacing on a connected UDP socket (ECONNREFUSED), a truncated datagram,
// a queued datagram the kernel refused: to the onError option, else to the
// reactor's reportError. The endpoint stays open.
//
// A layer on the core (addHandler, updateHandler, removeHandler, callLater,
// reportError, the 'close' event) and on coroutines' Deferred for drain().
import { unlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkCallback, codedError, codedTypeError, describe, type SystemError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../selector.js';
import * as sys from '../sys/index.js';
import { checkAddress } from '../sys/checks.js';
import type { ReactorCore } from './core.js';
import { Deferred, type Future } from './coroutines.js';
import {
  badFamily,
  badValue,
  checkBoolean,
  checkSize,
  datagramFamily,
  type DatagramOptions,
  type DatagramTruncatedError,
  type MessageHandler,
} from './datagram-options.js';
import type { Handle } from './timers.js';

export type { DatagramOptions, DatagramPeer, DatagramTruncatedError, MessageHandler } from './datagram-options.js';

const READS_PER_PASS = 64;
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 100;
const encoder = new TextEncoder();

interface Queued {
  data: Uint8Array;
  host: string | undefined;
  port: number | undefined;
}

// The endpoints open on each loop, closed with it: one 'close' listener per loop.
const openOnLoop = new WeakMap<ReactorCore, Set<DatagramEndpoint>>();


/**
 * A datagram socket on a reactor (asyncio's DatagramTransport): UDP over IPv4 or IPv6, or a
 * Unix datagram socket. Made by {@link openDatagram} (or {@link Reactor.openDatagram}); works
 * under run() as under attach().
 *
 * - Receiving: `onMessage(data, address)` for each datagram, with a copy of its bytes.
 * - Sending: {@link send} hands the datagram to the kernel, or, when the kernel is full,
 *   queues it (bounded by `maxQueuedBytes`) and sends it once the fd is writable, in order.
 * - Errors of no call (ICMP, truncation, a queued datagram refused) go to `onError`, or the
 *   reactor's reportError; the endpoint stays open.
 * - {@link close} stops receiving at once and closes the fd once the queue is sent;
 *   {@link abort} drops the queue and closes at once. Closing the reactor aborts it.
 *
 * @example
 * ```ts
 * const echo = openDatagram(reactor, { port: 0 }, (data, from) => {
 *   if (from !== null && 'port' in from) echo.send(data, from.address, from.port);
 * });
 * ```
 */
export class DatagramEndpoint {
  /** The socket's fd (non-blocking); the endpoint owns it. */
  readonly fd: number;
  /** Whether it was connected (the `connect` option): send() then takes no destination. */
  readonly connected: boolean;
  /** The largest datagram delivered whole (bytes). */
  readonly maxMessageSize: number;
  /** The most bytes the send queue holds. */
  readonly maxQueuedBytes: number;
  readonly #loop: ReactorCore;
  readonly #onMessage: MessageHandler;
  readonly #onError: ((err: Error) => void) | null;
  readonly #unix: boolean;
  readonly #ipFamily: 4 | 6 | 0;
  readonly #boundPath: string | null;
  #buf: Uint8Array | null = null;
  #queue: Queued[] = [];
  #queued = 0;
  #receiving = true;
  #waitWrite = false;
  #interest = 0; // what the handler is registered for now (0: no handler)
  #retry: Handle | null = null;
  #retryMs = RETRY_FIRST_MS;
  #closing = false;
  #closed = false;
  #drained: Deferred<void> | null = null;
  readonly #handler = (_fd: number, events: number): void => {
    if ((events & EVENT_WRITE) !== 0) this.#onWritable();
    if ((events & EVENT_READ) !== 0 && this.#receiving) this.#readAll();
  };

  /**
   * Opens, binds and connects the socket as `options` say; receiving starts with the reactor.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `loop` is not a reactor, `onMessage` or `onError` not a function,
   * `options` not an object, or a boolean option not a boolean.
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when the options contradict each other (`path`
   * with `host` or `port`, a family the address is not of, a Unix peer for a UDP endpoint, ...).
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `maxMessageSize` or `maxQueuedBytes` is not an integer >= 1.
   * @throws `ERR_INVALID_IP_ADDRESS`, `ERR_SOCKET_BAD_PORT`, `ERR_INVALID_ARG_VALUE`: as {@link sys.bind}, for a bad address.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws {@link SystemError} when the kernel refuses (`EADDRINUSE`, `EACCES`, `ENOENT` no
   * socket at the Unix peer's path, `EMFILE`, ...); no fd is left open, no file left behind.
   */
  constructor(loop: ReactorCore, options: DatagramOptions, onMessage: MessageHandler) {
    if (loop === null || typeof loop !== 'object' || typeof (loop as Partial<ReactorCore>).addHandler !== 'function') {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `the loop must be a Reactor, got ${describe(loop)}`);
    }
    checkCallback(onMessage, 'onMessage');
    if (typeof options !== 'object' || options === null) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    }
    if (options.onError !== undefined) checkCallback(options.onError, 'onError');
    const reuseAddr = checkBoolean(options.reuseAddr, 'reuseAddr');
    const broadcast = checkBoolean(options.broadcast, 'broadcast');
    this.maxMessageSize = checkSize(options.maxMessageSize, 'maxMessageSize', 64 * 1024);
    this.maxQueuedBytes = checkSize(options.maxQueuedBytes, 'maxQueuedBytes', 1024 * 1024);
    const { host, port, path, connect } = options;
    if (connect !== undefined && (typeof connect !== 'object' || connect === null)) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `connect must be { host, port } or { path }, got ${describe(connect)}`);
    }
    const family = datagramFamily(options);
    this.#unix = family === 'unix';
    this.#ipFamily = family === 'unix' ? 0 : family;
    // Every address checked before the socket exists: bad input opens nothing.
    let bindHost: string | undefined;
    let bindPort: number | undefined;
    if (path !== undefined) {
      checkAddress(path, undefined);
      bindHost = path;
    } else if (host !== undefined || port !== undefined) {
      bindHost = host ?? (family === 6 ? '::1' : '127.0.0.1');
      bindPort = port ?? 0;
      checkAddress(bindHost, bindPort);
    }
    if (connect !== undefined) {
      if ('path' in connect) checkAddress(connect.path, undefined);
      else checkAddress(connect.host, connect.port);
    }
    if (loop.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
    this.#loop = loop;
    this.#onMessage = onMessage;
    this.#onError = options.onError ?? null;
    this.connected = connect !== undefined;
    const fd = sys.socket(this.#unix ? sys.AF_UNIX : family === 6 ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_DGRAM);
    let bound: string | null = null;
    try {
      if (reuseAddr) sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
      if (broadcast) sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_BROADCAST, true);
      if (bindHost !== undefined) {
        sys.bind(fd, bindHost, bindPort);
        if (bindPort === undefined && !bindHost.startsWith('\0')) bound = bindHost;
      }
      if (connect !== undefined) {
        if ('path' in connect) sys.connect(fd, connect.path);
        else sys.connect(fd, connect.host, connect.port);
      }
      loop.addHandler(fd, this.#handler, EVENT_READ);
    } catch (err) {
      sys.close(fd);
      if (bound !== null) removeFile(bound);
      throw err;
    }
    this.fd = fd;
    this.#boundPath = bound;
    this.#interest = EVENT_READ;
    let open = openOnLoop.get(loop);
    if (open === undefined) {
      const endpoints = new Set<DatagramEndpoint>();
      open = endpoints;
      openOnLoop.set(loop, endpoints);
      loop.once('close', () => {
        openOnLoop.delete(loop);
        for (const endpoint of endpoints) endpoint.#abortWithLoop();
      });
    }
    open.add(this);
  }

  /** Bytes queued for sending, not yet accepted by the kernel. */
  get writeQueueSize(): number {
    return this.#queued;
  }

  /** Datagrams queued for sending, not yet accepted by the kernel. */
  get writeQueueLength(): number {
    return this.#queue.length;
  }

  /** Whether it is closed: its fd released (after close() once the queue is sent, or after abort()). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `data` as one datagram: to `host` and `port` (UDP), to the Unix socket at path `host`
   * (Unix, no port), or, connected, to the peer (no destination). The kernel takes it at once
   * (true) unless it is full or datagrams are queued already: then a copy is queued and sent in
   * order once the fd is writable (false); one queue for every destination, so a datagram
   * waits behind those queued before it. Never dropped silently: a queued datagram the kernel
   * refuses when its turn comes goes to the error path.
   * @param data - Bytes, or a string (UTF-8).
   * @returns Whether the kernel took it now (false: queued).
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `data` is neither a Uint8Array nor a string,
   * or a destination is missing (an endpoint not connected).
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError/RangeError) for a destination given to a connected endpoint,
   * a port given to a Unix endpoint, an address of the other IP family, or a bad Unix path.
   * @throws `ERR_INVALID_IP_ADDRESS` (TypeError), `ERR_SOCKET_BAD_PORT` (RangeError): as {@link sys.sendto}.
   * @throws `ERR_DATAGRAM_QUEUE_FULL` (Error) when queueing it would pass `maxQueuedBytes`: nothing is queued.
   * @throws `ERR_DATAGRAM_CLOSED` (Error) after close() or abort().
   * @throws {@link SystemError} when the kernel refuses it at once (`EMSGSIZE` too long,
   * `ENOENT`/`ECONNREFUSED` no socket at the Unix path, `EACCES` a broadcast without `broadcast`, ...).
   */
  send(data: Uint8Array | string, host?: string, port?: number): boolean {
    if (this.#closing) throw codedError('ERR_DATAGRAM_CLOSED', 'the datagram endpoint is closed');
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `data must be a Uint8Array or a string, got ${describe(data)}`);
    }
    this.#checkDestination(host, port);
    if (this.#queue.length === 0 && this.#sendOne(bytes, host, port) >= 0) return true;
    if (this.#queued + bytes.length > this.maxQueuedBytes) {
      throw codedError(
        'ERR_DATAGRAM_QUEUE_FULL',
        `the send queue holds ${this.#queued} bytes; ${bytes.length} more would pass maxQueuedBytes (${this.maxQueuedBytes})`,
      );
    }
    // A copy: the caller may reuse its buffer once send() returns.
    this.#queue.push({ data: bytes.slice(), host, port });
    this.#queued += bytes.length;
    if (!this.#waitWrite && this.#retry === null) {
      this.#waitWrite = true;
      this.#applyInterest();
    }
    return false;
  }

  /** Settles once nothing is queued (at once if nothing is): yield it in a coroutine or await it.
   * Fails with `ERR_DATAGRAM_CLOSED` when queued datagrams were dropped ({@link abort}, the reactor closed). */
  drain(): Future<void> {
    const d = this.#drained ?? new Deferred<void>();
    if (this.#queue.length === 0) d.resolve();
    else this.#drained = d;
    return d;
  }

  /** The socket's own address ({@link sys.getsockname}): `{ family, address, port }`, or
   * `{ family, path }` (`''` for an unbound Unix socket).
   * @throws `ERR_DATAGRAM_CLOSED` (Error) once it is closed. */
  address(): sys.SocketAddress {
    if (this.#closed) throw codedError('ERR_DATAGRAM_CLOSED', 'the datagram endpoint is closed');
    return sys.getsockname(this.fd);
  }

  /** Stops receiving at once; the fd is closed (and a socket file it bound removed) once every
   * queued datagram is sent, at once when none is. Idempotent. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#receiving = false;
    if (this.#queue.length === 0) this.#release(null);
    else this.#applyInterest();
  }

  /** Closes at once: queued datagrams are dropped (a waiting {@link drain} fails with
   * `ERR_DATAGRAM_CLOSED`). Returns how many were dropped. */
  abort(): number {
    if (this.#closed) return 0;
    const dropped = this.#queue.length;
    this.#closing = true;
    this.#receiving = false;
    this.#release(dropped === 0 ? null : codedError('ERR_DATAGRAM_CLOSED', `the endpoint was aborted with ${dropped} datagrams unsent`));
    return dropped;
  }

  // The reactor closed under it: what was queued is dropped, and said so.
  #abortWithLoop(): void {
    const dropped = this.#queue.length;
    this.abort();
    if (dropped > 0) this.#report(codedError('ERR_DATAGRAM_CLOSED', `the reactor closed with ${dropped} datagrams unsent`));
  }

  #checkDestination(host: string | undefined, port: number | undefined): void {
    if (this.connected) {
      if (host !== undefined || port !== undefined) {
        throw badValue('a connected endpoint sends to its peer: send(data) takes no host or port');
      }
      return;
    }
    if (this.#unix) {
      if (port !== undefined) throw badValue(`a Unix endpoint sends to a path, without a port; got port ${describe(port)}`);
      checkAddress(host, undefined);
      return;
    }
    if (typeof host !== 'string') throw codedTypeError('ERR_INVALID_ARG_TYPE', `host must be a string, got ${describe(host)}`);
    if (port === undefined) throw codedTypeError('ERR_INVALID_ARG_TYPE', 'port must be a number, got undefined');
    checkAddress(host, port);
    if (isIP(host) !== this.#ipFamily) badFamily(host, this.#ipFamily);
  }

  // One datagram to the kernel: bytes sent, or -1 when it is full. On a UDP
  // socket, ECONNREFUSED is an earlier datagram's ICMP error, not this one's:
  // reported, and this one sent again.
  #sendOne(data: Uint8Array, host: string | undefined, port: number | undefined): number {
    try {
      return host === undefined ? sys.send(this.fd, data) : sys.sendto(this.fd, data, host, port);
    } catch (err) {
      if (this.#unix || (err as { code?: unknown }).code !== 'ECONNREFUSED') throw err;
      this.#report(err);
      if (this.#closed) throw codedError('ERR_DATAGRAM_CLOSED', 'the datagram endpoint was closed by its error handler');
      return host === undefined ? sys.send(this.fd, data) : sys.sendto(this.fd, data, host, port);
    }
  }

  // Sends what the kernel takes of the queue; returns how many were taken or refused.
  #flush(): number {
    let done = 0;
    while (this.#queue.length > 0 && !this.#closed) {
      const head = this.#queue[0]!;
      let n: number;
      try {
        n = this.#sendOne(head.data, head.host, head.port);
      } catch (err) {
        this.#dequeue();
        done++;
        const e = err as SystemError;
        if (head.host !== undefined && typeof e === 'object' && e !== null) {
          e.address ??= head.host;
          if (head.port !== undefined) e.port ??= head.port;
        }
        this.#report(err);
        continue;
      }
      if (n < 0) break;
      this.#dequeue();
      done++;
    }
    return done;
  }

  #dequeue(): void {
    const head = this.#queue.shift();
    if (head !== undefined) this.#queued -= head.data.length;
  }

  #onWritable(): void {
    const done = this.#flush();
    if (this.#closed) return;
    if (this.#queue.length === 0) return this.#drainedNow();
    if (done === 0) {
      // Writable, yet nothing went: an unconnected Unix socket whose
      // destination is full. Retry on a timer rather than spin.
      this.#waitWrite = false;
      this.#applyInterest();
      this.#retryMs = RETRY_FIRST_MS;
      this.#scheduleRetry();
    }
  }

  #scheduleRetry(): void {
    this.#retry = this.#loop.callLater(this.#retryMs, () => {
      this.#retry = null;
      if (this.#closed) return;
      const done = this.#flush();
      if (this.#closed) return;
      if (this.#queue.length === 0) return this.#drainedNow();
      if (done > 0) {
        this.#waitWrite = true;
        this.#applyInterest();
      } else {
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
        this.#scheduleRetry();
      }
    });
  }

  #drainedNow(): void {
    this.#waitWrite = false;
    const d = this.#drained;
    this.#drained = null;
    if (this.#closing) this.#release(null);
    else this.#applyInterest();
    d?.resolve();
  }

  // Registers the handler for what is wanted now: reading unless closing,
  // writability while the queue waits for it.
  #applyInterest(): void {
    if (this.#closed) return;
    const want = (this.#receiving ? EVENT_READ : 0) | (this.#waitWrite ? EVENT_WRITE : 0);
    if (want === this.#interest) return;
    if (want === 0) this.#loop.removeHandler(this.fd);
    else if (this.#interest === 0) this.#loop.addHandler(this.fd, this.#handler, want);
    else this.#loop.updateHandler(this.fd, want);
    this.#interest = want;
  }

  #readAll(): void {
    const buf = (this.#buf ??= new Uint8Array(this.maxMessageSize));
    for (let i = 0; i < READS_PER_PASS && this.#receiving; i++) {
      let got: sys.Datagram | null;
      try {
        got = sys.recvfrom(this.fd, buf);
      } catch (err) {
        // An ICMP error on a connected socket (ECONNREFUSED), read once.
        this.#report(err);
        return;
      }
      if (got === null) return;
      if (got.truncated) {
        const err = codedError(
          'ERR_DATAGRAM_TRUNCATED',
          `a datagram longer than maxMessageSize (${this.maxMessageSize} bytes) was received; its first bytes are in partial`,
        ) as DatagramTruncatedError;
        err.partial = buf.slice(0, got.bytes);
        err.sender = got.address;
        err.limit = this.maxMessageSize;
        this.#report(err);
        continue;
      }
      try {
        this.#onMessage(buf.slice(0, got.bytes), got.address);
      } catch (err) {
        this.#loop.reportError(err);
      }
    }
  }

  #report(err: unknown): void {
    if (this.#onError === null) return this.#loop.reportError(err);
    try {
      this.#onError(err as Error);
    } catch (listenerError) {
      this.#loop.reportError(listenerError);
    }
  }

  #release(dropped: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#receiving = false;
    this.#retry?.cancel();
    this.#retry = null;
    this.#queue = [];
    this.#queued = 0;
    if (this.#interest !== 0) this.#loop.removeHandler(this.fd);
    this.#interest = 0;
    sys.close(this.fd);
    if (this.#boundPath !== null) removeFile(this.#boundPath);
    this.#buf = null;
    openOnLoop.get(this.#loop)?.delete(this);
    const d = this.#drained;
    this.#drained = null;
    if (d !== null) {
      if (dropped === null) d.resolve();
      else d.reject(dropped);
    }
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already: nothing to remove
  }
}

/**
 * Opens a datagram endpoint on `loop` (see {@link DatagramEndpoint}): UDP (`host`, `port`, or
 * neither for a client), or Unix (`path`, or `family: 'unix'` for an unbound client), optionally
 * connected to one peer. `onMessage` gets a copy of each datagram and its sender (null for an
 * unnamed Unix socket). The same as {@link Reactor.openDatagram}.
 * @throws The errors of the {@link DatagramEndpoint} constructor.
 *
 * @example
 * ```ts
 * const server = openDatagram(reactor, { port: 0 }, (data, from) => {
 *   if (from !== null && 'port' in from) server.send(data, from.address, from.port); // echo
 * });
 * ```
 */
export function openDatagram(loop: ReactorCore, options: DatagramOptions, onMessage: MessageHandler): DatagramEndpoint {
  return new DatagramEndpoint(loop, options, onMessage);
}
