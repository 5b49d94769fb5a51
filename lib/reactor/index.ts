// The reactor: the core loop (core.ts), the layers on it (coroutines, the
// task helpers, streams, the TCP and Unix stream servers, ReactorSocket,
// datagram endpoints, signals, inboxes, child processes), and Reactor (reactor.ts), which
// offers the layers as methods.
export { ReactorCore, type IoHandler, type ReactorOptions, type Handle, type TimerHandle, type SlowCallback } from './core.js';
export { Reactor } from './reactor.js';
export { Task, Future, Deferred, FdWait, SleepWait, spawn, readable, writable, sleep, type Coroutine, type FdWaiter } from './coroutines.js';
export { addSignalHandler, removeSignalHandler, type SignalCallback } from './signals.js';
export { gather, withTimeout, type Awaitable, type AwaitedResult, type GatherResults } from './tasks.js';
export { FdStream } from './streams.js';
export { Op } from './ops.js';
export type { StreamOptions } from './stream-options.js';
export { Inbox, openInbox, postToInbox, DEFAULT_INBOX_BYTES, type InboxOptions } from './inbox.js';
export {
  DatagramEndpoint,
  openDatagram,
  type DatagramOptions,
  type DatagramPeer,
  type DatagramTruncatedError,
  type MessageHandler,
} from './datagram.js';
export { Subprocess, spawnProcess, exitWatcher, type ExitWatcher, type ExitWatcherName, type ExitStatus, type ProcessStdio, type SpawnProcessOptions } from './process.js';
export {
  StreamServer,
  TcpServer,
  UnixServer,
  listen,
  type ServerOptions,
  type ListenOptions,
  type UnixListenOptions,
  type ConnectionHandler,
  type OutOfFdsWarning,
} from './server.js';
export {
  ReactorSocket,
  createConnection,
  type ReactorSocketOptions,
  type ConnectOptions,
  type TcpConnectOptions,
  type UnixConnectOptions,
  type AddressInfo,
} from './socket.js';
