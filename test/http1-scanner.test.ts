// The request scanner of the keep-alive servers (support/http1.ts): what it
// counts, when it says close, which requests are HTTP/1.0 ones keeping the
// connection (answered with `Connection: keep-alive`), its 8 KiB limit, the
// replies it builds, and that any split of a stream of requests into reads
// finds the same requests and the same replies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_LIMIT,
  HTTP10_KEEP_ALIVE_REPLY,
  HTTP10_REPLY_LENGTH,
  http10ReplyBuffer,
  KEEP_ALIVE_REPLY,
  replies,
  REPLY_LENGTH,
  replyBuffer,
  RequestScan,
  scanRequests,
} from '../support/http1.js';
import { referenceScanRequests } from './http1-reference.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const REPLY = text(KEEP_ALIVE_REPLY);
const REPLY10 = text(HTTP10_KEEP_ALIVE_REPLY);
const scanOf = (s: string) => {
  const b = bytes(s);
  const { requests, consumed, close, tooLarge, http10, replyLength } = scanRequests(b, b.length);
  return { requests, consumed, close, tooLarge, http10, replyLength };
};
/** The replies a server sends for the requests of one read. */
const repliesOf = (s: string) => {
  const b = bytes(s);
  const scan = scanRequests(b, b.length);
  return text(replies(scan).subarray(0, scan.replyLength));
};

/** A server's reads: keeps the bytes after `consumed` and scans them again
 * in front of the next chunk, as the servers do, through one RequestScan.
 * Returns how many requests were answered, the replies sent (one string
 * per read that completed any), and whether the connection was to close. */
function serve(chunks: Uint8Array[]): { requests: number; replies: string; close: boolean; tooLarge: boolean } {
  const scan = new RequestScan();
  let head = new Uint8Array(0);
  let requests = 0;
  let sent = '';
  for (const chunk of chunks) {
    const buf = new Uint8Array(head.length + chunk.length);
    buf.set(head);
    buf.set(chunk, head.length);
    scanRequests(buf, buf.length, scan, head.length);
    requests += scan.requests;
    expect(replies(scan).length).toBe(scan.replyLength);
    sent += text(replies(scan));
    if (scan.close || scan.tooLarge) return { requests, replies: sent, close: scan.close, tooLarge: scan.tooLarge };
    head = buf.slice(scan.consumed);
  }
  return { requests, replies: sent, close: false, tooLarge: false };
}

