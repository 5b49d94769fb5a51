// attach(): the reactor inside Node's event loop. The native Watcher wakes
// it (a libuv poll handle on the selector's kernel fd, or a helper thread
// for poll/select) and a libuv timer for its next deadline; each wake-up is
// one non-blocking pass. Node's own IO, timers and Promises go on meanwhile.
//
// The core (core.ts) owns one while attached and talks to it only through
// the Attachment interface; this file knows nothing of the reactor but its
// selector and the pass to run on each wake-up.
import { binding, type NativeWatcher } from '../native.js';
import type { BaseSelector } from '../selector.js';
import { clock } from './clock.js';

/** @internal How the reactor is woken inside Node's loop. */
export interface Attachment {
  /** The interest in `fd` changed (0: removed). */
  interest(fd: number, events: number): void;
  /** Asks for the next pass at `deadline` (performance.now() clock; 0: at
   * once; Infinity: only on IO); `handlers` says whether any fd is watched. */
  rearm(deadline: number, handlers: boolean): void;
  ref(on: boolean): void;
  close(): void;
}

const TIMER = 1;

// The backend says whether its kernel object is readable exactly when a wait
// would report events, so libuv can watch it directly (epoll, and kqueue on a
// BSD kernel). io_uring's ring fd is not: the backend queues poll requests and
// submits them in its next wait, so interest added (or re-armed) after a wait
// is invisible on the ring until then; libkqueue's fd is never readable. They
// go, with poll and select, through the helper thread, whose mirror does its
// own waits.

/** @internal */
export class NodeLoopAttachment implements Attachment {
  readonly #watcher: NativeWatcher;
  // Only the helper thread (no kernel fd) needs to hear of interest changes.
  readonly #mirrors: boolean;
  #armed = Infinity; // the deadline the native timer is set for
  #refed = true;
  #handlers = false;

  /** Watches `selector` from Node's loop and calls `pass` on each wake-up
   * (IO on the selector's fds, or the timer set by rearm). */
  constructor(selector: BaseSelector, pass: () => void) {
    const fd = selector.pollableFd();
    this.#mirrors = fd < 0;
    this.#watcher = new binding.Watcher(selector.backend, fd, (kind) => {
      if (kind === TIMER) this.#armed = Infinity; // it fired; it is no longer set
      pass();
    });
  }

  interest(fd: number, events: number): void {
    if (this.#mirrors) this.#watcher.interest(fd, events);
  }

  rearm(deadline: number, handlers: boolean): void {
    if (deadline !== this.#armed) {
      this.#armed = deadline;
      this.#watcher.setTimer(deadline === Infinity ? -1 : Math.max(0, deadline - clock()));
    }
    if (handlers !== this.#handlers) {
      this.#handlers = handlers;
      this.#applyRef();
    }
  }

  ref(on: boolean): void {
    this.#refed = on;
    this.#applyRef();
  }

  close(): void {
    this.#watcher.close();
  }

  // The IO handle keeps the process alive only while there is a handler to
  // wait for, the timer only while it is set (libuv's own rule), and
  // neither once unref()ed.
  #applyRef(): void {
    this.#watcher.setRef(this.#refed && this.#handlers, this.#refed);
  }
}
