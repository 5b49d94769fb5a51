import { BaseSelector } from '../selector.js';

/** poll(2): no fd limit, cost grows with the number of registered fds. */
export class PollSelector<T = unknown> extends BaseSelector<T> {
  /**
   * A new poll(2) selector (no kernel object: the fds are passed to each wait).
   * @throws `ERR_BACKEND_UNAVAILABLE` (Error) when this build or kernel lacks poll.
   */
  constructor() {
    super('poll');
  }
}
