// The request scanner of the keep-alive servers (support/http1.ts): what it
// counts, when it says close, its 8 KiB limit, and that any split of a
// stream of requests into reads finds the same requests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_LIMIT, KEEP_ALIVE_REPLY, REPLY_LENGTH, replyBuffer, RequestScan, scanRequests } from '../support/http1.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const scanOf = (s: string) => {
  const b = bytes(s);
  return { ...scanRequests(b, b.length) };
};

/** A server's reads: keeps the bytes after `consumed` and scans them again
 * in front of the next chunk, as the servers do. Returns how many requests
 * were answered and whether the connection was to close. */
function serve(chunks: Uint8Array[]): { requests: number; close: boolean; tooLarge: boolean } {
  const scan = new RequestScan();
  let head = new Uint8Array(0);
  let requests = 0;
  for (const chunk of chunks) {
    const buf = new Uint8Array(head.length + chunk.length);
    buf.set(head);
    buf.set(chunk, head.length);
    scanRequests(buf, buf.length, scan, head.length);
    requests += scan.requests;
    if (scan.close || scan.tooLarge) return { requests, close: scan.close, tooLarge: scan.tooLarge };
    head = buf.slice(scan.consumed);
  }
  return { requests, close: false, tooLarge: false };
}

describe('scanRequests', () => {
  it('counts complete requests and stops before an incomplete one', () => {
    expect(scanOf('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HT')).toEqual({
      requests: 2,
      consumed: 45,
      close: false,
      tooLarge: false,
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

  it('HTTP/1.0 closes unless it asks for keep-alive', () => {
    expect(scanOf('GET / HTTP/1.0\r\n\r\n')).toMatchObject({ requests: 1, close: true });
    expect(scanOf('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).toMatchObject({ requests: 1, close: false });
    expect(scanOf('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n')).toMatchObject({ close: true });
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

  it('replyBuffer(n) starts with n replies', () => {
    for (const n of [1, 3, 64, 65, 1000]) {
      const buf = replyBuffer(n);
      expect(buf.length).toBeGreaterThanOrEqual(n * REPLY_LENGTH);
      for (let i = 0; i < n; i++) expect(buf.subarray(i * REPLY_LENGTH, (i + 1) * REPLY_LENGTH)).toEqual(KEEP_ALIVE_REPLY);
    }
  });

  // Requests of varied shapes: header lines of printable bytes and of CR/LF
  // fragments that are not an end, some asking to close.
  const headerLine = fc.oneof(
    fc.stringMatching(/^[A-Za-z-]{1,12}: [ -~]{0,30}$/),
    fc.constantFrom('Connection: keep-alive', 'Connection: close', 'connection: Upgrade, close', 'Host: 127.0.0.1:8000', 'X: \r', 'Y: \n\r'),
  );
  const request = fc
    .tuple(fc.constantFrom('GET / HTTP/1.1', 'GET /x HTTP/1.0', 'POST /a?b HTTP/1.1', 'HEAD / HTTP/1.1'), fc.array(headerLine, { maxLength: 6 }))
    .map(([line, headers]) => [line, ...headers].join('\r\n') + '\r\n\r\n');

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

  it('counts the requests a stream holds, up to the first that asks to close (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 20 }), (reqs) => {
        const stream = bytes(reqs.join(''));
        const closing = reqs.findIndex((r) => /^connection:.*\bclose\b/im.test(r) || (/^[^\r]*HTTP\/1\.0\r/.test(r) && !/^connection:.*keep-alive/im.test(r)));
        const got = serve([stream]);
        expect(got.requests).toBe(closing === -1 ? reqs.length : closing + 1);
        expect(got.close).toBe(closing !== -1);
      }),
      { numRuns: 300 },
    );
  });
});
