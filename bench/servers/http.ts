// The hello-world server on node:http, for comparison: the same reply, with
// the connection closed after it (ab speaks HTTP/1.0 without keep-alive).
// Prints `listening on HOST:PORT`.
//   node dist/bench/servers/http.js --port 0
import { createServer } from 'node:http';
import { serverOptions, announce } from '../../support/servers.js';

const BODY = Buffer.from('hello world');
const { host, port } = serverOptions();

const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Length': BODY.length });
  res.end(BODY);
});
server.listen(port, host, () => announce(server));
