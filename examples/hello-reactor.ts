// The classic hello-world server on the Reactor, in three styles:
//
//   callbacks   fd handlers: accept, wait for the request, answer, close
//   generators  a function* per connection over an FdStream, on run()
//   async       an async function per connection, the reactor attached to
//               Node's event loop
//
//   npm run hello:reactor -- --style generators --port 8000 --workers 2
//   node dist/examples/hello-reactor.js --style async --port 0 --idle-timeout 5000
//   node dist/examples/hello-reactor.js --style callbacks --keep-alive --backend poll
//
// A connection that sends no request within --idle-timeout ms (default
// 30000; 0: never) is closed, so idle clients cannot hold every fd.
// Each connection is read once and answered with a fixed HTTP/1.0 reply,
// then closed. With --keep-alive every request of a kept connection is
// answered instead (HTTP/1.1, and HTTP/1.0 with `Connection: keep-alive`,
// answered with `Connection: keep-alive`: the rules of support/http1.ts, as
// bench/c/hello_epoll.c --keep-alive), in every style: callbacks read until
// -1 into a per-fd buffer and send the replies to the requests each read
// completes with one send (replies the kernel does not take wait for
// writability, reading stops meanwhile), and the idle timer restarts with
// each request; generators and async loop reading the FdStream, writing
// the replies to what each read completes, until end of stream. A
// connection is closed after the reply to a request asking to close
// (`Connection: close`, HTTP/1.0 without keep-alive), and after a 431 to a
// request over 8 KiB. --backend NAME (select, poll, epoll, kqueue,
// io_uring; default: DefaultSelector) picks the reactor's selector. It prints `listening on 127.0.0.1:PORT` once every worker
// accepts connections. With --workers N, N processes bind the same port
// through SO_REUSEPORT and the kernel spreads the connections among them.
//
// On SIGTERM or SIGINT (handled by the reactor itself: under run() Node's own
// process.on listeners could not run) it stops accepting, closes its
// connections (a reply being written is flushed first, a connection waiting
// for a request is closed) and exits 0 once they are closed, within
// SHUTDOWN_GRACE_MS at most. With --workers the parent passes the signal on
// and exits 0 once every worker has exited 0.
import { fork, type ChildProcess } from 'node:child_process';
import { HEADER_LIMIT, replies, RequestScan, scanRequests, TOO_LARGE_REPLY } from '../support/http1.js';
import { KeptConnections } from './kept-connections.js';
import { EVENT_READ, EVENT_WRITE, type FdStream, Reactor, sys, type TimerHandle } from '../lib/index.js';
import { commandLine, nonNegativeInt, oneOf, portNumber, positiveInt } from '../support/options.js';
import { backendClass, backendOption, LISTEN_OPTIONS } from '../support/servers.js';

