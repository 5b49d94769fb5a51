// Reactor: the core loop with every layer's entry point as a method. The
// only module that imports all the layers; each method is the layer's own
// function with this reactor as its loop, so `reactor.spawn(gen)` and
// `spawn(reactor, gen)` are the same call.
import { type Coroutine, type FdWait, readable, type SleepWait, sleep, spawn, type Task, writable } from './coroutines.js';
import { ReactorCore } from './core.js';
import { Inbox, type InboxOptions } from './inbox.js';
import { type DatagramEndpoint, type DatagramOptions, type MessageHandler, openDatagram } from './datagram.js';
import { spawnProcess, type SpawnProcessOptions, type Subprocess } from './process.js';
import { type ConnectionHandler, type ListenOptions, listen, type TcpServer, type UnixListenOptions, type UnixServer } from './server.js';
import { addSignalHandler, removeSignalHandler, type SignalCallback } from './signals.js';
import { FdStream } from './streams.js';
import type { StreamOptions } from './stream-options.js';
import { type Awaitable, gather, type GatherResults, withTimeout } from './tasks.js';

/**
 * The event loop ({@link ReactorCore}: fd handlers, callSoon, callLater,
 * run, attach) with the layers built on it as methods: generator and async
 * coroutines ({@link spawn}, {@link readable}, {@link writable},
 * {@link sleep}), the task helpers ({@link gather}, {@link withTimeout}),
 * buffered fd streams ({@link stream}) and a TCP server ({@link listen}). Each method is the layer's free function with this
 * reactor as its loop: `reactor.spawn(gen)` is `spawn(reactor, gen)`.
 *
 * @example
 * Callbacks, with run() owning the thread:
 * ```ts
 * import { EVENT_READ, Reactor, sys } from 'node-selectors';
 *
 * const reactor = new Reactor();
 * const [r, w] = sys.pipe();
 * reactor.addHandler(r, () => {
 *   const n = sys.read(r, new Uint8Array(64));
 *   console.log('read', n, 'bytes');
 *   reactor.removeHandler(r);
 *   sys.close(r);
 * }, EVENT_READ);
 * reactor.callLater(10, () => {
 *   sys.write(w, new TextEncoder().encode('hello'));
 *   sys.close(w);
 * });
 * reactor.run(); // returns once nothing is left to wait for
 * reactor.close();
 * ```
 *
 * @example
 * A generator coroutine (works under run() and attach()):
 * ```ts
 * const task = reactor.spawn(function* () {
 *   yield reactor.sleep(5);
 *   const events: number = yield reactor.readable(fd);
 *   return events;
 * });
 * task.addDoneCallback((t) => console.log(t.result()));
 * reactor.run();
 * ```
 *
 * @example
 * async/await, inside Node's event loop:
 * ```ts
 * reactor.attach();
 * const stream = reactor.stream(fd);
 * const line = await stream.readUntil('\n');
 * stream.close();
 * reactor.close();
 * ```
 */
export class Reactor extends ReactorCore {
  /**
   * Starts a generator coroutine now (it runs up to its first wait) and
   * returns its task. A failure nobody observes (no done callback, no
   * waiter) is reported to {@link reportError}.
   * @param coroutine - A generator, or a generator function to call.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `coroutine` is neither.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  spawn<T>(coroutine: Coroutine<T> | (() => Coroutine<T>)): Task<T> {
    return spawn(this, coroutine);
  }

  /**
   * Waits until `fd` is readable: `yield` it in a coroutine or `await` it;
   * either gives the ready events. One reader per fd at a time.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * The wait itself fails with `ERR_ALREADY_WAITING` (another reader waits on `fd`),
   * `ERR_REACTOR_CLOSED`, or, awaited, `ERR_REACTOR_NOT_RUNNING` (the reactor is neither attached nor running).
   */
  readable(fd: number): FdWait {
    return readable(this, fd);
  }

  /**
   * Waits until `fd` is writable: `yield` it in a coroutine or `await` it;
   * either gives the ready events. One writer per fd at a time.
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * The wait itself fails as {@link readable}'s does.
   */
  writable(fd: number): FdWait {
    return writable(this, fd);
  }

  /**
   * Waits `ms` milliseconds: `yield` it in a coroutine or `await` it.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `ms` is not a number, or NaN.
   * Awaited, it fails with `ERR_REACTOR_NOT_RUNNING` when the reactor is neither attached nor running.
   */
  sleep(ms: number): SleepWait {
    return sleep(this, ms);
  }

