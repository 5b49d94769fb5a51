import { BaseSelector } from '../selector.js';

/** epoll(7), Linux: cost grows with ready fds only; level, edge and oneshot triggers. */
export class EpollSelector<T = unknown> extends BaseSelector<T> {
  constructor() {
    super('epoll');
  }

  /** The epoll instance's fd: it is readable when a wait would report events. */
  fileno(): number {
    return this.kernelFd();
  }
}
