import { BaseSelector } from '../selector.js';

/** epoll(7), Linux: cost grows with ready fds only; level, edge and oneshot triggers. */
export class EpollSelector<T = unknown> extends BaseSelector<T> {
  /**
   * Opens a new epoll instance.
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks epoll.
   * @throws {@link SystemError} when the kernel refuses a new instance (`EMFILE`, ...).
   */
  constructor() {
    super('epoll');
  }

  /** The epoll instance's fd: it is readable when a wait would report events.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed. */
  fileno(): number {
    return this.kernelFd();
  }
}
