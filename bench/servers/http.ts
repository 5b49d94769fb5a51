// The hello-world server on node:http, for comparison: the same reply, with
// the connection closed after it (ab speaks HTTP/1.0 without keep-alive).
// Prints `listening on HOST:PORT`.
//   node dist/bench/servers/http.js --port 0
//
// With --keep-alive, node:http keeps HTTP/1.1 connections as it does by
// default (answering pipelined requests in order, never adding
// `Connection: close`), and keeps an idle one for 30 s instead of 5 s.
import { createServer } from 'node:http';
import { serverOptions, announce } from '../../support/servers.js';

const BODY = Buffer.from('hello world');
const { host, port, keepAlive } = serverOptions('bench/servers/http.js');

const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Length': BODY.length });
  res.end(BODY);
});
if (keepAlive) server.keepAliveTimeout = 30_000;
server.listen(port, host, () => announce(server));
