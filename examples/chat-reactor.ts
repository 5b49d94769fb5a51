// A line-based chat server on the Reactor with async/await: each line a
// client sends goes to every other client, prefixed with the sender's name.
// The reactor is attached to Node's event loop, so async functions,
// Promises and Node timers all work beside it.
//
//   npm run chat:reactor -- --port 7001      then: nc 127.0.0.1 7001
//   node dist/examples/chat-reactor.js --port 0
//
// A client silent for --idle-timeout ms (default 30000; 0: never) is
// disconnected.
//
// Prints `listening on 127.0.0.1:PORT`. Lines are limited to 4 KiB: a longer
// one ends that client's session with a message, instead of buffering it.
import { parseArgs } from 'node:util';
import { type FdStream, LimitExceededError, Reactor } from '../lib/index.js';

const MAX_LINE = 4096;

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7001' },
    'idle-timeout': { type: 'string', default: '30000' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`bad --port: ${values.port}\nusage: chat-reactor [--host 127.0.0.1] [--port 7001] [--idle-timeout MS]\n`);
  process.exit(2);
}
const idleTimeout = Number(values['idle-timeout']);
if (!Number.isInteger(idleTimeout) || idleTimeout < 0) {
  process.stderr.write(`bad --idle-timeout: ${values['idle-timeout']}\nusage: chat-reactor [--host 127.0.0.1] [--port 7001] [--idle-timeout MS]\n`);
  process.exit(2);
}

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
    // End of stream (a client leaving) is the normal way out.
    if (err instanceof LimitExceededError) stream.write(`line longer than ${MAX_LINE} bytes: bye\n`);
    else if ((err as { code?: string }).code !== 'ERR_STREAM_EOF') throw err;
  } finally {
    clients.delete(stream);
    broadcast(stream, `* ${name} left\n`);
  }
});
reactor.attach();
console.log(`listening on ${server.address}`);
