// A line-based chat server on the Reactor with async/await: each line a
// client sends goes to every other client, prefixed with the sender's name.
// The reactor is attached to Node's event loop, so async functions,
// Promises and Node timers all work beside it.
//
//   npm run chat:reactor -- --port 7001
//   then, in two terminals or more, `nc 127.0.0.1 7001` (netcat), or with Node alone:
//   node -e "process.stdin.pipe(require('net').connect(7001, '127.0.0.1')).pipe(process.stdout)"
//   node dist/examples/chat-reactor.js --port 0
//
// A client silent for --idle-timeout ms (default 30000; 0: never) is
// disconnected.
//
// Prints `listening on 127.0.0.1:PORT`. Lines are limited to 4 KiB: a longer
// one ends that client's session with a message, instead of buffering it.
//
// On SIGTERM or SIGINT (a reactor signal handler) it stops accepting, tells
// every client it is shutting down, closes them and exits 0 once they are
// closed, within a second at most.
import { type FdStream, LimitExceededError, Reactor } from '../lib/index.js';
import { commandLine, nonNegativeInt, portNumber } from '../support/options.js';
import { listenOptions } from '../support/servers.js';

const MAX_LINE = 4096;

const cli = commandLine('chat-reactor', 'npm run chat:reactor -- [options]\n       node dist/examples/chat-reactor.js [options]', {
  ...listenOptions('7001'),
  'idle-timeout': { type: 'string', default: '30000', arg: 'MS', help: 'disconnect a client silent this long, ms; 0: never' },
});
const { values } = cli;
const port = cli.check(() => portNumber('port', values.port));
const idleTimeout = cli.check(() => nonNegativeInt('idle-timeout', values['idle-timeout']));

const reactor = new Reactor();
reactor.on('error', (err: { code?: string }) => {
  if (err?.code !== 'ECONNRESET' && err?.code !== 'EPIPE') console.error(err);
});
const clients = new Map<FdStream, string>();
let nextId = 1;

function broadcast(from: FdStream, line: string): void {
  for (const [client] of clients) {
    if (client === from || client.closed) continue;
    // A client that does not read falls behind: past its high-water mark
    // it is dropped rather than buffered without limit.
    try {
      client.write(line);
      if (client.writeQueueSize > client.highWaterMark) client.close();
    } catch {
      client.close();
    }
  }
}

const server = reactor.listen({ host: values.host, port, idleTimeout }, async (stream: FdStream) => {
  const name = `user${nextId++}`;
  clients.set(stream, name);
  stream.write(`welcome, ${name}; ${clients.size - 1} other(s) here\n`);
  broadcast(stream, `* ${name} joined\n`);
  try {
    for (;;) {
      const line = new TextDecoder().decode(await stream.readUntil('\n', MAX_LINE));
      broadcast(stream, `${name}: ${line}`);
    }
  } catch (err) {
    // End of stream (a client leaving) is the normal way out, and a stream
    // closed by a shutdown another.
    const code = (err as { code?: string }).code;
    if (err instanceof LimitExceededError) stream.write(`line longer than ${MAX_LINE} bytes: bye\n`);
    else if (code !== 'ERR_STREAM_EOF' && code !== 'ERR_STREAM_CLOSED') throw err;
  } finally {
    clients.delete(stream);
    broadcast(stream, `* ${name} left\n`);
  }
});
const shutdown = (): void => {
  reactor.callLater(1000, () => reactor.close()); // clients that do not go in time
  server.close();
  for (const [client] of clients) {
    if (client.closed) continue;
    client.write('* server shutting down\n');
    client.close(); // flushes that line; the client's readUntil ends
  }
  server.closed.addDoneCallback(() => reactor.close());
};
reactor.addSignalHandler('SIGTERM', shutdown);
reactor.addSignalHandler('SIGINT', shutdown);
reactor.attach();
console.log(`listening on ${server.address}`);
