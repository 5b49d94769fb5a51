// Resources collected without close() are made visible, as Python's
// `ResourceWarning: unclosed selector` does. The addon counts the selectors
// finalized while still open (their kernel objects are freed then either
// way); the first time the count has grown, a process warning of type
// 'ResourceWarning' names the call that was missed, once per process and
// kind (selector, reactor). The count is read when a selector is created or
// closed and when a reactor starts, so a program that forgets close() hears
// of it before it runs out of fds, at the cost of one native call at each.
// (A FinalizationRegistry would warn sooner but costs heap: V8 keeps every
// registered object's weak cell until a full collection.)

import { binding } from './native.js';

let open = 0;
const warned = [false, false];

const MESSAGES = [
  'unclosed selector: a selector was garbage-collected without close(), holding its kernel object and fds until ' +
    'then. Call selector.close() (or declare it with `using`) when done with it. (Reported once per process.)',
  'unclosed reactor: a Reactor was garbage-collected without close(), holding its selector and handlers until ' +
    'then. Call reactor.close() (or declare it with `using`) when done with it. (Reported once per process.)',
] as const;

/** @internal Emits the ResourceWarning of each kind whose first collected-open
 * resource has been seen, once per process. */
export function warnUnclosed(): void {
  if (warned[0] && warned[1]) return;
  const counts = binding.collectedOpen();
  for (let kind = 0; kind < 2; kind++) {
    if (warned[kind] || counts[kind] === 0) continue;
    warned[kind] = true;
    process.emitWarning(MESSAGES[kind]!, { type: 'ResourceWarning' });
  }
}

/** @internal A selector was created (+1) or closed (-1). */
export function countOpenSelector(delta: 1 | -1): void {
  open += delta;
}

/** @internal The selectors of this thread that are open: created, neither closed nor
 * collected. For the hint on an EMFILE. */
export function openSelectors(): number {
  const [byUsers, byReactors] = binding.collectedOpen();
  return open - byUsers - byReactors;
}
