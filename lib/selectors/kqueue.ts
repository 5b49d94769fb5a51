import { BaseSelector } from '../selector.js';

/** kqueue(2), macOS and the BSDs: level, edge (EV_CLEAR) and oneshot (EV_DISPATCH). */
export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  constructor() {
    super('kqueue');
  }

  /** The kqueue's fd: it is readable when a wait would report events. */
  fileno(): number {
    return this.kernelFd();
  }
}
