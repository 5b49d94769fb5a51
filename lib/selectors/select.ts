import { codedRangeError } from '../errors.js';
import { BaseSelector, FD_SETSIZE } from '../selector.js';

/** select(2): portable, limited to fds below FD_SETSIZE, cost grows with the highest fd. */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  /**
   * A new select(2) selector (no kernel object: the fds are passed to each wait).
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks select.
   */
  constructor() {
    super('select');
  }

  // An fd_set has FD_SETSIZE bits; a larger fd would be written out of bounds.
  protected override checkFdLimit(fd: number): void {
    if (fd >= FD_SETSIZE) {
      throw codedRangeError('ERR_FD_OUT_OF_RANGE', `select() cannot watch fd ${fd}: it is >= FD_SETSIZE (${FD_SETSIZE})`);
    }
  }
}
