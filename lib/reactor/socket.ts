// A node:stream Duplex over a socket fd that a Reactor drives: the piece that
// lets Node's protocol clients (mysql2 through its `stream` option, node:http
// through `createConnection`, anything written against net.Socket's stream
// surface) run over node-selectors unchanged.
//
//   reactor.attach();
//   const socket = createConnection(reactor, { host: '127.0.0.1', port: 3306 });
//   mysql.createPool({ stream: () => createConnection(reactor, { host, port }), ... });
//
// Reading: while the stream wants data (_read), the fd is registered for
// EVENT_READ; each readiness receives into a shared slab and pushes a view
// of it (no copy), until push() asks for no more (back-pressure: the
// interest is dropped until the next _read) or a short read says the socket
// is drained. Writing: each write is sent at once; what the kernel does not
// take waits for EVENT_WRITE, and the write's callback (so the Writable's
// buffering and 'drain') waits with it. Errors are the kernel's, as Node
// reports them: code, errno (negative), syscall; connect failures add address
// and port, as net.Socket's do.
//
// Half-close is net.Socket's: the peer's FIN ends the readable side ('end'),
// and the writable side stays open until its owner ends it, or (without
// allowHalfOpen) until the Duplex ends it right after 'end'; either way what
// was written first goes out before our FIN. As libuv reads a FIN on a later
// turn of Node's loop than the data before it, so is 'end' emitted here: a
// reply that the data's handlers schedule (setImmediate, as node:http's
// servers and body parsers do) is written before 'end', so before node:http
// ends the socket in its 'end' listener.
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { checkFd, codedError, codedRangeError, codedTypeError, describe, endedByPeerError, type SystemError, systemError } from '../errors.js';
import { binding } from '../native.js';
import { EVENT_READ, EVENT_WRITE } from '../selector.js';
import * as sys from '../sys/index.js';
import type { ReactorCore } from './core.js';
import {
  type AddressInfo,
  checkAttached,
  type ConnectOptions,
  familyName,
  normalizeConnectArgs,
  notAttachedError,
  type ReactorSocketOptions,
} from './socket-options.js';
import type { Handle } from './timers.js';
import { clock } from './clock.js';

export type { AddressInfo, ConnectOptions, ReactorSocketOptions, TcpConnectOptions, UnixConnectOptions } from './socket-options.js';

const native = binding.sys;

/** Bytes received per slab: a read lands in the slab's free tail, and the
 * chunk pushed is a view of it, so a slab serves many small reads. */
const SLAB_SIZE = 64 * 1024;
/** A slab with less free space than this is replaced before a read. */
const MIN_READ = 16 * 1024;

type PendingWrite = { chunks: Buffer[]; callback: (err?: Error | null) => void };

/**
 * A node:stream Duplex over a socket fd that a reactor drives, with
 * net.Socket's surface (connect, 'connect'/'ready', setNoDelay,
 * setKeepAlive, setTimeout, remoteAddress, bytesRead, ...), so that Node's
 * protocol clients run over node-selectors unchanged: mysql2 through its
 * `stream` option, node:http through `createConnection`.
 *
 * Reads are registered with the reactor only while the stream wants data
 * (back-pressure); a write the kernel does not take whole waits for
 * writability, and its callback (so `'drain'`) with it. Errors are the
 * kernel's, as Node reports them ({@link SystemError}: code, errno,
 * syscall; a failed connect adds address and port), and destroy the stream.
 *
 * Half-close is net.Socket's: the peer's FIN emits `'end'`; with
 * `allowHalfOpen` the writable side stays open until `end()` is called,
 * without it (the default) the stream ends it right after `'end'`, once
 * what was written before has gone out, and a later write fails with
 * `EPIPE` ("This socket has been ended by the other party"). As libuv does,
 * the FIN is taken on a later turn of Node's loop than the data before it:
 * a reply that the data's handlers write in `setImmediate` (node:http
 * servers, body parsers) goes out before `'end'`.
 *
 * The reactor must be attached ({@link ReactorCore.attach}): the stream's
 * events go through Node's loop. connect() and wrapping an fd throw
 * `ERR_REACTOR_NOT_RUNNING` at once on a reactor that is not (idle, or
 * driven by run()).
 *
 * @example
 * ```ts
 * import { createConnection, Reactor } from 'node-selectors';
 *
 * const reactor = new Reactor();
 * reactor.attach();
 * const socket = createConnection(reactor, { host: '127.0.0.1', port: 8000 }, () => {
 *   socket.end('GET / HTTP/1.0\r\n\r\n');
 * });
 * socket.on('data', (chunk: Buffer) => process.stdout.write(chunk));
 * socket.on('close', () => reactor.close());
 * socket.on('error', (err) => console.error(err.message)); // 'connect ECONNREFUSED 127.0.0.1:8000'
 * ```
 */
