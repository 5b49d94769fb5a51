// The request scanner of the keep-alive hello servers (examples/hello.ts,
// examples/hello-reactor.ts and bench/servers/net.ts with --keep-alive), the
// same rules as bench/c/hello_epoll.c, those of HTTP/1.1 (RFC 9112 §9.3):
//
//  - a request is its request line and headers, up to the first
//    "\r\n\r\n" (bodies are not supported: a hello server is sent none);
//  - an HTTP/1.1 request keeps the connection unless its headers say
//    `Connection: close`; an HTTP/1.0 one keeps it only with
//    `Connection: keep-alive` (and without `close`), and its reply then
//    says `Connection: keep-alive` (HTTP10_KEEP_ALIVE_REPLY), without which
//    an HTTP/1.0 client (ab -k) waits for the close; the Connection header
//    is a list of tokens, any case;
//  - the client asks to close after a request that does not keep the
//    connection; the requests after it are not counted;
//  - a request may be HEADER_LIMIT (8 KiB) bytes long at most: a longer one,
//    complete or not, is `tooLarge` (the servers answer TOO_LARGE_REPLY
//    and close).
//
// It reads bytes, never decodes strings, and allocates nothing: the result
// goes into a RequestScan the caller keeps. A server keeps the bytes after
// `consumed` (a request not complete yet) and scans them again with the
// next read in front of them, passing how many it already scanned: a
// request is judged once whole, however its bytes were split across reads.
//
//   const scan = new RequestScan();
//   scanRequests(buf, length, scan, leftover);
//   if (scan.requests > 0) send(replies(scan)); // scan.replyLength bytes