const REPLY = new TextEncoder().encode('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
const STYLES = ['callbacks', 'generators', 'async'] as const;
type Style = (typeof STYLES)[number];
/** How long a shutdown waits for the connections before closing the reactor anyway. */
const SHUTDOWN_GRACE_MS = 1000;

const cli = commandLine('hello-reactor', 'npm run hello:reactor -- [options]\n       node dist/examples/hello-reactor.js [options]', {
  style: { type: 'string', default: 'callbacks', arg: 'STYLE', help: 'how connections are served: callbacks, generators or async' },
  ...LISTEN_OPTIONS,
  workers: { type: 'string', default: '1', arg: 'N', help: 'processes sharing the port through SO_REUSEPORT' },
  'idle-timeout': { type: 'string', default: '30000', arg: 'MS', help: 'close a connection that sends no request this long, ms; 0: never' },
  'keep-alive': { type: 'boolean', default: false, help: 'answer every request of a kept connection (HTTP/1.1, or HTTP/1.0 keep-alive) instead of one per connection' },
  backend: backendOption("the reactor's"),
  // Set by the parent in the worker processes it forks.
  worker: { type: 'boolean', default: false, help: 'run as one of the processes --workers forks (set by the parent)' },
});
const { values } = cli;
const style: Style = cli.check(() => oneOf('style', values.style, STYLES));
const port = cli.check(() => portNumber('port', values.port));
const workers = cli.check(() => positiveInt('workers', values.workers));
const idleTimeout = cli.check(() => nonNegativeInt('idle-timeout', values['idle-timeout']));
const host = values.host;
const keepAlive = values['keep-alive'];
const backend = values.backend;
const Selector = backendClass(backend, cli.fail);
const newSelector = () => new Selector();

/** a followed by b: one view when b follows a in the same buffer (a
 * stream's reads are views of its read buffer, in order), else a new array. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset) return new Uint8Array(a.buffer, a.byteOffset, a.length + b.length);
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  return both;
}

/** The keep-alive loop of the generator and async styles, one step per
 * read: takes the bytes kept from earlier reads and the new chunk, writes
 * the replies to what they complete, and returns what to keep, or null
 * when the connection is to close (after the replies). */
function answerChunk(stream: FdStream, head: Uint8Array | undefined, chunk: Uint8Array, scan: RequestScan): Uint8Array | null | undefined {
  const buf = head === undefined ? chunk : concat(head, chunk);
  scanRequests(buf, buf.length, scan, head === undefined ? 0 : head.length);
  // (write() queues what the kernel does not take now; the closing stream
  // flushes it. replies() never writes a buffer it returned again.)
  if (scan.requests > 0) stream.write(replies(scan)); // exactly scan.replyLength bytes
  if (scan.tooLarge) stream.write(TOO_LARGE_REPLY);
  if (scan.close || scan.tooLarge) return null;
  return scan.consumed < buf.length ? buf.subarray(scan.consumed) : undefined;
}

// The stream styles' open connections, for a shutdown to close them.
const streams = new Set<FdStream>();
/** `handler`, keeping its stream in `streams` while it runs. */
function tracked(handler: (stream: FdStream) => Generator<unknown, void>): (stream: FdStream) => Generator<unknown, void> {
  return function* (stream: FdStream) {
    streams.add(stream);
    try {
      yield* handler(stream);
    } finally {
      streams.delete(stream);
    }
  };
}

/** The same, for an async handler. */
function trackedAsync(handler: (stream: FdStream) => Promise<void>): (stream: FdStream) => Promise<void> {
  return async (stream: FdStream) => {
    streams.add(stream);
    try {
      await handler(stream);
    } finally {
      streams.delete(stream);
    }
  };
}

function serve(listenPort: number, reusePort: boolean): { reactor: Reactor; address: string; shutdown: () => void } {
  const reactor = new Reactor({ selector: newSelector() });
  const request = new Uint8Array(4096);
  const options = { host, port: listenPort, reusePort, idleTimeout };
  let server;
  let shutdown: () => void;
  if (style === 'callbacks') {
    // A plain handler owns its fd, and so its idle timer (by fd), and closes
    // its connections itself when the server shuts down. What a connection
    // costs here is kept to arrays indexed by fd (fd numbers are small and
    // reused): whether it is open, and its idle timer, made once per fd
    // number and restarted (refresh(), O(1)) for each connection that gets
    // that number, as a server with a preallocated connection table does. A
    // closed connection leaves its timer pending: firing for an fd number
    // with no open connection, it does nothing.
    const idle: Array<TimerHandle | undefined> = [];
    const open: boolean[] = [];
    const drop = (fd: number): void => {
      open[fd] = false;
      reactor.removeHandler(fd);
      sys.close(fd);
    };
    const answer = (fd: number): void => {
      let n: number;
      try {
        n = sys.recv(fd, request);
        if (n === -1) return; // woken for nothing: wait again
        if (n > 0) sys.send(fd, REPLY); // 49 bytes fit any fresh send buffer
      } catch {
        // The client went away (ECONNRESET, EPIPE): nothing to answer.
      }
      drop(fd);
    };
    // --keep-alive: the connections are kept by examples/kept-connections.ts;
    // each request restarts the idle timer (refresh(): O(1), no new timer).
    const kept = new KeptConnections({
      watch: (fd, events) => reactor.updateHandler(fd, events),
      drop,
      requested: (fd) => idle[fd]?.refresh(),
    });
    const answerKept = (fd: number, events: number): void => kept.serve(fd, events);
    const close = keepAlive ? (fd: number): void => kept.close(fd) : drop;
    const expire = (fd: number): void => {
      if (open[fd]) close(fd);
    };
    server = reactor.listen(options, (fd: number) => {
      open[fd] = true;
      reactor.addHandler(fd, keepAlive ? answerKept : answer, EVENT_READ);
      if (idleTimeout > 0) {
        const timer = idle[fd];
        if (timer === undefined) idle[fd] = reactor.callLater(idleTimeout, () => expire(fd));
        else timer.refresh();
      }
    });
    const listener = server;
    shutdown = () => {
      listener.close();
      for (let fd = 0; fd < open.length; fd++) if (open[fd]) close(fd);
      reactor.close();
    };
  } else if (style === 'generators' && keepAlive) {
    const scan = new RequestScan();
    server = reactor.listen(options, tracked(function* (stream: FdStream) {
      let head: Uint8Array | undefined;
      for (;;) {
        const chunk = yield* stream.read(HEADER_LIMIT);
        if (chunk.length === 0) return; // end of stream
        const next = answerChunk(stream, head, chunk, scan);
        if (next === null) return;
        head = next;
        // Back-pressure: read no more while the client does not read.
        if (stream.writeQueueSize > stream.highWaterMark) yield* stream.drain();
      }
    }));
  } else if (style === 'async' && keepAlive) {
    const scan = new RequestScan();
    server = reactor.listen(options, trackedAsync(async (stream: FdStream) => {
      let head: Uint8Array | undefined;
      for (;;) {
        const chunk = await stream.read(HEADER_LIMIT);
        if (chunk.length === 0) return; // end of stream
        const next = answerChunk(stream, head, chunk, scan);
        if (next === null) return;
        head = next;
        // Back-pressure: read no more while the client does not read.
        if (stream.writeQueueSize > stream.highWaterMark) await stream.drain();
      }
    }));
  } else if (style === 'generators') {
    server = reactor.listen(options, tracked(function* (stream: FdStream) {
      const req = yield* stream.read(4096);
      if (req.length > 0) stream.write(REPLY);
    }));
  } else {
    server = reactor.listen(options, trackedAsync(async (stream: FdStream) => {
      const req = await stream.read(4096);
      if (req.length > 0) stream.write(REPLY);
    }));
  }
  if (style !== 'callbacks') {
    const listener = server;
    shutdown = () => {
      listener.close();
      // A connection waiting for a request ends (its read fails with
      // ERR_STREAM_CLOSED); a reply being written is flushed first.
      for (const stream of streams) stream.close();
      listener.closed.addDoneCallback(() => reactor.close());
    };
  }
  // A client resetting its connection is routine for a server, and so is a
  // connection closed by a shutdown: not worth a stack trace. Anything else
  // is printed.
  reactor.on('error', (err: { code?: string }) => {
    if (err?.code !== 'ECONNRESET' && err?.code !== 'EPIPE' && err?.code !== 'ERR_STREAM_CLOSED') console.error(err);
  });
  return { reactor, address: server.address, shutdown: shutdown! };
}

// The parent as it was at start-up, before anything could delay us.
const PARENT = process.ppid;
/** How often a worker checks that its parent is still there. */
const ORPHAN_CHECK_MS = 1000;

function runServer(listenPort: number, reusePort: boolean, announce: (address: string) => void): void {
  const { reactor, address, shutdown } = serve(listenPort, reusePort);
  // The reactor handles the signals: under run() Node's own listeners would
  // wait until run() returns, that is forever.
  const stop = (): void => {
    reactor.callLater(SHUTDOWN_GRACE_MS, () => reactor.close());
    shutdown();
  };
  reactor.addSignalHandler('SIGTERM', stop);
  reactor.addSignalHandler('SIGINT', stop);
  // A worker's IPC channel to its parent would keep it alive.
  if (values.worker) reactor.once('close', () => process.disconnect?.());
  announce(address);
  if (values.worker) {
    // A worker whose parent died (even by SIGKILL, which it cannot pass
    // on) exits too, instead of serving the port forever.
    const check = (): void => {
      if (process.ppid !== PARENT) process.exit(0);
      reactor.callLater(ORPHAN_CHECK_MS, check);
    };
    reactor.callLater(ORPHAN_CHECK_MS, check);
  }
  if (style === 'async') reactor.attach();
  else reactor.run();
}

if (values.worker) {
  runServer(port, true, (address) => process.send?.({ listening: address }));
} else if (workers === 1) {
  runServer(port, false, (address) => console.log(`listening on ${address}`));
} else {
  // Reserve the port first (with port 0, the kernel picks it), so that
  // every worker binds the same one; the placeholder never listens.
  const placeholder = sys.socket(host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_STREAM);
  sys.setsockopt(placeholder, sys.SOL_SOCKET, sys.SO_REUSEPORT, true);
  sys.bind(placeholder, host, port);
  const bound = sys.getsockname(placeholder);
  const chosen = 'port' in bound ? bound.port : port;
  const children: ChildProcess[] = [];
  let ready = 0;
  let stopping = false;
  for (let i = 0; i < workers; i++) {
    const args = ['--style', style, '--host', host, '--port', String(chosen), '--idle-timeout', String(idleTimeout), '--backend', backend, '--worker'];
    if (keepAlive) args.push('--keep-alive');
    const child = fork(process.argv[1]!, args);
    children.push(child);
    child.on('message', (m: { listening?: string }) => {
      if (m.listening === undefined) return;
      if (++ready === workers) {
        sys.close(placeholder);
        console.log(`listening on ${m.listening}`);
      }
    });
    child.on('exit', (code) => {
      // Exit 0 only if every worker did.
      if (code !== 0) process.exitCode = code ?? 1;
      else process.exitCode ??= 0;
      // One worker gone unasked means the server is broken: stop the others.
      if (!stopping) stop('SIGTERM');
    });
  }
  // Pass the signal on; the parent exits once its workers have.
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
