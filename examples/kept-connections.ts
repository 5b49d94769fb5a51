// Kept HTTP/1.1 (and HTTP/1.0 keep-alive) connections on raw fds, for the hello servers' --keep-alive
// (examples/hello.ts and the callbacks style of examples/hello-reactor.ts),
// by the rules of support/http1.ts: on readability it reads until -1 and,
// after each read, sends the replies to every request that read completed
// with one send, in order; the start of a request not complete yet is kept
// for the next read. Replies the kernel does not take wait for
// writability, and reading stops meanwhile. A connection is closed at end
// of stream, after the reply to a request asking to close, and after a 431
// (best effort) to a request over 8 KiB.
//
// The owner of the fds says how to change what an fd is waited for and how
// to drop it; nothing is allocated per request but the copy of a request's
// incomplete start.
import { EVENT_READ, EVENT_WRITE, sys } from '../lib/index.js';
import { HEADER_LIMIT, replies, RequestScan, scanRequests, TOO_LARGE_REPLY } from '../support/http1.js';

/** What KeptConnections needs from the loop that owns the fds. */
export interface KeptOwner {
  /** Waits for `events` on fd from now on: EVENT_READ, or EVENT_WRITE
   * while replies wait for the kernel. */
  watch(fd: number, events: number): void;
  /** Stops watching fd and closes it. */
  drop(fd: number): void;
  /** A read of fd completed at least one request (e.g. to restart an idle timer). */
  requested?(fd: number): void;
}

export class KeptConnections {
  readonly #owner: KeptOwner;
  readonly #input = new Uint8Array(HEADER_LIMIT);
  readonly #scan = new RequestScan();
  /** Per fd: the start of a request not complete yet, copied out of #input. */
  readonly #kept: Array<Uint8Array | undefined> = [];
  /** Per fd: replies not yet taken by the kernel, as a buffer replies()
   * returned (never written again) with an offset and a length into it,
   * and whether to close once they are out. */
  readonly #pending: Array<Uint8Array | undefined> = [];
  readonly #pendingAt: number[] = [];
  readonly #pendingLength: number[] = [];
  readonly #closeAfter: boolean[] = [];

  constructor(owner: KeptOwner) {
    this.#owner = owner;
  }

  /** Handles `events` ready on a kept connection. */
  serve(fd: number, events: number): void {
    try {
      if (events & EVENT_READ) this.#read(fd);
      else if (events & EVENT_WRITE) this.#writePending(fd);
    } catch {
      // The client went away (ECONNRESET, EPIPE): nothing to answer.
      this.close(fd);
    }
  }

  /** Forgets fd's state and drops it. */
  close(fd: number): void {
    this.#kept[fd] = undefined;
    this.#pendingLength[fd] = 0;
    this.#pending[fd] = undefined;
    this.#owner.drop(fd);
  }

  #read(fd: number): void {
    const input = this.#input;
    const scan = this.#scan;
    for (;;) {
      const head = this.#kept[fd];
      const start = head === undefined ? 0 : head.length;
      if (head !== undefined) input.set(head);
      const n = sys.recv(fd, input, start, HEADER_LIMIT - start);
      if (n === -1) return; // drained: wait again (the head stays kept)
      if (n === 0) return this.close(fd);
      const length = start + n;
      scanRequests(input, length, scan, start);
      const closing = scan.close || scan.tooLarge;
      this.#kept[fd] = !closing && scan.consumed < length ? input.slice(scan.consumed, length) : undefined;
      if (scan.requests > 0) this.#owner.requested?.(fd);
      const bytes = scan.replyLength;
      if (scan.tooLarge) {
        if (bytes > 0) sys.send(fd, replies(scan), 0, bytes);
        sys.send(fd, TOO_LARGE_REPLY);
        return this.close(fd);
      }
      if (bytes > 0 && !this.#send(fd, replies(scan), 0, bytes, closing)) {
        this.#owner.watch(fd, EVENT_WRITE); // read no more until the replies are out
        return;
      }
      if (closing) return this.close(fd);
    }
  }

  /** Sends `length` bytes of `buf` from `at`; false when some are left. */
  #send(fd: number, buf: Uint8Array, at: number, length: number, closing: boolean): boolean {
    const sent = sys.send(fd, buf, at, length);
    const n = sent === -1 ? 0 : sent;
    if (n === length) return true;
    this.#pending[fd] = buf;
    this.#pendingAt[fd] = at + n;
    this.#pendingLength[fd] = length - n;
    this.#closeAfter[fd] = closing;
    return false;
  }

  #writePending(fd: number): void {
    const length = this.#pendingLength[fd] ?? 0;
    if (length > 0 && !this.#send(fd, this.#pending[fd]!, this.#pendingAt[fd]!, length, this.#closeAfter[fd]!)) return;
    this.#pendingLength[fd] = 0;
    this.#pending[fd] = undefined;
    if (this.#closeAfter[fd]) return this.close(fd);
    this.#owner.watch(fd, EVENT_READ);
  }
}
