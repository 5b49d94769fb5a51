import { BaseSelector } from '../selector.js';

/** io_uring(7) poll requests, Linux >= 5.11: level and oneshot triggers, and
 * edge (multishot poll) on Linux >= 5.13. Unavailable where the kernel
 * disables io_uring (kernel.io_uring_disabled, seccomp filters). */
export class IoUringSelector<T = unknown> extends BaseSelector<T> {
  /**
   * Opens a new io_uring instance.
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks io_uring.
   * @throws {@link SystemError} when the kernel refuses a new instance (`EMFILE`, ...).
   */
  constructor() {
    super('io_uring');
  }

  /** The ring's fd: it is readable when completions are waiting.
   * @throws `ERR_SELECTOR_CLOSED` (Error) when the selector is closed. */
  fileno(): number {
    return this.kernelFd();
  }
}
