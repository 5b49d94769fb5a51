// The request scanner of the keep-alive hello servers (examples/hello.ts,
// examples/hello-reactor.ts and bench/servers/net.ts with --keep-alive), the
// same rules as bench/c/hello_epoll.c:
//
//  - a request is its request line and headers, up to the first
//    "\r\n\r\n" (bodies are not supported: a hello server is sent none);
//  - the client asks to close after a request whose headers say
//    `Connection: close`, or that is HTTP/1.0 without
//    `Connection: keep-alive`; the requests after it are not counted;
//  - a request may be HEADER_LIMIT (8 KiB) bytes long at most: a longer one,
//    complete or not, is `tooLarge` (the servers answer TOO_LARGE_REPLY
//    and close).
//
// It reads bytes, never decodes strings, and allocates nothing: the result
// goes into a RequestScan the caller keeps. A server keeps the bytes after
// `consumed` (a request not complete yet) and scans them again with the
// next read in front of them, passing how many it already scanned.
//
//   const scan = new RequestScan();
//   scanRequests(buf, length, scan, leftover);
//   if (scan.requests > 0) send(replyBuffer(scan.requests), scan.requests * REPLY_LENGTH);

/** The longest request (request line and headers) a connection may send. */
export const HEADER_LIMIT = 8192;

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The answer to every request on a kept connection. */
export const KEEP_ALIVE_REPLY = encode('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
export const REPLY_LENGTH = KEEP_ALIVE_REPLY.length;
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
}

const CR = 13;
const LF = 10;
// "HTTP/1.0"
const HTTP10 = [72, 84, 84, 80, 47, 49, 46, 48] as const;
const CONNECTION = encode('connection:');
const CLOSE = encode('close');
const KEEP_ALIVE = encode('keep-alive');

const lower = (b: number): number => (b >= 65 && b <= 90 ? b + 32 : b);

/** Whether buf[at, at + word.length) is `word` (lower-case ASCII), ignoring case. */
function equalsLower(buf: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (end - at !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(buf[at + i]!) !== word[i]) return false;
  return true;
}

/** Whether the request head buf[start, end) asks to close after its reply. */
function wantsClose(buf: Uint8Array, start: number, end: number): boolean {
  let close = false;
  let first = true;
  let line = start;
  while (line < end) {
    let eol = line;
    while (eol < end && buf[eol] !== LF) eol++;
    const stop = eol > line && buf[eol - 1] === CR ? eol - 1 : eol;
    if (first) {
      first = false;
      if (stop - line >= 8) {
        close = true;
        for (let i = 0; i < 8; i++) {
          if (buf[stop - 8 + i] !== HTTP10[i]) {
            close = false;
            break;
          }
        }
      }
    } else if (stop - line > 11 && lower(buf[line]!) === 99 /* c */ && equalsLower(buf, line, line + 11, CONNECTION)) {
      // A comma-separated list of tokens.
      let p = line + 11;
      while (p < stop) {
        while (p < stop && (buf[p] === 32 || buf[p] === 9 || buf[p] === 44)) p++;
        const t = p;
        while (p < stop && buf[p] !== 44) p++;
        let te = p;
        while (te > t && (buf[te - 1] === 32 || buf[te - 1] === 9)) te--;
        if (equalsLower(buf, t, te, CLOSE)) return true;
        if (equalsLower(buf, t, te, KEEP_ALIVE)) close = false;
      }
    }
    line = eol + 1;
  }
  return close;
}

/** Scans buf[0, length) for complete requests into `into` (which it
 * returns). `scanned`: how many bytes at the start of buf an earlier call
 * already scanned without finding the end of a request (the bytes a server
 * kept), so that they are not searched again. */
export function scanRequests(buf: Uint8Array, length: number, into: RequestScan = new RequestScan(), scanned = 0): RequestScan {
  let requests = 0;
  let start = 0;
  let close = false;
  let tooLarge = false;
  // j: where the "\r\n\r\n" being looked for would end (its LF).
  let j = (scanned > 3 ? scanned - 3 : 0) + 3;
  while (j < length) {
    const b = buf[j];
    if (b === LF) {
      if (buf[j - 1] === CR && buf[j - 2] === LF && buf[j - 3] === CR) {
        const end = j + 1;
        if (end - start > HEADER_LIMIT) {
          tooLarge = true;
          break;
        }
        requests++;
        const last = wantsClose(buf, start, end);
        start = end;
        if (last) {
          close = true;
          break;
        }
        j = end + 3;
      } else {
        j += 2; // an end at j + 1 would need a CR at j
      }
    } else if (b === CR) {
      j += 1;
    } else {
      j += 4; // no end of a request can hold this byte
    }
  }
  if (!close && !tooLarge && length - start >= HEADER_LIMIT) tooLarge = true;
  into.requests = requests;
  into.consumed = start;
  into.close = close;
  into.tooLarge = tooLarge;
  return into;
}

let replies = KEEP_ALIVE_REPLY;

/** A buffer that starts with at least `n` copies of KEEP_ALIVE_REPLY back
 * to back (send its first n * REPLY_LENGTH bytes). It is cached and grows
 * on demand; a grown one starts with the same bytes, so an offset into an
 * earlier one stays valid in the later ones. */
export function replyBuffer(n: number): Uint8Array {
  if (n * REPLY_LENGTH > replies.length) {
    let count = replies.length / REPLY_LENGTH;
    while (count < n) count *= 2;
    const grown = new Uint8Array(count * REPLY_LENGTH);
    for (let i = 0; i < count; i++) grown.set(KEEP_ALIVE_REPLY, i * REPLY_LENGTH);
    replies = grown;
  }
  return replies;
}
// Start with room for the requests of one full read of small requests.
replyBuffer(64);
