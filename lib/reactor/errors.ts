// Errors raised by the reactor layer. Like the selector's, each carries a
// Node-style `code`; kernel failures keep coming from the addon unchanged.

export type ReactorErrorCode =
  | 'ERR_REACTOR_CLOSED'
  | 'ERR_REACTOR_RUNNING'
  | 'ERR_REACTOR_ATTACHED'
  | 'ERR_ALREADY_WAITING'
  | 'ERR_TASK_CANCELLED'
  | 'ERR_TASK_PENDING'
  | 'ERR_INVALID_YIELD'
  | 'ERR_STREAM_CLOSED'
  | 'ERR_STREAM_EOF'
  | 'ERR_STREAM_LIMIT'
  | 'ERR_STREAM_BUSY';

export type ReactorError = Error & { code: ReactorErrorCode };

export function reactorError(code: ReactorErrorCode, message: string): ReactorError {
  const err = new Error(message) as ReactorError;
  err.code = code;
  return err;
}

/** Thrown into a task at the point where it waits when the task is cancelled,
 * and by the task's result afterwards. */
export class CancelledError extends Error {
  readonly code = 'ERR_TASK_CANCELLED' as const;
  constructor(message = 'the task was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** readExactly() or readUntil() met end of stream first; `partial` holds
 * what did arrive; `expected` is the byte count asked for (-1: a delimiter). */
export class IncompleteReadError extends Error {
  readonly code = 'ERR_STREAM_EOF' as const;
  constructor(readonly partial: Uint8Array, readonly expected: number) {
    super(
      expected < 0
        ? `end of stream before the delimiter, after ${partial.length} bytes`
        : `end of stream after ${partial.length} of ${expected} bytes`,
    );
    this.name = 'IncompleteReadError';
  }
}

/** readUntil() found no delimiter within its byte limit. */
export class LimitExceededError extends Error {
  readonly code = 'ERR_STREAM_LIMIT' as const;
  constructor(readonly limit: number) {
    super(`no delimiter within the first ${limit} bytes`);
    this.name = 'LimitExceededError';
  }
}
