// The one place that decides which backends exist and which is the default:
// by feature detection (what this build compiled in and the kernel accepts),
// never by OS name.
import { codedError, codedTypeError, describe } from './errors.js';
import { binding } from './native.js';
import type { BackendName, BaseSelector } from './selector.js';
import { EpollSelector } from './selectors/epoll.js';
import { IoUringSelector } from './selectors/io_uring.js';
import { KqueueSelector } from './selectors/kqueue.js';
import { PollSelector } from './selectors/poll.js';
import { SelectSelector } from './selectors/select.js';

/**
 * A selector class: `new SelectorClass<T>()` opens a selector of its
 * backend. What {@link DefaultSelector} and {@link selectorClass} are.
 */
export type SelectorClass = new <T = unknown>() => BaseSelector<T>;

const SELECTOR_CLASSES: Record<BackendName, SelectorClass> = {
  epoll: EpollSelector,
  io_uring: IoUringSelector,
  kqueue: KqueueSelector,
  poll: PollSelector,
  select: SelectSelector,
};

/** Every backend name this package knows, whether or not this machine has it. */
export const BACKEND_NAMES = Object.keys(SELECTOR_CLASSES) as readonly BackendName[];

/**
 * The selector class of backend `name` (`selectorClass('poll')` is
 * PollSelector). Known names always give a class; constructing one this
 * machine lacks throws ERR_BACKEND_UNAVAILABLE (see availableBackends()).
 * @throws `ERR_INVALID_ARG_VALUE` (TypeError) when `name` is not one of {@link BACKEND_NAMES}.
 *
 * @example
 * ```ts
 * for (const name of availableBackends()) {
 *   using selector = new (selectorClass(name))();
 *   console.log(name, selector.timeoutResolution, 'ms');
 * }
 * ```
 */
export function selectorClass(name: BackendName): SelectorClass {
  if (typeof name !== 'string' || !Object.hasOwn(SELECTOR_CLASSES, name)) {
    throw codedTypeError('ERR_INVALID_ARG_VALUE', `backend must be one of ${BACKEND_NAMES.join(', ')}, got ${describe(name)}`);
  }
  return SELECTOR_CLASSES[name];
}

let available: BackendName[] | undefined;

/** The backends usable on this machine, best first: compiled in, and
 * accepted by the kernel (io_uring may be disabled or filtered). The first
 * call opens and closes one selector of each to find out; a new array each
 * call. */
export function availableBackends(): BackendName[] {
  available ??= (binding.backends as BackendName[]).filter((name) => {
    if (!Object.hasOwn(SELECTOR_CLASSES, name)) return false;
    const Ctor = SELECTOR_CLASSES[name];
    try {
      new Ctor().close();
      return true;
    } catch {
      return false;
    }
  });
  return [...available];
}

/** @internal The class DefaultSelector stands for. NODE_SELECTORS_BACKEND=poll (say)
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
    return SELECTOR_CLASSES[forced as BackendName];
  }
  const best = backends[0];
  if (best === undefined) throw codedError('ERR_BACKEND_UNAVAILABLE', 'no selector backend is available');
  return SELECTOR_CLASSES[best];
}
