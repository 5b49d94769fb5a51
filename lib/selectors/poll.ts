import { BaseSelector } from '../selector.js';

/** poll(2): no fd limit, cost grows with the number of registered fds. */
export class PollSelector<T = unknown> extends BaseSelector<T> {
  constructor() {
    super('poll');
  }
}
