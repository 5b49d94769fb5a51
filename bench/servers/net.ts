// The hello-world server on node:net, for comparison with the hand-written
// ones: read once, answer, close. Prints `listening on HOST:PORT`.
//   node dist/bench/servers/net.js --port 0
import { createServer } from 'node:net';
import { serverOptions, announce } from '../../support/servers.js';

const REPLY = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
const { host, port } = serverOptions();

const server = createServer((socket) => {
  socket.once('data', () => socket.end(REPLY));
  socket.on('error', () => socket.destroy());
});
server.listen(port, host, () => announce(server));
