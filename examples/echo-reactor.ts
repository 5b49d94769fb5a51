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
import { type FdStream, Reactor } from '../lib/index.js';
import { commandLine, nonNegativeInt, portNumber } from '../support/options.js';
import { listenOptions } from '../support/servers.js';

const cli = commandLine('echo-reactor', 'npm run echo:reactor -- [options]\n       node dist/examples/echo-reactor.js [options]', {
  ...listenOptions('7000'),
  'idle-timeout': { type: 'string', default: '30000', arg: 'MS', help: 'disconnect a client silent this long, ms; 0: never' },
});
const { values } = cli;
const port = cli.check(() => portNumber('port', values.port));
const idleTimeout = cli.check(() => nonNegativeInt('idle-timeout', values['idle-timeout']));

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
