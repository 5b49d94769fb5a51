// The hello-world server on node:net, for comparison with the hand-written
// ones: read once, answer, close. Prints `listening on HOST:PORT`.
//   node dist/bench/servers/net.js --port 0
//
// With --keep-alive it answers every request of a kept connection instead,
// by the rules of support/http1.ts (the same as bench/c/hello_epoll.c; an
// HTTP/1.0 request with `Connection: keep-alive` is answered with
// `Connection: keep-alive`): the replies to the requests one read
// completes go out in one write, in order; the bytes of a request not
// complete yet wait for the next read; it closes after the reply to a
// request asking to (`Connection: close`, HTTP/1.0 without keep-alive),
// and answers 431 and closes when a request exceeds 8 KiB.
import { createServer, type Socket } from 'node:net';
import { replies, RequestScan, scanRequests, TOO_LARGE_REPLY } from '../../support/http1.js';
import { serverOptions, announce } from '../../support/servers.js';

const REPLY = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
const { host, port, keepAlive } = serverOptions('bench/servers/net.js');
const scan = new RequestScan();

function serveOnce(socket: Socket): void {
  socket.once('data', () => socket.end(REPLY));
  socket.on('error', () => socket.destroy());
}

function serveKeptConnection(socket: Socket): void {
  /** The start of a request not complete yet, from earlier reads. */
  let leftover: Buffer | undefined;
  let done = false;
  socket.on('data', (chunk: Buffer) => {
    if (done) return; // closing: what follows a last request is dropped
    let buf = chunk;
    let scanned = 0;
    if (leftover !== undefined) {
      scanned = leftover.length;
      buf = Buffer.concat([leftover, chunk]);
      leftover = undefined;
    }
    scanRequests(buf, buf.length, scan, scanned);
    if (scan.requests > 0) socket.write(replies(scan).subarray(0, scan.replyLength));
    if (scan.close) {
      done = true;
      socket.end();
    } else if (scan.tooLarge) {
      done = true;
      socket.end(TOO_LARGE_REPLY);
    } else if (scan.consumed < buf.length) {
      // A copy: the chunk may be a slice of a larger pooled buffer.
      // (Shorter than HEADER_LIMIT, or scanRequests says tooLarge.)
      leftover = Buffer.from(buf.subarray(scan.consumed));
    }
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(keepAlive ? serveKeptConnection : serveOnce);
server.listen(port, host, () => announce(server));
