// An echo server on the Reactor: every byte a client sends comes back, with
// a generator coroutine per connection.
//
//   npm run echo:reactor -- --port 7000
//   node dist/examples/echo-reactor.js --port 0
//
// A client silent for --idle-timeout ms (default 30000; 0: never) is
// disconnected.
//
// Prints `listening on 127.0.0.1:PORT`. The stream's write() waits when a
// client sends faster than it reads, so a slow client costs bounded memory.
import { parseArgs } from 'node:util';
import { type FdStream, Reactor } from '../lib/index.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7000' },
    'idle-timeout': { type: 'string', default: '30000' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`bad --port: ${values.port}\nusage: echo-reactor [--host 127.0.0.1] [--port 7000] [--idle-timeout MS]\n`);
  process.exit(2);
}
const idleTimeout = Number(values['idle-timeout']);
if (!Number.isInteger(idleTimeout) || idleTimeout < 0) {
  process.stderr.write(`bad --idle-timeout: ${values['idle-timeout']}\nusage: echo-reactor [--host 127.0.0.1] [--port 7000] [--idle-timeout MS]\n`);
  process.exit(2);
}

const reactor = new Reactor();
reactor.on('error', (err: { code?: string }) => {
  if (err?.code !== 'ECONNRESET' && err?.code !== 'EPIPE') console.error(err);
});
const server = reactor.listen({ host: values.host, port, idleTimeout }, function* (stream: FdStream) {
  for (;;) {
    const data = yield* stream.read();
    if (data.length === 0) return; // the client closed: the server closes too
    yield* stream.write(data);
  }
});
console.log(`listening on ${server.address}`);
reactor.run();
