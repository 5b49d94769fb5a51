export { Reactor, type IoHandler, type ReactorOptions, type Handle } from './loop.js';
export { CancelledError, IncompleteReadError, LimitExceededError, type ReactorError, type ReactorErrorCode } from './errors.js';
export { Task, Future, Deferred, FdWait, SleepWait, type Coroutine } from './coroutines.js';
export { FdStream, Op, type StreamOptions } from './streams.js';
export { TcpServer, type ListenOptions, type ConnectionHandler } from './server.js';