export class ReactorSocket extends Duplex {
  /** The reactor that watches the fd. */
  readonly reactor: ReactorCore;
  #fd = -1;
  /** What the fd is registered for in the reactor (0: no handler). */
  #interest = 0;
  #connecting = false;
  #connected = false;
  /** The stream asked for data and has not said stop (push() returned true). */
  #reading = false;
  /** The peer's FIN was read; 'end' follows on a later turn of Node's loop. */
  #eof = false;
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
  #slabUsed = 0;
  /** The write the kernel did not take whole, and what is left of it. */
  #blocked: PendingWrite | null = null;
  /** A write or end() made before the connection was up. */
  #early: PendingWrite | null = null;
  #earlyFinal: ((err?: Error | null) => void) | null = null;
  #remote: { address: string; port: number } | undefined;
  #bytesRead = 0;
  #bytesWritten = 0;
  #timeoutMs = 0;
  #timer: Handle | null = null;
  #lastActive = 0;
  readonly #onEvents = (_fd: number, events: number): void => this.#handle(events);

  /**
   * Wraps `options.fd`, or (without one) makes a socket to {@link connect}.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `options.reactor` is not a reactor.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `options.fd` is not a non-negative integer.
   * @throws `ERR_REACTOR_NOT_RUNNING` (Error) when `options.fd` is given and the reactor is not
   * attached (the fd stays the caller's): nothing would ever be read from it.
   * @throws `ERR_REACTOR_CLOSED` (Error) when `options.fd` is given and the reactor is closed.
   * @throws {@link SystemError} when `options.fd` cannot be made non-blocking (`EBADF`).
   */
  constructor(options: ReactorSocketOptions) {
    // Like net.Socket: the writable side ends when the readable side does,
    // unless asked otherwise, and strings are written as Buffers.
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      decodeStrings: true,
      emitClose: true,
      autoDestroy: true,
    });
    if (options === null || typeof options !== 'object' || typeof options.reactor?.addHandler !== 'function') {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `options.reactor must be a Reactor, got ${describe(options?.reactor)}`);
    }
    this.reactor = options.reactor;
    // Like net.Socket: after the peer's FIN, without allowHalfOpen, a write
    // made once the writable side is ended says why it fails.
    this.once('end', () => {
      if (!this.allowHalfOpen) this.write = writeAfterFin;
    });
    if (options.fd !== undefined) {
      checkFd(options.fd);
      checkAttached(this.reactor, 'new ReactorSocket({ fd })');
      sys.setNonBlocking(options.fd);
      this.#fd = options.fd;
      this.#connected = true;
    }
  }

  /** The socket's fd, or -1 before connect() and after destroy. */
  get fd(): number {
    return this.#fd;
  }

  /** The socket's fd (-1 before connect() and after destroy), so a selector can take it as a fileobj. */
  fileno(): number {
    return this.#fd;
  }

  /** True while a connect() is in progress (as net.Socket's). */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** True until the socket is connected (as net.Socket's). */
  get pending(): boolean {
    return !this.#connected;
  }

  /** As net.Socket's: `'opening'` while connecting, `'open'`, `'readOnly'`, `'writeOnly'` (one side ended), `'closed'`. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.#connecting) return 'opening';
    if (this.destroyed || !this.#connected) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    return this.writable ? 'writeOnly' : 'closed';
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes the kernel took so far (not counting what is queued). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Connects to a TCP port (`host` an address or a name) or a Unix socket
   * path. 'connect' (and 'ready') follow once connected; a failure destroys
   * the stream with the kernel's error (ECONNREFUSED, ...), or a name's
   * lookup error, or `ERR_INVALID_ARG_VALUE` for a bad Unix path. Writes
   * made before are sent once connected.
   * @param options - The port (and host, family) or the path.
   * @param listener - Added as a `'connect'` listener.
   * @throws `ERR_SOCKET_CONNECTING` (Error) when already connected or connecting.
   * @throws `ERR_SOCKET_CLOSED` (Error) when the socket is destroyed.
   * @throws `ERR_REACTOR_NOT_RUNNING` (Error) when the reactor is not attached (idle, or
   * driven by run()): the connect would never be reported. Call `reactor.attach()` first.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws `ERR_SOCKET_BAD_PORT` (RangeError) when the port is not an integer in 0..65535.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when the arguments are no options, port or path.
   */
  connect(options: ConnectOptions, listener?: () => void): this;
  /**
   * Connects to `port` on `host` (an address or a name; default `'localhost'`);
   * see the options form for what follows and what it throws.
   */
  connect(port: number, host?: string, listener?: () => void): this;
  /** Connects to the Unix socket at `path`; see the options form. */
  connect(path: string, listener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, listener] = normalizeConnectArgs(args);
    if (this.#fd >= 0 || this.#connecting) throw codedError('ERR_SOCKET_CONNECTING', 'the socket is already connected or connecting');
    if (this.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'the socket is destroyed');
    checkAttached(this.reactor, 'ReactorSocket.connect()');
    if (listener !== undefined) this.once('connect', listener);
    this.#connecting = true;
    if ('path' in options) {
      this.#start(sys.AF_UNIX, options.path, undefined);
      return this;
    }
    const host = options.host ?? 'localhost';
    const version = isIP(host);
    if (version !== 0) {
      this.#start(version === 6 ? sys.AF_INET6 : sys.AF_INET, host, options.port);
      return this;
    }
    // A name: resolve it first, as net.Socket does (one address, the
    // system resolver's first choice).
    lookup(host, { family: options.family ?? 0 }, (err, address, family) => {
      if (this.destroyed) return;
      if (!err && !this.reactor.attached && !this.reactor.closed) {
        // Detached during the lookup: nothing would report the connect.
        err = notAttachedError('ReactorSocket.connect()');
      }
      if (err) {
        this.#connecting = false;
        this.destroy(err);
        return;
      }
      this.emit('lookup', null, address, family, host);
      this.#start(family === 6 ? sys.AF_INET6 : sys.AF_INET, address, options.port);
    });
    return this;
  }

  #start(family: number, host: string, port: number | undefined): void {
    try {
      this.#fd = sys.socket(family, sys.SOCK_STREAM);
      this.#remote = { address: host, port: port ?? 0 };
      if (sys.connect(this.#fd, host, port) === 0) {
        // Connected at once (a Unix socket, often loopback): still report it
        // asynchronously, as every 'connect' is.
        process.nextTick(() => this.#connectDone(0));
        return;
      }
      this.#update(); // wait for EVENT_WRITE: the outcome is in SO_ERROR
    } catch (err) {
      const e = err as SystemError;
      e.address ??= host;
      if (port !== undefined) e.port ??= port;
      this.#connecting = false;
      process.nextTick(() => this.destroy(e));
    }
  }

  #connectDone(errno: number): void {
    if (this.destroyed) return;
    this.#connecting = false;
    if (errno !== 0) {
      this.destroy(systemError(errno, 'connect', this.#remote?.address, this.#remote?.port || undefined));
      return;
    }
    this.#connected = true;
    this.#update();
    const early = this.#early;
    this.#early = null;
    if (early !== null) this.#send(early);
    this.emit('connect');
    this.emit('ready');
    const final = this.#earlyFinal;
    this.#earlyFinal = null;
    if (final !== null && !this.destroyed) this._final(final);
  }

  // The reactor's handler: what the fd is ready for, masked by #interest.
  #handle(events: number): void {
    try {
      if (this.#connecting) {
        // Writable (or in error): the connect is over either way.
        this.#connectDone(sys.getsockoptError(this.#fd));
        return;
      }
      if (events & EVENT_WRITE && this.#blocked !== null) {
        const pending = this.#blocked;
        this.#blocked = null;
        this.#send(pending);
      }
      if (events & EVENT_READ && this.#reading && !this.destroyed) this.#receive();
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  // Registers the fd for what the stream waits for now: reading while the
  // consumer wants data, writing while a write is blocked or a connect is
  // in progress. A reactor registration cannot have no events, so 0 removes
  // the handler.
  #update(): void {
    if (this.#fd < 0) return;
    const want = this.#connecting
      ? EVENT_WRITE
      : (this.#reading ? EVENT_READ : 0) | (this.#blocked !== null ? EVENT_WRITE : 0);
    const have = this.#interest;
    if (want === have) return;
    if (have === 0) this.reactor.addHandler(this.#fd, this.#onEvents, want);
    else if (want === 0) this.reactor.removeHandler(this.#fd);
    else this.reactor.updateHandler(this.#fd, want);
    this.#interest = want;
  }

  #receive(): void {
    for (;;) {
      if (SLAB_SIZE - this.#slabUsed < MIN_READ) {
        this.#slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
        this.#slabUsed = 0;
      }
      const start = this.#slabUsed;
      const room = SLAB_SIZE - start;
      // The arguments are in range by construction: the native call skips
      // sys.recv's checks on the hottest path.
      const n = native.recv(this.#fd, this.#slab, start, room, 0);
      if (n < 0) return; // woken for nothing: wait again
      if (n === 0) {
        this.#peerEnded();
        return;
      }
      this.#slabUsed = start + n;
      this.#bytesRead += n;
      if (this.#timeoutMs > 0) this.#touch();
      const more = this.push(this.#slab.subarray(start, start + n));
      // A consumer may have destroyed the stream from its 'data' listener.
      if (this.destroyed) return;
      if (!more) {
        this.#reading = false;
        this.#update();
        return;
      }
      // A read that did not fill the room drained the socket: the next
      // recv would only say EAGAIN. Readiness brings us back for more.
      if (n < room) return;
    }
  }

  // The peer sent FIN. Stop watching (the fd stays readable for good) and
  // end the readable side two check phases from now: the first runs the
  // setImmediate callbacks queued so far, the second those queued by what
  // runs after this pass (process.nextTick, Promises: node:http emits a
  // request's 'end' there). libuv gives net.Socket the same order by
  // reading the FIN only on the next turn of the loop after a read that did
  // not fill its buffer.
  #peerEnded(): void {
    this.#eof = true;
    this.#reading = false;
    this.#update();
    setImmediate(() =>
      setImmediate(() => {
        if (!this.destroyed) this.push(null);
      }),
    );
  }

  /** @internal The Readable's hook: the consumer wants data. */
  override _read(): void {
    if (this.#reading || this.#eof) return;
    this.#reading = true;
    if (this.#connected) this.#update();
  }

  /** @internal The Writable's hook: sends one chunk. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#write({ chunks: [chunk], callback });
  }

  /** @internal The Writable's hook: sends several chunks with one writev. */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (err?: Error | null) => void): void {
    this.#write({ chunks: chunks.map((c) => c.chunk), callback });
  }

  #write(pending: PendingWrite): void {
    if (!this.#connected) {
      // Writable calls _write once at a time: at most one waits here.
      this.#early = pending;
      return;
    }
    this.#send(pending);
  }

  // Sends as much as the kernel takes; the rest waits for EVENT_WRITE.
  // The write's callback runs once every byte is out.
  #send(pending: PendingWrite): void {
    const chunks = pending.chunks;
    try {
      while (chunks.length > 0) {
        const n = chunks.length === 1
          ? native.send(this.#fd, chunks[0]!, 0, chunks[0]!.length, 0)
          : native.writev(this.#fd, chunks.length > sys.IOV_MAX ? chunks.slice(0, sys.IOV_MAX) : chunks);
        if (n < 0) {
          this.#blocked = pending;
          this.#update();
          return;
        }
        this.#bytesWritten += n;
        consume(chunks, n);
      }
    } catch (err) {
      pending.callback(err as Error);
      return;
    }
    if (this.#timeoutMs > 0) this.#touch();
    if (this.#interest & EVENT_WRITE) this.#update();
    pending.callback();
  }

  // The writable side is done: the peer reads end of stream.
  /** @internal The Writable's hook: shuts down the writing side. */
  override _final(callback: (err?: Error | null) => void): void {
    if (!this.#connected) {
      this.#earlyFinal = callback;
      return;
    }
    try {
      sys.shutdown(this.#fd, sys.SHUT_WR);
    } catch (err) {
      // The peer may be gone already; there is nothing left to tell it.
      if ((err as SystemError).code !== 'ENOTCONN') return callback(err as Error);
    }
    callback();
  }

  /** @internal The stream's hook: closes the fd and fails a write still pending. */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#connecting = false;
    const fd = this.#fd;
    this.#fd = -1;
    if (fd >= 0) {
      // Forget the fd before closing it, so that the reactor never watches
      // a number the kernel hands out anew.
      if (this.#interest !== 0 && !this.reactor.closed) this.reactor.removeHandler(fd);
      this.#interest = 0;
      try {
        sys.close(fd);
      } catch (closeError) {
        err ??= closeError as Error;
      }
    }
    // A write still waiting for the kernel will never finish.
    const blocked = this.#blocked ?? this.#early;
    this.#blocked = this.#early = null;
    if (blocked !== null) blocked.callback(err ?? streamDestroyed());
    callback(err);
  }

  /** TCP_NODELAY: send small writes at once rather than coalescing them
   * (applied once connected; ignored on a Unix socket). Returns the socket. */
  setNoDelay(noDelay = true): this {
    this.#whenConnected(() => this.#setTcpOption(sys.IPPROTO_TCP, sys.TCP_NODELAY, noDelay));
    return this;
  }

  /** SO_KEEPALIVE. (The initial delay needs TCP_KEEPIDLE, which sys does not
   * set: the system's default applies.) Applied once connected. Returns
   * the socket. */
  setKeepAlive(enable = false, _initialDelayMs?: number): this {
    this.#whenConnected(() => this.#setTcpOption(sys.SOL_SOCKET, sys.SO_KEEPALIVE, enable));
    return this;
  }

  #setTcpOption(level: number, option: number, value: boolean): void {
    if (this.#fd < 0) return;
    try {
      sys.setsockopt(this.#fd, level, option, value);
    } catch (err) {
      // A Unix socket has no TCP options; net.Socket ignores them there too.
      if ((err as SystemError).code !== 'EOPNOTSUPP' && (err as SystemError).code !== 'ENOPROTOOPT') throw err;
    }
  }

  #whenConnected(fn: () => void): void {
    if (this.#connected) fn();
    else this.once('connect', fn);
  }

  /**
   * Emits 'timeout' once after `ms` milliseconds without reading or writing
   * (0: never), as net.Socket does; the socket stays open. `callback` is
   * added as a one-time 'timeout' listener (with 0, removed). Returns the socket.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `ms` is not a number.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `ms` is not a finite number >= 0.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `timeout must be a number, got ${describe(ms)}`);
    if (!(ms >= 0) || ms === Infinity) throw codedRangeError('ERR_OUT_OF_RANGE', `timeout must be a finite number >= 0, got ${ms}`);
    if (callback !== undefined) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#timeoutMs = ms;
    this.#timer?.cancel();
    this.#timer = null;
    if (ms > 0 && !this.destroyed) {
      this.#lastActive = clock();
      this.#armTimer(ms);
    }
    return this;
  }

  // One reactor timer per period, not one per read or write: activity only
  // stamps #lastActive, and the timer, when it fires early, re-arms for the
  // time left. After 'timeout' it stays off until the next activity (as
  // net.Socket's timer is refreshed by activity).
  #armTimer(delay: number): void {
    this.#timer = this.reactor.callLater(delay, () => {
      this.#timer = null;
      if (this.destroyed || this.#timeoutMs === 0) return;
      const left = this.#timeoutMs - (clock() - this.#lastActive);
      if (left > 0) this.#armTimer(left);
      else this.emit('timeout');
    });
  }

  #touch(): void {
    this.#lastActive = clock();
    if (this.#timer === null && !this.destroyed) this.#armTimer(this.#timeoutMs);
  }

  /** Ends the writable side and destroys the stream once it is flushed. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** The reactor decides what keeps the process alive (Reactor.ref/unref):
   * these exist for code written against net.Socket. */
  ref(): this {
    return this;
  }

  /** Does nothing, as {@link ref}: see there. */
  unref(): this {
    return this;
  }

  /** The local address, as net.Socket's: `{ address, family, port }` for TCP, `{}` for a Unix socket or without an fd. */
  address(): AddressInfo | Record<string, never> {
    if (this.#fd < 0) return {};
    const a = sys.getsockname(this.#fd);
    return 'port' in a ? { address: a.address, family: familyName(a.family), port: a.port } : {};
  }

  /** The peer's IP address, while connected over TCP. */
  get remoteAddress(): string | undefined {
    return this.#peer()?.address;
  }

  /** The peer's port, while connected over TCP. */
  get remotePort(): number | undefined {
    return this.#peer()?.port;
  }

  /** `'IPv4'` or `'IPv6'`, while connected over TCP. */
  get remoteFamily(): string | undefined {
    const p = this.#peer();
    return p === undefined ? undefined : familyName(p.family);
  }

  /** The local IP address, over TCP. */
  get localAddress(): string | undefined {
    const a = this.address();
    return 'address' in a ? a.address : undefined;
  }

  /** The local port, over TCP. */
  get localPort(): number | undefined {
    const a = this.address();
    return 'port' in a ? a.port : undefined;
  }

  #peer(): sys.InetAddress | undefined {
    if (this.#fd < 0 || !this.#connected) return undefined;
    try {
      const p = sys.getpeername(this.#fd);
      return 'port' in p ? p : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Drops the first `n` bytes of `chunks` (in place). */
function consume(chunks: Buffer[], n: number): void {
  while (n > 0) {
    const first = chunks[0]!;
    if (n >= first.length) {
      chunks.shift();
      n -= first.length;
    } else {
      chunks[0] = first.subarray(n);
      return;
    }
  }
  // Empty chunks (a write of '') are done as soon as they are reached.
  while (chunks.length > 0 && chunks[0]!.length === 0) chunks.shift();
}

// What net.Socket's write becomes once the peer's FIN ended the readable
// side of a socket without allowHalfOpen: before end() it is the Duplex's
// write; after, the error says the peer ended it (EPIPE), and destroys.
function writeAfterFin(this: ReactorSocket, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  if (!this.writableEnded) return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, callback as () => void);
  const cb = typeof encoding === 'function' ? encoding : callback;
  const err = endedByPeerError();
  if (typeof cb === 'function') process.nextTick(cb as (err: Error) => void, err);
  this.destroy(err);
  return false;
}

function streamDestroyed(): Error {
  return codedError('ERR_STREAM_DESTROYED', 'the stream was destroyed before the write completed');
}

/**
 * A new ReactorSocket connecting to `options` (as net.createConnection):
 * for mysql2's `stream` option and node:http's `createConnection`. Throws
 * what {@link ReactorSocket.connect} throws.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 *
 * reactor.attach();
 * http.get({ host: '127.0.0.1', port: 8000, createConnection: () => createConnection(reactor, { host: '127.0.0.1', port: 8000 }) }, (res) => {
 *   res.resume();
 *   res.on('end', () => reactor.close());
 * });
 * ```
 */
export function createConnection(
  reactor: ReactorCore,
  options: ConnectOptions & Omit<ReactorSocketOptions, 'reactor' | 'fd'>,
  listener?: () => void,
): ReactorSocket {
  const { allowHalfOpen, readableHighWaterMark, writableHighWaterMark } = options;
  const socket = new ReactorSocket({ reactor, allowHalfOpen, readableHighWaterMark, writableHighWaterMark });
  return socket.connect(options, listener);
}
