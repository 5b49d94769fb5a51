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
//
// On SIGTERM or SIGINT (handled by the reactor: under run() Node's own
// process.on listeners could not run) it stops accepting, closes every
// connection (what is being echoed is flushed first) and exits 0 once they
// are closed, within a second at most.
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
// A client resetting its connection, or one closed by a shutdown, is
// routine: not worth a stack trace.
reactor.on('error', (err: { code?: string }) => {
  if (err?.code !== 'ECONNRESET' && err?.code !== 'EPIPE' && err?.code !== 'ERR_STREAM_CLOSED') console.error(err);
});
const open = new Set<FdStream>();
const server = reactor.listen({ host: values.host, port, idleTimeout }, function* (stream: FdStream) {
  open.add(stream);
  try {
    for (;;) {
      const data = yield* stream.read();
      if (data.length === 0) return; // the client closed: the server closes too
      yield* stream.write(data);
    }
  } finally {
    open.delete(stream);
  }
});
const shutdown = (): void => {
  reactor.callLater(1000, () => reactor.close()); // connections that do not end in time
  server.close();
  for (const stream of open) stream.close(); // a waiting read ends with ERR_STREAM_CLOSED
  server.closed.addDoneCallback(() => reactor.close());
};
reactor.addSignalHandler('SIGTERM', shutdown);
reactor.addSignalHandler('SIGINT', shutdown);
console.log(`listening on ${server.address}`);
reactor.run(); // returns once the reactor is closed
