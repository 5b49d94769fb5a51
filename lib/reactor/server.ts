// Stream servers on the reactor, TCP (TcpServer) and Unix (UnixServer,
// listen with a `path`), on what they share (StreamServer; their listening
// sockets are opened in listener.ts): a non-blocking listener that accepts in
// batches until accept() says -1, handing each connection to a handler in
// the style it is written in:
//   - a plain function gets the connection's fd and does the rest itself;
//   - a generator function gets an FdStream and runs as a task;
//   - an async function gets an FdStream (the reactor must be attached).
// A stream is closed once its handler returns or fails (a failure is also
// reported to the reactor's 'error' listeners). An async handler on a reactor
// driven by run() would never get past its first await (Promises settle in
// Node's loop, which run() holds up): each such connection is closed at
// once instead, and ERR_REACTOR_NOT_RUNNING reported once per server. With reusePort, several
// processes bind the same TCP port and the kernel spreads connections.
//
// Out of fds (EMFILE/ENFILE), it does what libuv does: it keeps one spare
// fd, and when accept() fails it closes the spare, accepts and at once
// closes every pending connection (each client sees a clean close instead
// of waiting in the backlog), then takes the spare again. The condition is
// reported once per episode, which ends at the next connection accepted.
//
// A layer on streams and coroutines; of the reactor core it uses only the
// public calls.
import { EventEmitter } from 'node:events';
import { codedError, codedRangeError, codedTypeError, describe, type SystemError } from '../errors.js';
import { EVENT_READ } from '../selector.js';
import * as sys from '../sys/index.js';
import { type Coroutine, Deferred, type Future, spawn } from './coroutines.js';
import type { ReactorCore } from './core.js';
import { openTcpListener, openUnixListener, type TcpListener, type UnixListener } from './listener.js';
import { FdStream } from './streams.js';
import type { StreamOptions } from './stream-options.js';

/** What every stream server takes ({@link TcpServer}, {@link UnixServer}). */
export interface ServerOptions {
  /** The listen(2) backlog: pending connections the kernel keeps (default `sys.SOMAXCONN`). */
  backlog?: number;
  /** Options of the streams handed to generator and async handlers. */
  stream?: StreamOptions;
  /** Closes a stream handed to a generator or async handler after this many
   * milliseconds without a byte read or written (FdStream.setTimeout); its
   * waiting operations fail with ERR_STREAM_TIMEOUT, which is not reported
   * as a handler failure. Default 0: never. A plain-function handler owns
   * its fd and its timeouts. */
  idleTimeout?: number;
}

/** Options of {@link TcpServer} ({@link listen}, {@link Reactor.listen}). */
export interface ListenOptions extends ServerOptions {
  /** The IP address to bind (no name lookup; an IPv6 address makes an IPv6 socket); default `'127.0.0.1'`. */
  host?: string;
  /** The TCP port; 0 picks a free one (read it back from {@link TcpServer.port}). */
  port: number;
  /** SO_REUSEPORT: let other sockets (other processes) bind the same port. */
  reusePort?: boolean;
  /** TCP_NODELAY on every accepted connection (default false). */
  noDelay?: boolean;
  /** Not for TCP: a `path` makes a {@link UnixServer}. */
  path?: undefined;
}

/** Options of {@link UnixServer} ({@link listen} with a `path`). */
export interface UnixListenOptions extends ServerOptions {
  /** The socket's path (relative to the current directory; at most
   * `sys.UNIX_PATH_MAX` bytes), or on Linux an abstract name starting with
   * `'\0'`, which has no file. A socket file already there (a server that
   * crashed left it) is removed first, as asyncio does; anything else there
   * makes the bind fail with `EADDRINUSE`. */
  path: string;
  /** TCP only. */
  host?: undefined;
  /** TCP only. */
  port?: undefined;
  /** TCP only. */
  reusePort?: undefined;
  /** TCP only. */
  noDelay?: undefined;
}

/** What a TcpServer reports, once per episode, when accept() runs out of
 * fds: the kernel's error (code EMFILE or ENFILE, syscall 'accept') with
 * the count of connections closed unanswered when it was reported.
 * @property refused - Pending connections accepted and closed unanswered when it was reported. */
export type OutOfFdsWarning = SystemError & { refused: number };

