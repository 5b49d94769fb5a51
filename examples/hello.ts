// The classic minimal server of the seed study, written by hand on raw fds:
// accept in batches until -1, register each connection for reading, read
// once, switch to writing, answer "hello world", close. Any selector backend
// drives it, so the same program measures each IO model.
//
//   npm run hello -- --backend epoll --port 8000
//   node dist/examples/hello.js --backend poll --port 0   # any free port
//
// With --keep-alive it answers every request of a kept connection instead
// (HTTP/1.1, and HTTP/1.0 with `Connection: keep-alive`, answered with
// `Connection: keep-alive`: the rules of support/http1.ts, as
// bench/c/hello_epoll.c --keep-alive; examples/kept-connections.ts): on readability it reads until -1, and after each read sends
// the replies to every request that read completed with one send, in order;
// the start of a request not complete yet is kept for the next read. What
// the kernel does not take waits for writability (reading stops meanwhile).
// It closes a connection at end of stream, after the reply to a request
// asking to close (`Connection: close`, HTTP/1.0 without keep-alive), and
// after answering 431 (best effort) to a request over 8 KiB.
//
//   npm run hello -- --backend epoll --keep-alive
//
// It prints one line, `listening on 127.0.0.1:PORT`, once it accepts
// connections, and exits cleanly (status 0, every fd closed) on SIGINT or
// SIGTERM.
//
// The loop allocates nothing per request: selectRaw() fills the selector's
// Int32Array of (fd, events) pairs, the request is read into one shared
// buffer and the reply is one preallocated Uint8Array. (The selector itself
// keeps one SelectorKey per registration, as its API promises.)
import { EVENT_READ, EVENT_WRITE, sys, type BaseSelector } from '../lib/index.js';
import { commandLine, oneOf, portNumber } from '../support/options.js';
import { backendClass, backendOption, LISTEN_OPTIONS } from '../support/servers.js';
import { KeptConnections } from './kept-connections.js';

const REPLY = new TextEncoder().encode('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
/** How long one wait may block; an idle server returns to Node's event loop this often. */
const IDLE_WAIT_MS = 100;
/** Select passes between two turns of Node's event loop under load. Signal
 * handlers only run in that loop, so this bounds how late SIGINT is seen. */
const PASSES_PER_TURN = 64;

const cli = commandLine('hello', 'npm run hello -- [options]\n       node dist/examples/hello.js [options]', {
  backend: backendOption('the'),
  ...LISTEN_OPTIONS,
  // Edge-triggered works unchanged here: every connection is read once and
  // answered once, and the listener is drained until accept() says -1.
  trigger: { type: 'string', default: 'level', arg: 'MODE', help: 'level- or edge-triggered registrations: level or edge' },
  // Edge-triggered works with keep-alive too: it reads until -1.
  'keep-alive': { type: 'boolean', help: 'answer every request of a kept connection (HTTP/1.1, or HTTP/1.0 keep-alive) instead of one per connection' },
});
const { values } = cli;
const port = cli.check(() => portNumber('port', values.port));
const host = values.host;
const options = { trigger: cli.check(() => oneOf('trigger', values.trigger, ['level', 'edge'])) } as const;

const sel: BaseSelector = new (backendClass(values.backend, cli.fail))();
const listener = sys.socket(host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_STREAM);
sys.setsockopt(listener, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
sys.bind(listener, host, port);
sys.listen(listener, sys.SOMAXCONN);
sel.register(listener, EVENT_READ, undefined, options);

const request = new Uint8Array(4096);
let stopping = false;
/** False while out of fds: the listener is unregistered so that its pending
 * connections (which stay readable) do not spin the loop. */
let accepting = true;
let warnedOutOfFds = false;

function acceptAll(): void {
  for (;;) {
    let fd: number;
    try {
      fd = sys.accept(listener);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
      // Out of fds: pending connections wait in the backlog until one of
      // ours closes (drop) or the server idles (turn), then accepting resumes.
      if (!warnedOutOfFds) process.stderr.write(`hello: ${code} (out of fds): accepting again as connections close\n`);
      warnedOutOfFds = true;
      sel.unregister(listener);
      accepting = false;
      return;
    }
    if (fd < 0) return;
    sel.register(fd, EVENT_READ, undefined, options);
  }
}

function resumeAccepting(): void {
  sel.register(listener, EVENT_READ);
  accepting = true;
}

function drop(fd: number): void {
  sel.unregister(fd);
  sys.close(fd);
  if (!accepting) resumeAccepting();
}

// One ready connection. Its registered interest says where it is: a
// connection registered for reading has not been answered yet.
function serve(fd: number, events: number): void {
  try {
    if (events & EVENT_READ) {
      const n = sys.recv(fd, request);
      if (n === -1) return; // woken for nothing: wait again
      if (n === 0) return drop(fd); // closed before asking anything
      sel.modify(fd, EVENT_WRITE);
    } else if (events & EVENT_WRITE) {
      // A fresh connection's send buffer holds far more than 49 bytes, so
      // the reply goes out whole or not at all (-1: wait again).
      if (sys.send(fd, REPLY) === -1) return;
      drop(fd);
    }
  } catch {
    // The client went away (ECONNRESET, EPIPE): nothing to answer.
    drop(fd);
  }
}

// --keep-alive: the connections are kept by examples/kept-connections.ts.
const kept = new KeptConnections({ watch: (fd, events) => sel.modify(fd, events), drop });
const serveKept = (fd: number, events: number): void => kept.serve(fd, events);

const serveReady = values['keep-alive'] ? serveKept : serve;

function turn(): void {
  for (let pass = 0; pass < PASSES_PER_TURN && !stopping; pass++) {
    const n = sel.selectRaw(IDLE_WAIT_MS);
    // Read the property after the wait: registering may grow (replace) it.
    const ready = sel.readyEvents;
    for (let i = 0; i < n; i++) {
      const fd = ready[2 * i]!;
      if (fd === listener) acceptAll();
      else serveReady(fd, ready[2 * i + 1]!);
    }
    if (n === 0) {
      if (!accepting) resumeAccepting();
      break; // idle: give Node's loop (and signal handlers) a turn now
    }
  }
  if (stopping) close();
  else setImmediate(turn);
}

function close(): void {
  for (const fd of sel.getMap().keys()) if (fd !== listener) sys.close(fd);
  sel.close();
  sys.close(listener);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}

function stop(): void {
  stopping = true;
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const bound = sys.getsockname(listener);
if (!('port' in bound)) throw new Error('the listener has no IP address');
// Harnesses start the server with --port 0 and read the port from this line.
console.log(`listening on ${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`);
setImmediate(turn);
