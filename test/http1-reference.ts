// The request scanner of support/http1.ts as it was before it read a
// request's lines in one pass (the end found by a skipping search, then the
// lines read again by connectionKind): the reference the property tests of
// test/http1-scanner.test.ts compare the scanner with, on random request
// streams split into reads at random points.
import { HEADER_LIMIT, HTTP10_REPLY_LENGTH, REPLY_LENGTH, RequestScan } from '../support/http1.js';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

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
      // A comma-separated list of tokens.
      let p = line + 11;
      while (p < stop) {
        while (p < stop && (buf[p] === 32 || buf[p] === 9 || buf[p] === 44)) p++;
        const t = p;
        while (p < stop && buf[p] !== 44) p++;
        let te = p;
        while (te > t && (buf[te - 1] === 32 || buf[te - 1] === 9)) te--;
        if (equalsLower(buf, t, te, CLOSE)) return CLOSE_AFTER;
        if (equalsLower(buf, t, te, KEEP_ALIVE)) keepAlive = true;
      }
    }
    line = eol + 1;
  }
  if (!http10) return KEEP;
  return keepAlive ? KEEP_HTTP10 : CLOSE_AFTER;
}

/** Scans buf[0, length) for complete requests into `into` (which it
 * returns). `scanned`: how many bytes at the start of buf an earlier call
 * already scanned without finding the end of a request (the bytes a server
 * kept), so that they are not searched again. */
export function referenceScanRequests(buf: Uint8Array, length: number, into: RequestScan = new RequestScan(), scanned = 0): RequestScan {
  let requests = 0;
  let http10 = 0;
  let start = 0;
  let close = false;
  let tooLarge = false;
  let kinds = into.kinds;
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
        const kind = connectionKind(buf, start, end);
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
  into.http10 = http10;
  into.replyLength = (requests - http10) * REPLY_LENGTH + http10 * HTTP10_REPLY_LENGTH;
  return into;
}
