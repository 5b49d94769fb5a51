// Far deadlines on a timerfd, for run(): the wait itself then has no timeout.
//
// A wait with a timeout costs the kernel a timer armed and cancelled every
// time the wait blocks: epoll_wait, poll, select and io_uring alike. A
// server's idle timeouts keep a timer pending all the time, so every
// blocking wait paid for one; on the study's workload (a connection per
// request, 10 in flight) that was 1.5–2 % of a request's CPU, half of what
// the 30 s idle timeout cost in all.
//
// A deadline that far away seldom moves earlier: idle timers are appended
// behind it, and cancelling the earliest one moves the earliest deadline
// later. So run() arms a timerfd at the earliest deadline once, watches it
// like any fd, and waits without a timeout. It re-arms only when a timer
// earlier than the armed time comes first, or after the timerfd fired. A
// wake-up before anything is due (the timer it was armed for was cancelled)
// fires nothing and re-arms at the new earliest deadline. A deadline nearer
// than FAR_MS stays the wait's own timeout: near timers come and go often (a
// retry a few ms away, a short callEvery), and each re-arm is a syscall.
//
// The timerfd is made with the reactor (one fd more, on Linux), so that the
// reactor's fds stay the same while timers come and go, and the selector
// watches it from the first far wait on. Where there is no timerfd (macOS,
// FreeBSD 13), or it cannot be made or watched, waits keep their timeout.
import { type BaseSelector, EVENT_READ } from '../selector.js';
import * as sys from '../sys/index.js';
import { clock } from './clock.js';

/** Deadlines at least this far away (ms) go on the timerfd. */
export const FAR_MS = 50;

// The timerfds of this thread's reactors not closed yet. A reactor's
// selector is released with it when it is collected without close(), or
// when its worker thread ends; its timerfd, a plain fd, is released the same
// way from here: when its FarTimer is collected, and when the thread exits.
const unclosed = new Set<number>();
const collected = new FinalizationRegistry<number>((fd) => {
  if (unclosed.delete(fd)) closeQuietly(fd);
});
let closedAtExit = false;

function closeQuietly(fd: number): void {
  try {
    sys.close(fd);
  } catch {
    // Closed under us already.
  }
}

/** @internal run()'s timerfd for far deadlines (see the file comment): made
 * with the reactor, so that a reactor's fds do not change as its timers come
 * and go; watched from the first wait that needs it; closed with the reactor. */
export class FarTimer {
  /** The timerfd, -1 where there is none (or it failed). */
  fd = -1;
  /** Whether the selector watches it yet. */
  #watched = false;
  /** When the timerfd expires (the reactor's clock, ms); Infinity while it
   * is disarmed or has fired since. */
  #armedAt = Infinity;
  /** The current wait has no timeout because the timerfd expires at or
   * before the earliest timer: until it fires, or an earlier timer is added
   * (the reactor then clears this), nothing is due, and the pass after the
   * wait needs no clock read. */
  waiting = false;
  readonly #expirations = new Uint8Array(8);

  constructor(private readonly selector: BaseSelector) {
    if (!sys.supports('timerfd')) return;
    try {
      this.fd = sys.timerfd();
    } catch {
      // No fd to spare (EMFILE): this reactor's waits keep their timeout.
      return;
    }
    unclosed.add(this.fd);
    collected.register(this, this.fd, this);
    if (!closedAtExit) {
      closedAtExit = true;
      process.once('exit', () => {
        for (const fd of unclosed) closeQuietly(fd);
        unclosed.clear();
      });
    }
  }

  /** Whether the timerfd is armed to expire at or before `deadline`. */
  covers(deadline: number): boolean {
    return this.#armedAt <= deadline;
  }

  /**
   * The timeout of run()'s next wait, whose earliest timer is due at
   * `deadline`: null when the timerfd wakes it (a far deadline; `waiting`
   * then set), else the ms left. `now` is a fresh clock reading, or NaN to
   * read one; none is read while the timerfd is armed for the deadline.
   */
  timeout(deadline: number, now: number): number | null {
    this.waiting = false;
    if (!this.covers(deadline)) {
      if (Number.isNaN(now)) now = clock();
      if (deadline - now < FAR_MS || !this.cover(deadline, now)) return Math.max(0, deadline - now);
    }
    this.waiting = true;
    return null;
  }

  /**
   * Makes sure the timerfd expires no later than `deadline` (`now` being
   * the clock reading `deadline` is measured from): nothing to do when it is
   * armed at or before it, else one re-arm. It expires at `deadline` or a
   * little after, never before: the relative time starts at the syscall,
   * after `now` was read. False where there is no usable timerfd: the wait
   * must then keep its timeout.
   */
  cover(deadline: number, now: number): boolean {
    if (this.covers(deadline)) return true;
    if (this.fd < 0) return false;
    try {
      if (!this.#watched) {
        this.selector.register(this.fd, EVENT_READ);
        this.#watched = true;
      }
      sys.timerfdSet(this.fd, Math.max(deadline - now, 0.001));
      this.#armedAt = deadline;
      return true;
    } catch {
      // No fd to spare (EMFILE), a selector that cannot watch it (select's
      // FD_SETSIZE), or the fd closed under us: timeouts from now on.
      this.close();
      return false;
    }
  }

  /** The timerfd is readable (it expired): takes the expiration, so that it
   * is not readable again until re-armed and expired. */
  expired(): void {
    this.#armedAt = Infinity;
    this.waiting = false;
    try {
      sys.read(this.fd, this.#expirations);
    } catch {
      this.close(); // closed under us
    }
  }

  /** Closes the timerfd, taking it out of the selector if that watches it
   * and is still open; later waits keep their timeout. */
  close(): void {
    this.#armedAt = Infinity;
    this.waiting = false;
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    try {
      if (this.#watched && !this.selector.closed) this.selector.unregister(fd);
    } catch {
      // Not registered any more: only the fd is left to close.
    }
    this.#watched = false;
    unclosed.delete(fd);
    collected.unregister(this);
    closeQuietly(fd);
  }
}
