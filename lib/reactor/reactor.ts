// Reactor: the core loop with every layer's entry point as a method. The
// only module that imports all the layers; each method is the layer's own
// function with this reactor as its loop, so `reactor.spawn(gen)` and
// `spawn(reactor, gen)` are the same call.
import { type Coroutine, type FdWait, readable, type SleepWait, sleep, spawn, type Task, writable } from './coroutines.js';
import { ReactorCore } from './core.js';
import { type ConnectionHandler, type ListenOptions, TcpServer } from './server.js';
import { FdStream, type StreamOptions } from './streams.js';

export class Reactor extends ReactorCore {
  /** Starts a generator coroutine now (it runs up to its first wait) and
   * returns its task. */
  spawn<T>(coroutine: Coroutine<T> | (() => Coroutine<T>)): Task<T> {
    return spawn(this, coroutine);
  }

  /** Waits until `fd` is readable: `yield` it in a coroutine or `await` it. */
  readable(fd: number): FdWait {
    return readable(this, fd);
  }

  /** Waits until `fd` is writable: `yield` it in a coroutine or `await` it. */
  writable(fd: number): FdWait {
    return writable(this, fd);
  }

  /** Waits `ms` milliseconds: `yield` it in a coroutine or `await` it. */
  sleep(ms: number): SleepWait {
    return sleep(this, ms);
  }

  /** A buffered stream over the non-blocking `fd` (see streams.ts). */
  stream(fd: number, options?: StreamOptions): FdStream {
    return new FdStream(this, fd, options);
  }

  /** A TCP server on this reactor (see server.ts): `handler` gets each
   * connection's fd (a plain function) or an FdStream (a generator or
   * async function). */
  listen(options: ListenOptions, handler: ConnectionHandler): TcpServer {
    return new TcpServer(this, options, handler);
  }
}
