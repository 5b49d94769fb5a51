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
export * as sys from './sys.js';

import { defaultSelectorClass, type SelectorClass } from './backends.js';
import type { BaseSelector } from './selector.js';

/** The best selector class of this platform (epoll on Linux, kqueue on
 * macOS/BSD, else poll, else select), or the one NODE_SELECTORS_BACKEND names. */
export const DefaultSelector: SelectorClass = defaultSelectorClass();
export type DefaultSelector<T = unknown> = BaseSelector<T>;
export * from './reactor/index.js';
