import { BaseSelector } from '../selector.js';

/** io_uring(7) poll requests, Linux >= 5.11: level and oneshot triggers, and
 * edge (multishot poll) on Linux >= 5.13. Unavailable where the kernel
 * disables io_uring (kernel.io_uring_disabled, seccomp filters). */
export class IoUringSelector<T = unknown> extends BaseSelector<T> {
  constructor() {
    super('io_uring');
  }

  /** The ring's fd: it is readable when completions are waiting. */
  fileno(): number {
    return this.kernelFd();
  }
}
