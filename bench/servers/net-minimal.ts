// The least a node:net keep-alive hello server can do, for the keep-alive
// table: every "\r\n\r\n" a connection sends ends a request (counted with
// Buffer.indexOf, native), and the replies to the requests of one read go
// out in one write of a prebuilt buffer. No Connection header is read, no
// size limit kept: a benchmark client sending small HTTP/1.1 GETs (wrk) is
// all it serves. It is the floor under any node:net server, so a reactor
// style below it is cheaper than anything node:net can be; bench/servers/
// net.ts is the same server with the rules of support/http1.ts.
//   node dist/bench/servers/net-minimal.js --port 0
import { createServer, type Socket } from 'node:net';
import { serverOptions, announce } from '../../support/servers.js';

const REPLY = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
const END = Buffer.from('\r\n\r\n');
const { host, port } = serverOptions('bench/servers/net-minimal.js');

/** `n` replies back to back; the buffer for the largest n so far is kept. */
let replies = Buffer.concat(Array.from({ length: 64 }, () => REPLY));
function repliesFor(n: number): Buffer {
  if (n * REPLY.length > replies.length) replies = Buffer.concat(Array.from({ length: n * 2 }, () => REPLY));
  return replies.subarray(0, n * REPLY.length);
}

function serve(socket: Socket): void {
  // The last bytes of the previous read, in case a "\r\n\r\n" spans two reads.
  let tail: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    const buf = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
    let n = 0;
    let at = 0;
    let end = buf.indexOf(END, at);
    while (end >= 0) {
      n++;
      at = end + 4;
      end = buf.indexOf(END, at);
    }
    // Keep what could be the start of a "\r\n\r\n" (three bytes at most).
    tail = buf.length - at > 0 ? Buffer.from(buf.subarray(Math.max(at, buf.length - 3))) : undefined;
    if (n > 0) socket.write(repliesFor(n));
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(serve);
server.listen(port, host, () => announce(server));