/** The longest request (request line and headers) a connection may send. */
export const HEADER_LIMIT = 8192;

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The answer to every request on a kept connection, but an HTTP/1.0 one. */
export const KEEP_ALIVE_REPLY = encode('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
/** The length of KEEP_ALIVE_REPLY. */
export const REPLY_LENGTH = KEEP_ALIVE_REPLY.length;
/** The answer to an HTTP/1.0 request asking to keep the connection: it
 * must say it is kept, or an HTTP/1.0 client waits for the close. */
export const HTTP10_KEEP_ALIVE_REPLY = encode('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 11\r\n\r\nhello world');
/** The length of HTTP10_KEEP_ALIVE_REPLY. */
export const HTTP10_REPLY_LENGTH = HTTP10_KEEP_ALIVE_REPLY.length;
/** The answer to a request longer than HEADER_LIMIT, before closing. */
export const TOO_LARGE_REPLY = encode('HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');

/** What scanRequests found. */
export class RequestScan {
  /** Complete requests, each to be answered, in order. */
  requests = 0;
  /** Bytes they take from the start of the buffer; what follows is the
   * start of a request not complete yet (unless `close` or `tooLarge`). */
  consumed = 0;
  /** The last counted request asks to close the connection after its reply. */
  close = false;
  /** After the counted requests comes one longer than HEADER_LIMIT. */
  tooLarge = false;
  /** How many of the counted requests are HTTP/1.0 ones that keep the
   * connection, answered with HTTP10_KEEP_ALIVE_REPLY (the others with
   * KEEP_ALIVE_REPLY). */
  http10 = 0;
  /** The bytes of the replies to the counted requests (see replies()). */
  replyLength = 0;
  /** Per counted request, in order: 1 when it is answered with
   * HTTP10_KEEP_ALIVE_REPLY, else 0 (read when both kinds are counted). It
   * grows when a scan counts more requests than it holds. */
  kinds = new Uint8Array(HEADER_LIMIT / 4);
}

const CR = 13;
const LF = 10;
// "HTTP/1.0"
const HTTP10 = [72, 84, 84, 80, 47, 49, 46, 48] as const;
const CONNECTION = encode('connection:');
const CLOSE = encode('close');
const KEEP_ALIVE = encode('keep-alive');

/** What a request asks of its connection: */
const KEEP = 0; // kept (HTTP/1.1): KEEP_ALIVE_REPLY
const KEEP_HTTP10 = 1; // kept (HTTP/1.0 with keep-alive): HTTP10_KEEP_ALIVE_REPLY
const CLOSE_AFTER = 2; // closed after its reply, KEEP_ALIVE_REPLY

const lower = (b: number): number => (b >= 65 && b <= 90 ? b + 32 : b);

/** Whether buf[at, at + word.length) is `word` (lower-case ASCII), ignoring case. */
function equalsLower(buf: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (end - at !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(buf[at + i]!) !== word[i]) return false;
  return true;
}

/** What the value of a Connection header, buf[at, stop), says: a
 * comma-separated list of tokens, any case. CLOSE_AFTER when it holds
 * `close`, else KEEP_HTTP10 when it holds `keep-alive`, else KEEP. */
function connectionTokens(buf: Uint8Array, at: number, stop: number): number {
  let keepAlive = false;
  let p = at;
  while (p < stop) {
    while (p < stop && (buf[p] === 32 || buf[p] === 9 || buf[p] === 44)) p++;
    const t = p;
    while (p < stop && buf[p] !== 44) p++;
    let te = p;
    while (te > t && (buf[te - 1] === 32 || buf[te - 1] === 9)) te--;
    if (equalsLower(buf, t, te, CLOSE)) return CLOSE_AFTER;
    if (equalsLower(buf, t, te, KEEP_ALIVE)) keepAlive = true;
  }
  return keepAlive ? KEEP_HTTP10 : KEEP;
}

/** What the request head buf[start, end) asks of its connection: KEEP,
 * KEEP_HTTP10 or CLOSE_AFTER. */
function connectionKind(buf: Uint8Array, start: number, end: number): number {
  let http10 = false;
  let keepAlive = false;
  let first = true;
  let line = start;
  while (line < end) {
    let eol = line;
    while (eol < end && buf[eol] !== LF) eol++;
    const stop = eol > line && buf[eol - 1] === CR ? eol - 1 : eol;
    if (first) {
      first = false;
      if (stop - line >= 8) {
        http10 = true;
        for (let i = 0; i < 8; i++) {
          if (buf[stop - 8 + i] !== HTTP10[i]) {
            http10 = false;
            break;
          }
        }
      }
    } else if (stop - line > 11 && lower(buf[line]!) === 99 /* c */ && equalsLower(buf, line, line + 11, CONNECTION)) {
      const tokens = connectionTokens(buf, line + 11, stop);
      if (tokens === CLOSE_AFTER) return CLOSE_AFTER;
      if (tokens === KEEP_HTTP10) keepAlive = true;
    }
    line = eol + 1;
  }
  if (!http10) return KEEP;
  return keepAlive ? KEEP_HTTP10 : CLOSE_AFTER;
}

/** Scans buf[0, length) for complete requests into `into` (which it
 * returns). `scanned`: how many bytes at the start of buf an earlier call
 * already scanned without finding the end of a request (the bytes a server
 * kept), so that they are not searched again.
 *
 * A request that starts in this read is read in one pass, line by line:
 * the first line says HTTP/1.0 or not, a line starting with `c` may be the
 * Connection header, and a line that is just CRLF after a line ending in
 * CRLF ends the request ("\r\n\r\n"). The start of a request a server
 * kept is instead searched for its end from where the last search stopped,
 * skipping bytes that cannot be part of "\r\n\r\n", and its lines read
 * once it is whole (connectionKind): so a request trickling in byte by byte
 * costs O(length) in all, not O(length²). */
export function scanRequests(buf: Uint8Array, length: number, into: RequestScan = new RequestScan(), scanned = 0): RequestScan {
  let requests = 0;
  let http10 = 0;
  let start = 0;
  let close = false;
  let tooLarge = false;
  let kinds = into.kinds;
  while (start < length) {
    let end: number;
    let kind: number;
    if (start === 0 && scanned > 0) {
      end = endOfHead(buf, length, scanned);
      if (end === -1) break;
      if (end > HEADER_LIMIT) {
        tooLarge = true;
        break;
      }
      kind = connectionKind(buf, 0, end);
    } else {
      // One pass over the lines of the request starting at `start`.
      let p = start;
      while (p < length && buf[p] !== LF) p++;
      if (p === length) break;
      // The first line: HTTP/1.0 or not.
      const stop = p > start && buf[p - 1] === CR ? p - 1 : p;
      let isHttp10 = false;
      if (stop - start >= 8 && buf[stop - 1] === 48 /* 0 */) {
        isHttp10 = true;
        for (let i = 0; i < 7; i++) {
          if (buf[stop - 8 + i] !== HTTP10[i]) {
            isHttp10 = false;
            break;
          }
        }
      }
      let keepAlive = false;
      kind = KEEP;
      // The LF ending the previous line is at p; end: just after the
      // request's last LF, once found.
      end = -1;
      for (;;) {
        const line = p + 1;
        if (line >= length) break;
        const first = buf[line];
        if (first === CR) {
          // "\r\n" after a line ending in "\r\n": the end of the request.
          // (When the first line is empty, buf[p - 1] is the LF ending the
          // request before, or nothing: no end there.)
          if (line + 1 >= length) break;
          if (buf[line + 1] === LF && buf[p - 1] === CR) {
            end = line + 2;
            break;
          }
        }
        p = line;
        while (p < length && buf[p] !== LF) p++;
        if (p === length) break;
        if ((first === 99 || first === 67) /* c, C */ && kind === KEEP) {
          const lineStop = buf[p - 1] === CR ? p - 1 : p;
          if (lineStop - line > 11 && equalsLower(buf, line, line + 11, CONNECTION)) {
            const tokens = connectionTokens(buf, line + 11, lineStop);
            if (tokens === CLOSE_AFTER) kind = CLOSE_AFTER;
            else if (tokens === KEEP_HTTP10) keepAlive = true;
          }
        }
      }
      if (end === -1) break;
      if (end - start > HEADER_LIMIT) {
        tooLarge = true;
        break;
      }
      if (kind !== CLOSE_AFTER && isHttp10) kind = keepAlive ? KEEP_HTTP10 : CLOSE_AFTER;
    }
    if (requests === kinds.length) {
      const grown = new Uint8Array(kinds.length * 2);
      grown.set(kinds);
      kinds = into.kinds = grown;
    }
    if (kind === KEEP_HTTP10) {
      kinds[requests] = 1;
      http10++;
    } else {
      kinds[requests] = 0;
    }
    requests++;
    start = end;
    if (kind === CLOSE_AFTER) {
      close = true;
      break;
    }
  }
  if (!close && !tooLarge && length - start >= HEADER_LIMIT) tooLarge = true;
  into.requests = requests;
  into.consumed = start;
  into.close = close;
  into.tooLarge = tooLarge;
  into.http10 = http10;
  into.replyLength = (requests - http10) * REPLY_LENGTH + http10 * HTTP10_REPLY_LENGTH;
  return into;
}

/** Where the first "\r\n\r\n" of buf[0, length) ends (just after its LF),
 * searching only what may end at or after `scanned` (earlier bytes were
 * searched already); -1 when there is none yet. */
function endOfHead(buf: Uint8Array, length: number, scanned: number): number {
  // j: where the "\r\n\r\n" being looked for would end (its LF).
  let j = (scanned > 3 ? scanned - 3 : 0) + 3;
  while (j < length) {
    const b = buf[j];
    if (b === LF) {
      if (buf[j - 1] === CR && buf[j - 2] === LF && buf[j - 3] === CR) return j + 1;
      j += 2; // an end at j + 1 would need a CR at j
    } else if (b === CR) {
      j += 1;
    } else {
      j += 4; // no end of a request can hold this byte
    }
  }
  return -1;
}

/** `n` copies of `reply` back to back, at the start of `cached` when it
 * holds that many, else in a new buffer (twice as many as the last, so
 * that growing is rare). */
function repeated(cached: Uint8Array, reply: Uint8Array, n: number): Uint8Array {
  if (n * reply.length <= cached.length) return cached;
  let count = Math.max(1, cached.length / reply.length);
  while (count < n) count *= 2;
  const grown = new Uint8Array(count * reply.length);
  for (let i = 0; i < count; i++) grown.set(reply, i * reply.length);
  return grown;
}

let keptReplies: Uint8Array = new Uint8Array(0);
let http10Replies: Uint8Array = new Uint8Array(0);

/** A buffer that starts with at least `n` copies of KEEP_ALIVE_REPLY back
 * to back (send its first n * REPLY_LENGTH bytes). It is cached and grows
 * on demand; a grown one starts with the same bytes, and an earlier one is
 * never written again, so replies queued from it stay valid. */
export function replyBuffer(n: number): Uint8Array {
  return (keptReplies = repeated(keptReplies, KEEP_ALIVE_REPLY, n));
}

/** replyBuffer() for HTTP10_KEEP_ALIVE_REPLY: at least `n` copies of it. */
export function http10ReplyBuffer(n: number): Uint8Array {
  return (http10Replies = repeated(http10Replies, HTTP10_KEEP_ALIVE_REPLY, n));
}

/** Per count n, the view of a cached buffer's first n replies that
 * replies() hands out: made once per n (and again when the buffer grows). */
const keptViews: Uint8Array[] = [];
const http10Views: Uint8Array[] = [];

/** The first `n` replies of `cached` (n copies of a reply of `length`
 * bytes), as one view kept in views[n]. */
function firstReplies(views: Uint8Array[], cached: Uint8Array, n: number, length: number): Uint8Array {
  const view = views[n];
  if (view !== undefined && view.buffer === cached.buffer) return view;
  return (views[n] = cached.subarray(0, n * length));
}

/** The replies to the requests `scan` counted, in order: a buffer of
 * exactly scan.replyLength bytes, so that a server sends it whole (the
 * cheapest form of sys.send). When they are all of one kind (all HTTP/1.1,
 * or all HTTP/1.0 keeping the connection), that is a view of the first
 * replies of the cached replyBuffer() or http10ReplyBuffer(), the same
 * view for the same count; only a read mixing both gets a new buffer. No
 * buffer it returns is written again. */
export function replies(scan: RequestScan): Uint8Array {
  const n = scan.requests;
  const http10 = scan.http10;
  if (http10 === 0) return firstReplies(keptViews, replyBuffer(n), n, REPLY_LENGTH);
  if (http10 === n) return firstReplies(http10Views, http10ReplyBuffer(n), n, HTTP10_REPLY_LENGTH);
  const mixed = new Uint8Array(scan.replyLength);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const reply = scan.kinds[i] === 1 ? HTTP10_KEEP_ALIVE_REPLY : KEEP_ALIVE_REPLY;
    mixed.set(reply, at);
    at += reply.length;
  }
  return mixed;
}

// Start with room for the requests of one full read of small requests.
replyBuffer(64);
http10ReplyBuffer(64);