  /**
   * Waits for every task, future or generator of `tasks`, as asyncio.gather:
   * the same as {@link gather | gather(reactor, tasks)}, which describes
   * failures and cancellation.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `tasks` is not an array of tasks, futures or generators.
   * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when a task belongs to another reactor.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  gather<const A extends readonly Awaitable[]>(tasks: A): Task<GatherResults<A>> {
    return gather(this, tasks);
  }

  /**
   * Waits for `task` at most `ms` milliseconds, as asyncio.wait_for: the
   * same as {@link withTimeout | withTimeout(reactor, task, ms)}; on time
   * out, `task` is cancelled and the returned task fails with `ERR_TIMEOUT`.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `task` is neither a future nor a generator, or `ms` not a number.
   * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `ms` is NaN; (TypeError) when `task` belongs to another reactor.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `ms` is negative.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  withTimeout<T>(task: Awaitable<T>, ms: number): Task<T> {
    return withTimeout(this, task, ms);
  }

  /**
   * A buffered stream over the non-blocking `fd` (see {@link FdStream}),
   * which closes the fd when it closes unless `options.closeFd` is false.
   * For a terminal or a FIFO whose writer may come back, `{ eofIsFinal: false }`
   * keeps the stream open across 0-byte reads (see {@link StreamOptions.eofIsFinal}).
   * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
   * @throws `ERR_OUT_OF_RANGE` (RangeError) when `highWaterMark` or `readSize` is not an integer >= 1.
   * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `eofIsFinal` is given but not a boolean.
   * @throws `ERR_REACTOR_CLOSED` (Error) when the reactor is closed.
   */
  stream(fd: number, options?: StreamOptions): FdStream {
    return new FdStream(this, fd, options);
  }

  /**
   * A TCP server on this reactor (see {@link TcpServer}), or with a `path`
   * a Unix stream server (see {@link UnixServer}): `handler` gets
   * each connection's fd (a plain function) or an FdStream (a generator or
   * async function). The same as {@link listen | listen(reactor, options, handler)}.
   *
   * @example
   * ```ts
   * const server = reactor.listen({ port: 8000 }, function* (stream: FdStream) {
   *   yield* stream.readUntil('\r\n\r\n');
   *   yield* stream.write('HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n');
   *   yield* stream.drain();
   * });
   * console.log('listening on', server.address);
   * reactor.run();
   * ```
   */
  listen(options: UnixListenOptions, handler: ConnectionHandler): UnixServer;
  listen(options: ListenOptions, handler: ConnectionHandler): TcpServer;
  listen(options: ListenOptions | UnixListenOptions, handler: ConnectionHandler): TcpServer | UnixServer;
  listen(options: ListenOptions | UnixListenOptions, handler: ConnectionHandler): TcpServer | UnixServer {
    return listen(this, options, handler);
  }

  /**
   * Runs `callback(signalName)` in a reactor pass each time `signal` arrives,
   * under run() as under attach(); Node's own `process.on(signal)` listeners
   * still run. The same as {@link addSignalHandler | addSignalHandler(reactor, signal, callback)},
   * which tells the details.
   * @throws `ERR_UNKNOWN_SIGNAL`, `ERR_INVALID_ARG_TYPE` (TypeError), `ERR_SIGNAL_UNCATCHABLE`,
   * `ERR_SIGNAL_CHANNELS_EXHAUSTED`, `ERR_REACTOR_CLOSED` (Error): see {@link addSignalHandler}.
   *
   * @example
   * ```ts
   * reactor.addSignalHandler('SIGTERM', () => reactor.stop());
   * reactor.run(); // returns at SIGTERM, where the process would have died by it
   * ```
   */
  addSignalHandler(signal: NodeJS.Signals | number, callback: SignalCallback): void {
    addSignalHandler(this, signal, callback);
  }

  /**
   * Removes the callback for `signal`; false when there was none. See
   * {@link removeSignalHandler}.
   * @throws `ERR_UNKNOWN_SIGNAL` (TypeError) when `signal` names no signal of the platform.
   */
  removeSignalHandler(signal: NodeJS.Signals | number): boolean {
    return removeSignalHandler(this, signal);
  }

  /**
   * An inbox that any thread fills with {@link postToInbox}(inbox.handle, value):
   * each value is delivered to `onMessage` in a pass, in order (see {@link Inbox}).
   * @throws The errors of the {@link Inbox} constructor.
   */
  inbox(onMessage: (value: unknown) => void, options?: InboxOptions): Inbox {
    return new Inbox(this, onMessage, options);
  }

  /** A datagram endpoint on this reactor (UDP or Unix), the same as
   * {@link openDatagram | openDatagram(reactor, options, onMessage)}, which tells the details.
   * @throws The errors of {@link openDatagram}. */
  openDatagram(options: DatagramOptions, onMessage: MessageHandler): DatagramEndpoint {
    return openDatagram(this, options, onMessage);
  }

  /** A child process watched by this reactor, the same as
   * {@link spawnProcess | spawnProcess(reactor, file, args, options)}, which tells the details.
   * @throws The errors of {@link spawnProcess}. */
  spawnProcess(file: string, args: readonly string[] = [], options: SpawnProcessOptions = {}): Subprocess {
    return spawnProcess(this, file, args, options);
  }
}
