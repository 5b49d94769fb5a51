import { BaseSelector } from '../selector.js';

/** kqueue(2), macOS and the BSDs: level, edge (EV_CLEAR) and oneshot (EV_DISPATCH). */
export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  /**
   * Opens a new kqueue instance.
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks kqueue.
   * @throws {@link SystemError} when the kernel refuses a new instance (`EMFILE`, ...).
   */
  constructor() {
    super('kqueue');
  }

  /** The kqueue's fd: it is readable when a wait would report events.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed. */
  fileno(): number {
    return this.kernelFd();
  }
}
