export {
  BaseSelector,
  SelectorKey,
  EVENT_READ,
  EVENT_WRITE,
  EVENT_PRIORITY,
  FD_SETSIZE,
  fileDescriptor,
  wakeupSelector,
  type FileObject,
  type BackendName,
  type Trigger,
  type RegisterOptions,
} from './selector.js';
export { SelectSelector } from './selectors/select.js';
export { PollSelector } from './selectors/poll.js';
export { EpollSelector } from './selectors/epoll.js';
export { KqueueSelector } from './selectors/kqueue.js';
export { IoUringSelector } from './selectors/io_uring.js';
export { availableBackends, selectorClass, BACKEND_NAMES, type SelectorClass } from './backends.js';
export {
  ERROR_CODES,
  CancelledError,
  IncompleteReadError,
  LimitExceededError,
  type ErrorCode,
  type CodedError,
  type SystemError,
  type SelectorErrorCode,
  type ReactorErrorCode,
  type ReactorError,
} from './errors.js';
/**
 * Thin wrappers of POSIX calls on integer fds: sockets (IPv4, IPv6, Unix),
 * pipes, read/write. Arguments are checked before any syscall (coded
 * TypeError/RangeError); a call that would block returns -1 instead of
 * throwing; every other failure throws a {@link SystemError} whose `code`
 * is the errno name. Every fd these calls create is non-blocking and
 * close-on-exec.
 *
 * @example
 * ```ts
 * import { sys } from 'node-selectors';
 *
 * const listener = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
 * sys.setsockopt(listener, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
 * sys.bind(listener, '127.0.0.1', 0);
 * sys.listen(listener);
 * const address = sys.getsockname(listener); // { family, address, port }
 *
 * const client = sys.socket(sys.AF_INET);
 * sys.connect(client, '127.0.0.1', 'port' in address ? address.port : 0); // -1: in progress
 * ```
 */
export * as sys from './sys/index.js';

import { defaultSelectorClass, type SelectorClass } from './backends.js';
import type { BaseSelector } from './selector.js';

/**
 * The best selector class of this platform (epoll on Linux, kqueue on
 * macOS/BSD, else poll, else select), or the one the environment variable
 * NODE_SELECTORS_BACKEND names (`NODE_SELECTORS_BACKEND=poll`), chosen when
 * the package is loaded. Loading throws `ERR_BACKEND_UNAVAILABLE` when that
 * variable names a backend this machine lacks.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, sys } from 'node-selectors';
 *
 * const [r, w] = sys.pipe();
 * const selector = new DefaultSelector();
 * selector.register(r, EVENT_READ);
 * sys.write(w, new Uint8Array([1]));
 * console.log(selector.backend, selector.select(0).length); // 'epoll' 1 (on Linux)
 * selector.close();
 * ```
 */
export const DefaultSelector: SelectorClass = defaultSelectorClass();
/** The type of a {@link DefaultSelector} instance: a {@link BaseSelector}. */
export type DefaultSelector<T = unknown> = BaseSelector<T>;
export * from './reactor/index.js';
