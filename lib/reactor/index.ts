export { Reactor, type IoHandler, type ReactorOptions, type Handle } from './loop.js';
export { CancelledError, IncompleteReadError, LimitExceededError, type ReactorError, type ReactorErrorCode } from './errors.js';
