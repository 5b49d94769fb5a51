// The reactor: the core loop (core.ts), the layers on it (coroutines,
// streams, the TCP server, ReactorSocket, child processes), and Reactor (reactor.ts), which
// offers the layers as methods.
export { ReactorCore, type IoHandler, type ReactorOptions, type Handle } from './core.js';
export { Reactor } from './reactor.js';
export { Task, Future, Deferred, FdWait, SleepWait, spawn, readable, writable, sleep, type Coroutine, type FdWaiter } from './coroutines.js';
export { FdStream, Op, type StreamOptions } from './streams.js';
export { Subprocess, spawnProcess, exitWatcher, type ExitWatcher, type ExitStatus, type ProcessStdio, type SpawnProcessOptions } from './process.js';
export { TcpServer, listen, type ListenOptions, type ConnectionHandler, type OutOfFdsWarning } from './server.js';
export {
  ReactorSocket,
  createConnection,
  type ReactorSocketOptions,
  type ConnectOptions,
  type TcpConnectOptions,
  type UnixConnectOptions,
  type AddressInfo,
} from './socket.js';