describe('scanRequests', () => {
  it('counts complete requests and stops before an incomplete one', () => {
    expect(scanOf('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HT')).toEqual({
      requests: 2,
      consumed: 45,
      close: false,
      tooLarge: false,
      http10: 0,
      replyLength: 2 * REPLY_LENGTH,
    });
    expect(scanOf('GET / HTTP/1.1\r\nHost: a\r\n')).toMatchObject({ requests: 0, consumed: 0 });
    expect(scanOf('')).toMatchObject({ requests: 0, consumed: 0, close: false });
  });

  it('says close after Connection: close (any case, in a token list) and stops counting there', () => {
    expect(scanOf('GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n')).toMatchObject({ requests: 1, consumed: 37, close: true });
    expect(scanOf('GET / HTTP/1.1\r\ncOnNeCtIoN:keep-alive , CLOSE\r\n\r\n')).toMatchObject({ requests: 1, close: true });
    expect(scanOf('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n')).toMatchObject({ requests: 1, close: false });
    expect(scanOf('GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n')).toMatchObject({ close: false });
    expect(scanOf('GET / HTTP/1.1\r\nConnection: closed\r\n\r\n')).toMatchObject({ close: false });
  });

  it('HTTP/1.0 closes unless it asks for keep-alive, and is then answered with Connection: keep-alive', () => {
    // Closing: the reply is the plain one, then the close.
    expect(scanOf('GET / HTTP/1.0\r\n\r\n')).toMatchObject({ requests: 1, close: true, http10: 0, replyLength: REPLY_LENGTH });
    expect(scanOf('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n')).toMatchObject({ close: true, http10: 0 });
    expect(scanOf('GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n')).toMatchObject({ close: true, http10: 0 });
    expect(scanOf('GET / HTTP/1.0\r\nX-Connection: keep-alive\r\n\r\n')).toMatchObject({ close: true, http10: 0 });
    expect(scanOf('GET / HTTP/1.0\r\nConnection: keep-alived\r\n\r\n')).toMatchObject({ close: true, http10: 0 });
    expect(scanOf('GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n')).toMatchObject({ close: true, http10: 0 });
    // Kept: any case, in a token list, as a later header line.
    for (const header of ['Connection: Keep-Alive', 'connection:keep-alive', 'CONNECTION: \tKEEP-ALIVE \t', 'Connection: Upgrade, keep-alive', 'Host: a\r\nConnection: keep-alive\r\nAccept: */*']) {
      expect(scanOf(`GET / HTTP/1.0\r\n${header}\r\n\r\n`), header).toMatchObject({ requests: 1, close: false, http10: 1, replyLength: HTTP10_REPLY_LENGTH });
    }
    // What ab -k sends.
    const ab = 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:8000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n';
    expect(scanOf(ab.repeat(3))).toMatchObject({ requests: 3, close: false, http10: 3, replyLength: 3 * HTTP10_REPLY_LENGTH });
    expect(repliesOf(ab.repeat(3))).toBe(REPLY10.repeat(3));
    // The version is the request line's, case-sensitive (RFC 9112 §2.3):
    // HTTP/1.1 (or anything else) is kept without saying so.
    expect(scanOf('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n')).toMatchObject({ close: false, http10: 0, replyLength: REPLY_LENGTH });
    expect(scanOf('GET /HTTP/1.0 HTTP/1.1\r\n\r\n')).toMatchObject({ close: false, http10: 0 });
    expect(scanOf('GET / http/1.0\r\n\r\n')).toMatchObject({ close: false, http10: 0 });
    expect(scanOf('GET / HTTP/1.1\r\nX: HTTP/1.0\r\n\r\n')).toMatchObject({ close: false, http10: 0 });
  });

  it('answers HTTP/1.0 keep-alive and HTTP/1.1 requests of one read in order, each with its reply', () => {
    const r10 = 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const r11 = 'GET / HTTP/1.1\r\n\r\n';
    expect(repliesOf(r11 + r10 + r10 + r11)).toBe(REPLY + REPLY10 + REPLY10 + REPLY);
    expect(scanOf(r11 + r10 + r10 + r11)).toMatchObject({ requests: 4, http10: 2, replyLength: 2 * REPLY_LENGTH + 2 * HTTP10_REPLY_LENGTH });
    // The last one closing: its reply is the plain one.
    expect(repliesOf(r10 + r11 + 'GET / HTTP/1.0\r\n\r\n' + r10)).toBe(REPLY10 + REPLY + REPLY);
    expect(repliesOf(r10 + r10 + 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).toBe(REPLY10 + REPLY10 + REPLY);
  });

  it('a RequestScan holds the kinds of more requests than its start size (it grows)', () => {
    const scan = new RequestScan();
    const r10 = 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const r11 = 'GET / HTTP/1.1\r\n\r\n';
    const n = scan.kinds.length + 5;
    const reqs = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? r10 : r11));
    const b = bytes(reqs.join(''));
    scanRequests(b, b.length, scan);
    expect(scan.requests).toBe(n);
    expect(scan.kinds.length).toBeGreaterThanOrEqual(n);
    expect(text(replies(scan).subarray(0, scan.replyLength))).toBe(reqs.map((r) => (r === r10 ? REPLY10 : REPLY)).join(''));
  });

  it('flags a request over HEADER_LIMIT bytes, complete or not, and counts the ones before it', () => {
    const big = `GET / HTTP/1.1\r\nX: ${'a'.repeat(HEADER_LIMIT)}\r\n`;
    expect(scanOf(big)).toMatchObject({ requests: 0, tooLarge: true });
    expect(scanOf(`GET / HTTP/1.1\r\n\r\n${big}\r\n`)).toMatchObject({ requests: 1, consumed: 18, tooLarge: true });
    const exact = `GET / HTTP/1.1\r\nX: ${'a'.repeat(HEADER_LIMIT - 23)}\r\n\r\n`;
    expect(exact.length).toBe(HEADER_LIMIT);
    expect(scanOf(exact)).toMatchObject({ requests: 1, tooLarge: false });
    expect(scanOf(exact.slice(0, -1))).toMatchObject({ requests: 0, tooLarge: false });
  });

  it('scans only `length` bytes of the buffer', () => {
    const b = bytes('GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    expect(scanRequests(b, 20).requests).toBe(1);
    expect(scanRequests(b, 17).requests).toBe(0);
  });

  it('replyBuffer(n) and http10ReplyBuffer(n) start with n replies, and never change a buffer they returned', () => {
    for (const [buffer, reply] of [
      [replyBuffer, KEEP_ALIVE_REPLY],
      [http10ReplyBuffer, HTTP10_KEEP_ALIVE_REPLY],
    ] as const) {
      const first = buffer(1);
      const copy = first.slice();
      for (const n of [1, 3, 64, 65, 1000]) {
        const buf = buffer(n);
        expect(buf.length).toBeGreaterThanOrEqual(n * reply.length);
        for (let i = 0; i < n; i++) expect(buf.subarray(i * reply.length, (i + 1) * reply.length)).toEqual(reply);
      }
      expect(buffer(1000)).not.toBe(first); // grown
      expect(first).toEqual(copy);
      expect(buffer(3)).toBe(buffer(1000)); // cached
    }
    expect(text(HTTP10_KEEP_ALIVE_REPLY)).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Connection: keep-alive\r\n(?:[^\r\n]+\r\n)*\r\nhello world$/);
    expect(HTTP10_REPLY_LENGTH).toBe(HTTP10_KEEP_ALIVE_REPLY.length);
  });

  it('replies() hands out views of the cached buffers, exactly as long as the replies, when a read holds one kind of request', () => {
    const one = (s: string) => {
      const b = bytes(s);
      return replies(scanRequests(b, b.length));
    };
    for (const n of [1, 5, 64]) {
      const kept = one('GET / HTTP/1.1\r\n\r\n'.repeat(n));
      expect(kept.buffer).toBe(replyBuffer(n).buffer);
      expect([kept.byteOffset, kept.length]).toEqual([0, n * REPLY_LENGTH]);
      expect(one('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n))).toBe(kept); // the same view, not a new one
      const kept10 = one('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'.repeat(n));
      expect(kept10.buffer).toBe(http10ReplyBuffer(n).buffer);
      expect([kept10.byteOffset, kept10.length]).toEqual([0, n * HTTP10_REPLY_LENGTH]);
      expect(one('GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n'.repeat(n))).toBe(kept10);
    }
    // Past the cached count the buffer grows, and the views follow it.
    const many = one('GET / HTTP/1.1\r\n\r\n'.repeat(300));
    expect(many.buffer).toBe(replyBuffer(300).buffer);
    expect(text(many)).toBe(REPLY.repeat(300));
    expect(one('GET / HTTP/1.1\r\n\r\n'.repeat(5)).buffer).toBe(replyBuffer(300).buffer);
  });

  // Requests of varied shapes: header lines of printable bytes and of CR/LF
  // fragments that are not an end, some asking to close.
  const headerLine = fc.oneof(
    fc.stringMatching(/^[A-Za-z-]{1,12}: [ -~]{0,30}$/),
    fc.constantFrom(
      'Connection: keep-alive',
      'Connection: close',
      'connection: Upgrade, close',
      'CONNECTION: Keep-Alive',
      'connection:foo, KEEP-alive',
      'Keep-Alive: timeout=5',
      'Host: 127.0.0.1:8000',
      'X: \r',
      'Y: \n\r',
    ),
  );
  const request = fc
    .tuple(fc.constantFrom('GET / HTTP/1.1', 'GET /x HTTP/1.0', 'POST /a?b HTTP/1.1', 'HEAD / HTTP/1.1', 'GET / HTTP/1.0'), fc.array(headerLine, { maxLength: 6 }))
    .map(([line, headers]) => [line, ...headers].join('\r\n') + '\r\n\r\n');
  /** The model: what a request asks of its connection, by RFC 9112 §9.3. */
  const kindOf = (r: string): 'keep' | 'keep10' | 'close' => {
    const tokens = [...r.matchAll(/^connection:([^\r\n]*)/gim)].flatMap((m) => m[1]!.split(',').map((t) => t.trim().toLowerCase()));
    if (tokens.includes('close')) return 'close';
    if (!/^[^\r]*HTTP\/1\.0\r/.test(r)) return 'keep';
    return tokens.includes('keep-alive') ? 'keep10' : 'close';
  };

  it('any split of a stream of requests into reads finds the same requests (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), fc.option(fc.stringMatching(/^[ -~\r\n]{0,40}$/)), (reqs, cuts, tail) => {
        const stream = bytes(reqs.join('') + (tail ?? ''));
        const whole = serve([stream]);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(at, p));
          at = p;
        }
        expect(serve(chunks)).toEqual(whole);
        // And byte by byte.
        expect(serve(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('counts the requests a stream holds, up to the first that asks to close, each with its reply (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (reqs, cuts) => {
        const stream = bytes(reqs.join(''));
        const kinds = reqs.map(kindOf);
        const closing = kinds.indexOf('close');
        const answered = closing === -1 ? kinds : kinds.slice(0, closing + 1);
        const want = answered.map((k) => (k === 'keep10' ? REPLY10 : REPLY)).join('');
        const got = serve([stream]);
        expect(got.requests).toBe(answered.length);
        expect(got.close).toBe(closing !== -1);
        expect(got.replies).toBe(want);
        // However the stream is split into reads (HTTP/1.0 and the
        // Connection header cut anywhere), the same replies in order.
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(at, p));
          at = p;
        }
        expect(serve(chunks)).toEqual(got);
      }),
      { numRuns: 300 },
    );
  });
  /** Every read's scan, as a server drives `scanner` over `chunks` (the
   * bytes after `consumed` kept and scanned again in front of the next
   * chunk, passed as already scanned). */
  function scans(scanner: typeof scanRequests, chunks: Uint8Array[]): object[] {
    const scan = new RequestScan();
    let head = new Uint8Array(0);
    const out: object[] = [];
    for (const chunk of chunks) {
      const buf = new Uint8Array(head.length + chunk.length);
      buf.set(head);
      buf.set(chunk, head.length);
      scanner(buf, buf.length, scan, head.length);
      const { requests, consumed, close, tooLarge, http10, replyLength } = scan;
      out.push({ requests, consumed, close, tooLarge, http10, replyLength, kinds: [...scan.kinds.subarray(0, requests)] });
      if (close || tooLarge) break;
      head = buf.slice(consumed);
    }
    return out;
  }
  const split = (stream: Uint8Array, cuts: number[]): Uint8Array[] => {
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const p of [...points, stream.length]) {
      chunks.push(stream.subarray(at, p));
      at = p;
    }
    return chunks;
  };
  // Streams of well-formed requests mixed with fragments that sit on the
  // scanner's edges: CR and LF alone and in runs, HTTP/1.0 at a line's end
  // or not, Connection headers of any case, their tokens, and fillers
  // long enough to pass HEADER_LIMIT.
  const fragment = fc.oneof(
    { weight: 3, arbitrary: request },
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        '\r', '\n', '\r\n', '\n\r', '\r\n\r', '\r\r\n', '\r\n\r\n', '\n\r\n',
        'GET / HTTP/1.1', 'GET / HTTP/1.0', 'HTTP/1.0', 'TTP/1.0', 'HTTP/1.00', '0',
        'Connection:', 'connection: ', 'CONNECTION:', 'Connection :', 'Connectio:', 'c', 'C',
        'close', 'CLOSE', ' close ', 'closed', 'keep-alive', 'Keep-Alive', 'keep-alive2', ',', ', ', ' ', '\t',
        'Host: 127.0.0.1:8000', 'x', 'HTTP/2.0', 'HTTP/1.1.0', 'XTTP/1.0', 'HTTP-1.0',
      ),
    },
    // Requests of HEADER_LIMIT bytes, one less and one more.
    { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1).map((d) => `GET / HTTP/1.1\r\nX: ${'p'.repeat(HEADER_LIMIT - 23 + d)}\r\n\r\n`) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3000), 'X-Long: ' + 'y'.repeat(8200), 'z'.repeat(8183)) },
  );
  const stream = fc.array(fragment, { minLength: 1, maxLength: 40 }).map((parts) => bytes(parts.join('')));

  it('reads every stream as the skip-search scanner it replaced did, however it is split into reads (fast-check)', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (s, cuts) => {
        for (const chunks of [[s], split(s, cuts)]) {
          expect(scans(scanRequests, chunks)).toEqual(scans(referenceScanRequests, chunks));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a stream arriving byte by byte as the scanner it replaced did (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 8 }).map((parts) => bytes(parts.join('').slice(0, 600))), (s) => {
        const chunks = Array.from(s, (b) => Uint8Array.of(b));
        expect(scans(scanRequests, chunks)).toEqual(scans(referenceScanRequests, chunks));
      }),
      { numRuns: 200 },
    );
  });
});
