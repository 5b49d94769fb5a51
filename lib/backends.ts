// The one place that decides which backends exist and which is the default:
// by feature detection (what this build compiled in and the kernel accepts),
// never by OS name.
import { codedError } from './errors.js';
import { binding } from './native.js';
import type { BackendName, BaseSelector } from './selector.js';
import { EpollSelector } from './selectors/epoll.js';
import { IoUringSelector } from './selectors/io_uring.js';
import { KqueueSelector } from './selectors/kqueue.js';
import { PollSelector } from './selectors/poll.js';
import { SelectSelector } from './selectors/select.js';

export type SelectorClass = new <T = unknown>() => BaseSelector<T>;

export const SELECTOR_CLASSES: Record<string, SelectorClass> = {
  epoll: EpollSelector,
  io_uring: IoUringSelector,
  kqueue: KqueueSelector,
  poll: PollSelector,
  select: SelectSelector,
};

let available: BackendName[] | undefined;

/** The backends usable on this machine, best first: compiled in, and
 * accepted by the kernel (io_uring may be disabled or filtered). */
export function availableBackends(): BackendName[] {
  available ??= (binding.backends as BackendName[]).filter((name) => {
    const Ctor = SELECTOR_CLASSES[name];
    if (Ctor === undefined) return false;
    try {
      new Ctor().close();
      return true;
    } catch {
      return false;
    }
  });
  return [...available];
}

/** The class DefaultSelector stands for. NODE_SELECTORS_BACKEND=poll (say)
 * forces a backend, so a whole test suite can run on each one. */
export function defaultSelectorClass(): SelectorClass {
  const forced = process.env['NODE_SELECTORS_BACKEND'];
  const backends = availableBackends();
  if (forced) {
    if (!backends.includes(forced as BackendName)) {
      throw codedError(
        'ERR_BACKEND_UNAVAILABLE',
        `NODE_SELECTORS_BACKEND=${forced}, but this machine has only: ${backends.join(', ')}`,
      );
    }
    return SELECTOR_CLASSES[forced]!;
  }
  const best = backends[0];
  if (best === undefined) throw codedError('ERR_BACKEND_UNAVAILABLE', 'no selector backend is available');
  return SELECTOR_CLASSES[best]!;
}