/**
 * What a TcpServer calls per accepted connection, by its kind: a plain
 * function gets the connection's fd (non-blocking; it owns it and must close
 * it); a generator function gets an {@link FdStream} and runs as a task; an
 * async function gets an FdStream (the reactor must be attached). The
 * stream is closed once the handler returns or fails; a failure is
 * reported to the reactor's reportError.
 *
 * Under run(), Promises only settle once run() returns, so async code cannot
 * serve there: an async handler is not called, each connection is closed at
 * once (the client reads end of stream), and `ERR_REACTOR_NOT_RUNNING` is
 * reported to the reactor's reportError, once per server. A plain function
 * that returns a Promise under run() keeps its fd, and the same error is
 * reported (once per server). Call `reactor.attach()` instead of run(), or
 * write the handler as a generator function.
 */
export type ConnectionHandler =
  | ((fd: number) => void)
  | ((stream: FdStream) => Coroutine<unknown>)
  | ((stream: FdStream) => Promise<unknown>);

/** Out of fds with no spare to free (it could not be taken again), how long
 * accepting pauses before it is tried again. */
const OUT_OF_FDS_RETRY_MS = 100;

// The spare: the cheapest fd there is to hold and give back.
function openSpare(): number {
  try {
    return sys.socket(sys.AF_UNIX, sys.SOCK_STREAM);
  } catch {
    return -1;
  }
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as unknown;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as unknown;

/** What a subclass of StreamServer opens: the listening fd, what to do to
 * each accepted connection first, and what to do on close before the fd is
 * closed. */
interface OpenedListener {
  fd: number;
  configure?: (conn: number) => void;
  release?: () => void;
}

/**
 * What the reactor's stream servers share ({@link TcpServer},
 * {@link UnixServer}): a non-blocking listener that accepts in batches,
 * until accept() says none is pending, and hands each connection to its
 * {@link ConnectionHandler}.
 *
 * Out of fds (EMFILE/ENFILE) it keeps a spare fd, as libuv does, to accept
 * and close the pending connections (each client sees a clean close), and
 * emits `'warning'` ({@link OutOfFdsWarning}) once per episode; without a
 * `'warning'` listener the warning goes to the reactor's reportError.
 *
 * An async handler needs the reactor attached: under run() it is not
 * called, each connection is closed at once, and `ERR_REACTOR_NOT_RUNNING`
 * is reported once per server (see {@link ConnectionHandler}).
 *
 * Shutting down gracefully: {@link close} stops accepting, the connections
 * go on until their handlers end, and {@link closed} settles once the last
 * one is closed ({@link connections} counts them).
 */
export abstract class StreamServer extends EventEmitter {
  /** The listening socket's fd. */
  readonly fd: number;
  readonly #reactor: ReactorCore;
  #closed = false;
  #accepting = false;
  readonly #onConnection: (fd: number) => void;
  readonly #accept: () => void;
  readonly #release: (() => void) | undefined;
  #spare = -1;
  #starved = false; // in an out-of-fds episode: reported, not yet over
  #refused = 0;
  #connections = 0;
  readonly #closedFuture = new Deferred<void>();

  /**
   * Checks the common options, opens the listener with `open` and starts
   * accepting with the reactor (run() or attach()).
   * @param reactor - The loop that watches the listener and the connections.
   * @param options - The connections' options.
   * @param handler - What each connection is handed to.
   * @param open - Opens the listening socket (it closes its fd if it fails).
   */
  protected constructor(reactor: ReactorCore, options: ServerOptions, handler: ConnectionHandler, open: () => OpenedListener) {
    if (typeof handler !== 'function') throw codedTypeError('ERR_INVALID_ARG_TYPE', `handler must be a function, got ${describe(handler)}`);
    if (typeof options !== 'object' || options === null) throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    super();
    this.#reactor = reactor;
    if (reactor.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
    const idle = options.idleTimeout ?? 0;
    if (typeof idle !== 'number' || !(idle >= 0) || idle === Infinity) {
      throw codedRangeError('ERR_OUT_OF_RANGE', `idleTimeout must be a finite number >= 0, got ${describe(idle)}`);
    }
    const listener = open();
    this.fd = listener.fd;
    this.#release = listener.release;
    this.#onConnection = connectionStarter(reactor, handler, options, idle, {
      opened: () => this.#connections++,
      ended: () => {
        this.#connections--;
        this.#settleIfDone();
      },
    });
    const configure = listener.configure;
    this.#accept = () => this.#acceptAll(configure);
    this.#spare = openSpare();
    try {
      this.#resume();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Connections accepted and closed unanswered, out of fds, since the
   * server started. */
  get refusedConnections(): number {
    return this.#refused;
  }

  /** Open connections handed to generator and async handlers: accepted and
   * not yet closed (their handler has not ended). A plain-function handler
   * owns its fd, so its connections are not counted. */
  get connections(): number {
    return this.#connections;
  }

  /** Fulfilled once the server is closed and so is every connection it
   * counts ({@link connections}): after {@link close}, when the last
   * handler has ended and its stream is closed (what it still had queued is
   * flushed after, as FdStream.close does). Yield or await it; it never
   * fails. */
  get closed(): Future<void> {
    return this.#closedFuture;
  }

  /** Stops accepting and closes the listener (a {@link UnixServer} first
   * removes its socket file); the open connections go on until their
   * handlers end, then {@link closed} settles. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#accepting) this.#reactor.removeHandler(this.fd);
    this.#accepting = false;
    if (this.#spare >= 0) sys.close(this.#spare);
    this.#spare = -1;
    try {
      this.#release?.();
    } catch (err) {
      this.#reactor.reportError(err);
    }
    sys.close(this.fd);
    this.#settleIfDone();
  }

  #settleIfDone(): void {
    if (this.#closed && this.#connections === 0) this.#closedFuture.resolve();
  }

  #resume(): void {
    if (this.#closed || this.#accepting) return;
    this.#reactor.addHandler(this.fd, this.#accept, EVENT_READ);
    this.#accepting = true;
  }

  #acceptAll(configure: ((conn: number) => void) | undefined): void {
    for (;;) {
      let conn: number;
      try {
        conn = sys.accept(this.fd);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
        this.#outOfFds(err as SystemError);
        return;
      }
      if (conn < 0) return;
      if (this.#starved) this.#starved = false; // an fd was there: the episode is over
      if (this.#spare < 0) this.#spare = openSpare();
      configure?.(conn);
      this.#onConnection(conn);
    }
  }

  // accept() is out of fds: free the spare, accept and close every pending
  // connection with it, take it back. Without a spare (it could not be
  // taken again: another thread got the fd), pause accepting instead of
  // spinning on a readable listener.
  #outOfFds(err: SystemError): void {
    let refused = 0;
    if (this.#spare >= 0) {
      sys.close(this.#spare);
      this.#spare = -1;
      for (;;) {
        let conn: number;
        try {
          conn = sys.accept(this.fd);
        } catch {
          break;
        }
        if (conn < 0) break;
        sys.close(conn);
        refused++;
      }
      this.#spare = openSpare();
    }
    this.#refused += refused;
    if (this.#spare < 0) {
      this.#reactor.removeHandler(this.fd);
      this.#accepting = false;
      this.#reactor.callLater(OUT_OF_FDS_RETRY_MS, () => this.#resume());
    }
    if (this.#starved) return;
    this.#starved = true;
    const warning = err as OutOfFdsWarning;
    warning.refused = refused;
    warning.message += refused > 0 ? ` (closed ${refused} pending connections unanswered; reported once until a connection is accepted again)` : ' (reported once until a connection is accepted again)';
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    else this.#reactor.reportError(warning);
  }
}

/**
 * A TCP server on a reactor (a {@link StreamServer}): a non-blocking
 * listener that accepts in batches and hands each connection to its
 * {@link ConnectionHandler}. With `reusePort`, several processes can bind
 * the same port and the kernel spreads the connections.
 *
 * @example
 * ```ts
 * import { type FdStream, listen, Reactor } from 'node-selectors';
 *
 * const reactor = new Reactor();
 * reactor.attach();
 * // A handler's parameter needs its type: the handler's kind says what it gets.
 * const server = listen(reactor, { port: 0, idleTimeout: 30_000 }, async (stream: FdStream) => {
 *   await stream.readUntil('\r\n\r\n');
 *   await stream.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
 * });
 * console.log(server.address); // '127.0.0.1:40123'
 * ```
 */
export class TcpServer extends StreamServer {
  /** The address it is bound to. */
  readonly host: string;
  /** The port it is bound to (the one picked when `port` was 0). */
  readonly port: number;

  /**
   * Binds and listens at once; accepting starts with the reactor (run() or attach()).
   * @param reactor - The loop that watches the listener and the connections.
   * @param options - Where to listen, and the connections' options.
   * @param handler - What each connection is handed to.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `handler` is not a function or `options` not an object.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `idleTimeout` is not a finite number >= 0, or `backlog` not an integer >= 0.
   * @throws `ERR_INVALID_IP_ADDRESS` (TypeError) when `host` is not an IP address.
   * @throws `ERR_SOCKET_BAD_PORT` (RangeError) when `port` is not an integer in 0..65535.
   * @throws {@link SystemError} when the kernel refuses (`EADDRINUSE`, `EACCES`, `EMFILE`, ...).
   */
  constructor(reactor: ReactorCore, options: ListenOptions, handler: ConnectionHandler) {
    let bound: TcpListener | undefined;
    super(reactor, options, handler, () => {
      bound = openTcpListener(options.host ?? '127.0.0.1', options.port, options.backlog, options.reusePort === true);
      const noDelay = options.noDelay === true;
      return { fd: bound.fd, configure: noDelay ? (conn) => sys.setsockopt(conn, sys.IPPROTO_TCP, sys.TCP_NODELAY, true) : undefined };
    });
    this.host = bound!.host;
    this.port = bound!.port;
  }

  /** "127.0.0.1:8000", "[::1]:8000". */
  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }
}

const TCP_ONLY = ['host', 'port', 'reusePort', 'noDelay'] as const;

/**
 * A Unix stream server on a reactor (a {@link StreamServer}), with the TCP
 * server's handler forms, backlog, idle timeout and graceful close.
 *
 * A socket file already at the path (a server that crashed left it) is
 * removed before binding, as asyncio's create_unix_server does (it would
 * also take the path from a server still running there); anything else at
 * the path (a regular file, a directory, a symbolic link) is left alone and
 * the bind fails with `EADDRINUSE`. {@link close} removes the socket file,
 * but only if it is still the one this server bound (same device and inode):
 * one that another server has put there since is left to it. A Linux
 * abstract name (a path starting with `'\0'`) has no file.
 *
 * The peer of an accepted connection can be asked who it is with
 * `sys.peerCredentials(fd)` where the platform has it.
 *
 * @example
 * ```ts
 * import { type FdStream, listen, Reactor } from 'node-selectors';
 *
 * const reactor = new Reactor();
 * const server = listen(reactor, { path: '/tmp/app.sock' }, function* (stream: FdStream) {
 *   const line: Uint8Array = yield* stream.readUntil('\n');
 *   yield* stream.write(line);
 * });
 * console.log(server.address); // '/tmp/app.sock'
 * ```
 */
export class UnixServer extends StreamServer {
  /** The path it is bound to, as given (an abstract name starts with `'\0'`). */
  readonly path: string;

  /**
   * Binds and listens at once; accepting starts with the reactor (run() or attach()).
   * @param reactor - The loop that watches the listener and the connections.
   * @param options - The path, and the connections' options.
   * @param handler - What each connection is handed to.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `handler` is not a function, `options` not an object or `path` not a string.
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when a TCP option (`host`, `port`, `reusePort`, `noDelay`) is given.
   * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `path` is empty, longer than `sys.UNIX_PATH_MAX` bytes or has a NUL inside (not first).
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `idleTimeout` is not a finite number >= 0, or `backlog` not an integer >= 0.
   * @throws {@link SystemError} when the kernel refuses (`EADDRINUSE` for a path that is not a socket, `EACCES`, `ENOENT`, `EMFILE`, ...).
   */
  constructor(reactor: ReactorCore, options: UnixListenOptions, handler: ConnectionHandler) {
    let bound: UnixListener | undefined;
    super(reactor, options, handler, () => {
      const tcp = TCP_ONLY.filter((key) => options[key] !== undefined);
      if (tcp.length > 0) throw codedTypeError('ERR_INVALID_ARG_VALUE', `${tcp.join(', ')}: TCP options, not for a Unix server (path)`);
      bound = openUnixListener(options.path, options.backlog);
      return { fd: bound.fd, release: bound.removeFile };
    });
    this.path = bound!.path;
  }

  /** The path, as net.Server.address() gives it for a Unix socket. */
  get address(): string {
    return this.path;
  }
}

/**
 * A stream server on `loop`: with a `path`, a Unix stream server (the same
 * as `new UnixServer(loop, options, handler)`); otherwise a TCP server
 * (`new TcpServer(loop, options, handler)`). See those for the errors it
 * throws.
 *
 * @example
 * ```ts
 * listen(reactor, { port: 8000, reusePort: true }, function* (stream: FdStream) {
 *   const request: Uint8Array = yield* stream.readUntil('\r\n\r\n');
 *   yield* stream.write(`HTTP/1.0 200 OK\r\n\r\n${request.length} bytes\n`);
 * });
 * listen(reactor, { path: '/run/app.sock' }, (fd: number) => sys.close(fd));
 * reactor.run();
 * ```
 */
export function listen(loop: ReactorCore, options: UnixListenOptions, handler: ConnectionHandler): UnixServer;
export function listen(loop: ReactorCore, options: ListenOptions, handler: ConnectionHandler): TcpServer;
export function listen(loop: ReactorCore, options: ListenOptions | UnixListenOptions, handler: ConnectionHandler): TcpServer | UnixServer;
export function listen(loop: ReactorCore, options: ListenOptions | UnixListenOptions, handler: ConnectionHandler): TcpServer | UnixServer {
  return isUnix(options) ? new UnixServer(loop, options, handler) : new TcpServer(loop, options, handler);
}

// Whether `options` ask for a Unix server (a `path`).
function isUnix(options: ListenOptions | UnixListenOptions): options is UnixListenOptions {
  return typeof options === 'object' && options !== null && options.path !== undefined;
}

// Builds what runs per accepted fd, by the handler's kind.
// `track` hears of each stream connection opening and ending (its stream closed).
function connectionStarter(
  reactor: ReactorCore,
  handler: ConnectionHandler,
  options: ServerOptions,
  idleTimeout: number,
  track: { opened(): void; ended(): void },
): (fd: number) => void {
  // A stream closed by its idle timeout is the server working, not a failure.
  const report = (err: unknown): void => {
    if ((err as { code?: unknown } | null)?.code !== 'ERR_STREAM_TIMEOUT') reactor.reportError(err);
  };
  // Async code under run(): said once per server, not once per connection.
  let toldNotAttached = false;
  const tellNotAttached = (what: string, meanwhile: string): void => {
    if (toldNotAttached) return;
    toldNotAttached = true;
    reactor.reportError(
      codedError(
        'ERR_REACTOR_NOT_RUNNING',
        `${what} on a reactor that is not attached: its awaits would only resume once run() returns. ` +
          `Call reactor.attach() instead of run(), or write the handler as a generator function (yield*). ${meanwhile} ` +
          '(reported once per server)',
      ),
    );
  };
  const open = (fd: number): FdStream => {
    const stream = new FdStream(reactor, fd, options.stream);
    if (idleTimeout > 0) stream.setTimeout(idleTimeout);
    track.opened();
    return stream;
  };
  if (handler instanceof (GeneratorFunction as Function)) {
    const coroutine = handler as (stream: FdStream) => Coroutine<unknown>;
    return (fd) => {
      const stream = open(fd);
      spawn(reactor, coroutine(stream)).addDoneCallback((task) => {
        // Observed here, so the task does not report a failure itself.
        if (!task.fulfilled && !task.cancelled) report(task.exception);
        stream.close();
        track.ended();
      });
    };
  }
  if (handler instanceof (AsyncFunction as Function)) {
    const asyncHandler = handler as (stream: FdStream) => Promise<unknown>;
    return (fd) => {
      if (!reactor.attached) {
        // Its first await would never resume: the client gets a clean
        // close at once rather than a connection that never answers.
        sys.close(fd);
        tellNotAttached('an async connection handler cannot run', 'Each connection is closed unanswered meanwhile');
        return;
      }
      const stream = open(fd);
      asyncHandler(stream).then(
        () => {
          stream.close();
          track.ended();
        },
        (err: unknown) => {
          report(err);
          stream.close();
          track.ended();
        },
      );
    };
  }
  const callback = handler as (fd: number) => void;
  return (fd) => {
    try {
      const result: unknown = callback(fd);
      if (!reactor.attached && typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
        tellNotAttached('a connection handler returned a Promise', 'The fd stays the handler\'s');
      }
    } catch (err) {
      report(err);
    }
  };
}
