// A TCP server on the reactor: a non-blocking listener that accepts in
// batches until accept() says -1, handing each connection to a handler in
// the style it is written in:
//   - a plain function gets the connection's fd and does the rest itself;
//   - a generator function gets an FdStream and runs as a task;
//   - an async function gets an FdStream (the reactor must be attached).
// A stream is closed once its handler returns or fails (a failure is also
// reported to the reactor's 'error' listeners). With reusePort, several
// processes bind the same port and the kernel spreads connections.
//
// A layer on streams and coroutines; of the reactor core it uses only the
// public calls.
import { codedError, codedTypeError, describe } from '../errors.js';
import { EVENT_READ } from '../selector.js';
import * as sys from '../sys.js';
import { type Coroutine, spawn } from './coroutines.js';
import type { ReactorCore } from './core.js';
import { FdStream, type StreamOptions } from './streams.js';

export interface ListenOptions {
  host?: string;
  port: number;
  backlog?: number;
  /** SO_REUSEPORT: let other sockets (other processes) bind the same port. */
  reusePort?: boolean;
  /** TCP_NODELAY on every accepted connection (default false). */
  noDelay?: boolean;
  /** Options of the streams handed to generator and async handlers. */
  stream?: StreamOptions;
}

export type ConnectionHandler =
  | ((fd: number) => void)
  | ((stream: FdStream) => Coroutine<unknown>)
  | ((stream: FdStream) => Promise<unknown>);

/** After EMFILE/ENFILE, how long accepting pauses before it is tried again. */
const OUT_OF_FDS_RETRY_MS = 100;

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as unknown;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as unknown;

export class TcpServer {
  readonly fd: number;
  readonly host: string;
  readonly port: number;
  #closed = false;
  #accepting = false;
  readonly #onConnection: (fd: number) => void;

  constructor(
    private readonly reactor: ReactorCore,
    options: ListenOptions,
    handler: ConnectionHandler,
  ) {
    if (typeof handler !== 'function') throw codedTypeError('ERR_INVALID_ARG_TYPE', `handler must be a function, got ${describe(handler)}`);
    if (reactor.closed) throw codedError('ERR_REACTOR_CLOSED', 'the reactor is closed');
    const host = options.host ?? '127.0.0.1';
    const fd = sys.socket(host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_STREAM);
    try {
      sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
      if (options.reusePort) sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEPORT, true);
      sys.bind(fd, host, options.port);
      sys.listen(fd, options.backlog ?? sys.SOMAXCONN);
    } catch (err) {
      sys.close(fd);
      throw err;
    }
    const bound = sys.getsockname(fd);
    this.fd = fd;
    this.host = host;
    this.port = 'port' in bound ? bound.port : options.port;
    this.#onConnection = connectionStarter(reactor, handler, options);
    const noDelay = options.noDelay === true;
    this.#accept = () => this.#acceptAll(noDelay);
    this.#resume();
  }

  readonly #accept: () => void;

  /** "127.0.0.1:8000", "[::1]:8000". */
  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Stops accepting and closes the listener; connections go on. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#accepting) this.reactor.removeHandler(this.fd);
    this.#accepting = false;
    sys.close(this.fd);
  }

  #resume(): void {
    if (this.#closed || this.#accepting) return;
    this.reactor.addHandler(this.fd, this.#accept, EVENT_READ);
    this.#accepting = true;
  }

  #acceptAll(noDelay: boolean): void {
    for (;;) {
      let conn: number;
      try {
        conn = sys.accept(this.fd);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
        // Out of fds: the pending connections stay in the backlog (and the
        // listener readable), so stop watching it for a while instead of
        // spinning, and report it once.
        this.reactor.removeHandler(this.fd);
        this.#accepting = false;
        this.reactor.callLater(OUT_OF_FDS_RETRY_MS, () => this.#resume());
        this.reactor.reportError(err);
        return;
      }
      if (conn < 0) return;
      if (noDelay) sys.setsockopt(conn, sys.IPPROTO_TCP, sys.TCP_NODELAY, true);
      this.#onConnection(conn);
    }
  }
}

/** A TCP server on `loop`: the same as `new TcpServer(loop, options, handler)`. */
export function listen(loop: ReactorCore, options: ListenOptions, handler: ConnectionHandler): TcpServer {
  return new TcpServer(loop, options, handler);
}

// Builds what runs per accepted fd, by the handler's kind.
function connectionStarter(reactor: ReactorCore, handler: ConnectionHandler, options: ListenOptions): (fd: number) => void {
  const report = (err: unknown): void => reactor.reportError(err);
  if (handler instanceof (GeneratorFunction as Function)) {
    const coroutine = handler as (stream: FdStream) => Coroutine<unknown>;
    return (fd) => {
      const stream = new FdStream(reactor, fd, options.stream);
      spawn(reactor, coroutine(stream)).addDoneCallback((task) => {
        // Observed here, so the task does not report a failure itself.
        if (!task.fulfilled && !task.cancelled) report(task.exception);
        stream.close();
      });
    };
  }
  if (handler instanceof (AsyncFunction as Function)) {
    const asyncHandler = handler as (stream: FdStream) => Promise<unknown>;
    return (fd) => {
      const stream = new FdStream(reactor, fd, options.stream);
      asyncHandler(stream).then(
        () => stream.close(),
        (err: unknown) => {
          report(err);
          stream.close();
        },
      );
    };
  }
  const callback = handler as (fd: number) => void;
  return (fd) => {
    try {
      callback(fd);
    } catch (err) {
      report(err);
    }
  };
}
