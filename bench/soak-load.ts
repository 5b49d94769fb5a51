// The load generator of the soak (bench/soak.ts), a process of its own:
// `clients` concurrent clients of one server, each of one kind, for
// `seconds`, then a bounded drain. Kinds (the share of the clients):
//
//   normal     hello: a request, the whole reply, a new connection each time;
//              echo: 1 B – 16 KiB sent and read back whole, over and over on
//              one connection (a new one after 50–500 round trips)
//   halfClose  the request, then end() (FIN), then the whole answer and EOF
//   slow       echo: 1 MiB sent at once and read back at 512 KiB/s with
//              pause()/resume(), so that the server's writes back up;
//              hello: the reply read only after a pause of 0.2–1 s
//   reset      part of a request, then an RST (resetAndDestroy) at once, on
//              the next turn of the event loop, or 1–5 ms later
//   idle       a connection that sends nothing, held 5–15 s and closed
//              (FIN) by the client, then another
//
// Between attempts a client pauses for a random think time (THINK_MS), so
// that the load generator keeps up with what it asks for.
//
// Every reply is checked byte for byte (echo: against the bytes sent), and
// each attempt ends in exactly one outcome: served, or one error counted by
// its kind (the errno code such as ECONNRESET, EPIPE, ECONNREFUSED or
// EADDRNOTAVAIL, or timeout: 10 s without a byte; wrongBytes: bytes other
// than the expected ones; closedEarly: EOF before the whole answer, or on an
// idle connection). The resets the reset clients send are theirs, not
// errors; a reset client that saw the server close the connection before
// its RST went out counts as resetLate (on hello the server may also have
// answered and closed with the client yet to read it: then the RST is
// counted as sent, to a connection the server is done with).
//
// Once a second it prints one JSON line of cumulative counters on stdout
// (`{"tick":...}`), and at the end one `{"final":...}` line. It stops
// itself: after `seconds` no client starts a new attempt, idle connections
// are closed, and what is still running after the drain (15 s) is destroyed
// and counted as unfinished.
//
//   node dist/bench/soak-load.js --target hello|echo --target-port PORT [--clients 5000] [--seconds 60] [--ramp 3]
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { commandLine } from '../support/options.js';
import { clientMix, KINDS, THINK_MS, type ClientKind, type LoadCounters } from './lib/soak-clients.js';

const HOST = '127.0.0.1';

/** An attempt with no byte in either direction for this long is a timeout. */
const TIMEOUT_MS = 10_000;
/** After the run, how long attempts under way may take to finish. */
const DRAIN_MS = 15_000;
const IDLE_HOLD_MS: [number, number] = [5_000, 15_000];
const ECHO_ROUND_TRIPS: [number, number] = [50, 500];
const ECHO_MAX_REQUEST = 16 * 1024;
const ECHO_HALF_CLOSE_MAX = 64 * 1024;
const SLOW_PAYLOAD = 1024 * 1024;
const SLOW_RATE = 512 * 1024; // bytes/s
const HELLO_SLOW_PAUSE_MS: [number, number] = [200, 1000];
const RESET_DELAY_MS = 5;

// What examples/hello-reactor.ts answers to any request.
const HELLO_REQUEST = Buffer.from('GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
const HELLO_REPLY = Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
// The bytes echo clients send: slices of one random buffer, so that every
// answer can be checked against what was sent without keeping a copy.
const PAYLOAD = randomBytes(SLOW_PAYLOAD);

interface Config {
  target: 'hello' | 'echo';
  port: number;
  clients: number;
  seconds: number;
  rampS: number;
}

function parseConfig(argv: string[]): Config {
  const cli = commandLine(
    'soak-load',
    'node dist/bench/soak-load.js --target hello|echo --target-port PORT [options]',
    {
      target: { type: 'string', arg: 'NAME', help: 'the server under load: hello or echo (required)' },
      'target-port': { type: 'string', arg: 'PORT', help: "the server's port on 127.0.0.1 (required)" },
      clients: { type: 'string', default: '5000', arg: 'N', help: 'concurrent clients' },
      seconds: { type: 'string', default: '60', arg: 'S', help: 'seconds of load, before the drain' },
      ramp: { type: 'string', default: '3', arg: 'S', help: 'seconds over which the clients start' },
    },
    argv,
  );
  const { values } = cli;
  function fail(message: string): never {
    return cli.fail(message);
  }
  const target = values.target;
  if (target !== 'hello' && target !== 'echo') fail(`--target must be hello or echo, got ${target}`);
  const num = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}, got ${value}`);
    return n;
  };
  const port = num('target-port', values['target-port'], 1);
  const clients = num('clients', values.clients, 1);
  if (!Number.isInteger(port) || port > 65535 || !Number.isInteger(clients)) fail('--target-port and --clients are integers');
  return { target, port, clients, seconds: num('seconds', values.seconds, 1), rampS: num('ramp', values.ramp, 0) };
}

const rand = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);
const randInt = (lo: number, hi: number): number => Math.floor(rand(lo, hi + 1));

// ---- counters

const counters: LoadCounters = {
  t: 0,
  served: { normal: 0, halfClose: 0, slow: 0 },
  resets: 0,
  resetLate: 0,
  idleHeld: 0,
  slowReadSeconds: 0,
  connections: 0,
  errors: { normal: {}, halfClose: {}, slow: {}, reset: {}, idle: {} },
  open: 0,
  cpuUs: 0,
  loopDelayP99Ms: 0,
  loopDelayMaxMs: 0,
  latencyP50Ms: 0,
  latencyP99Ms: 0,
};
let latencies: number[] = [];

function countError(kind: ClientKind, error: string): void {
  const byKind = counters.errors[kind];
  byKind[error] = (byKind[error] ?? 0) + 1;
}

// ---- one attempt

/** The outcome of an attempt: undefined for success, else the error kind. */
type Outcome = string | undefined;

/** The error kind of a socket error: its errno code. */
function errorKind(err: NodeJS.ErrnoException): string {
  return err.code ?? 'other';
}

/** A connection for one attempt, whose outcome is decided once: `settle`
 * records the first outcome, destroys the socket and resolves; later
 * outcomes (the 'close' after an 'error', a timeout racing an answer) are
 * not counted again. */
class Attempt {
  readonly socket: Socket;
  readonly done: Promise<Outcome>;
  settled = false;
  #resolve!: (outcome: Outcome) => void;

  constructor(timeoutMs: number) {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const socket = connect({ host: HOST, port: config.port, noDelay: true });
    this.socket = socket;
    counters.connections++;
    counters.open++;
    live.add(this);
    if (timeoutMs > 0) socket.setTimeout(timeoutMs, () => this.settle('timeout'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.settle(errorKind(err)));
    socket.on('close', () => {
      counters.open--;
      live.delete(this);
      // A close is always preceded by an error, an end or our own settle.
      this.settle('closedEarly');
    });
  }

  settle(outcome: Outcome, how: 'destroy' | 'end' | 'reset' = 'destroy'): void {
    if (this.settled) return;
    this.settled = true;
    this.socket.setTimeout(0);
    if (how === 'end') {
      // A graceful close: FIN now, and the socket goes once the server has
      // closed its side too (or in 1 s).
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else if (how === 'reset') {
      this.socket.resetAndDestroy();
    } else {
      this.socket.destroy();
    }
    this.#resolve(outcome);
  }
}

/** Attempts under way, destroyed if the drain runs out. */
const live = new Set<Attempt>();

// ---- hello

function helloRequest(kind: 'normal' | 'halfClose' | 'slow'): Promise<Outcome> {
  const a = new Attempt(TIMEOUT_MS);
  const started = performance.now();
  const got: Buffer[] = [];
  let length = 0;
  a.socket.on('connect', () => {
    if (kind === 'halfClose') a.socket.end(HELLO_REQUEST);
    else a.socket.write(HELLO_REQUEST);
    if (kind === 'slow') {
      a.socket.pause();
      setTimeout(() => a.socket.resume(), rand(...HELLO_SLOW_PAUSE_MS));
    }
  });
  a.socket.on('data', (chunk: Buffer) => {
    got.push(chunk);
    length += chunk.length;
    if (length > HELLO_REPLY.length) a.settle('wrongBytes');
  });
  a.socket.on('end', () => {
    const reply = Buffer.concat(got, length);
    if (reply.equals(HELLO_REPLY)) {
      if (kind === 'normal') latencies.push(performance.now() - started);
      a.settle(undefined);
    } else if (HELLO_REPLY.subarray(0, length).equals(reply)) {
      a.settle('closedEarly');
    } else {
      a.settle('wrongBytes');
    }
  });
  return a.done;
}

// ---- echo

/** Expects `expected` back on the attempt's socket, checking every byte;
 * resolves true when it has all arrived, false if the attempt settled. */
function echoBack(a: Attempt, expected: Buffer, onChunk?: (n: number) => void): Promise<boolean> {
  return new Promise((resolve) => {
    let offset = 0;
    const onData = (chunk: Buffer): void => {
      if (offset + chunk.length > expected.length || !chunk.equals(expected.subarray(offset, offset + chunk.length))) {
        a.socket.off('data', onData);
        a.settle('wrongBytes');
        return;
      }
      offset += chunk.length;
      onChunk?.(chunk.length);
      if (offset === expected.length) {
        a.socket.off('data', onData);
        resolve(true);
      }
    };
    a.socket.on('data', onData);
    void a.done.then(() => resolve(false));
  });
}

function connected(a: Attempt): Promise<boolean> {
  return new Promise((resolve) => {
    a.socket.once('connect', () => resolve(true));
    void a.done.then(() => resolve(false));
  });
}

/** Waits for the server's EOF; true if it came with no further byte. */
function eof(a: Attempt): Promise<boolean> {
  return new Promise((resolve) => {
    a.socket.once('data', () => a.settle('wrongBytes'));
    a.socket.once('end', () => resolve(true));
    void a.done.then(() => resolve(false));
  });
}

function slice(maxBytes: number): Buffer {
  const n = randInt(1, maxBytes);
  const at = randInt(0, PAYLOAD.length - n);
  return PAYLOAD.subarray(at, at + n);
}

async function echoSession(): Promise<Outcome> {
  const a = new Attempt(TIMEOUT_MS);
  if (!(await connected(a))) return a.done;
  const trips = randInt(...ECHO_ROUND_TRIPS);
  for (let i = 0; i < trips && !stopping; i++) {
    const data = slice(ECHO_MAX_REQUEST);
    const started = performance.now();
    a.socket.write(data);
    if (!(await echoBack(a, data))) return a.done;
    latencies.push(performance.now() - started);
    counters.served.normal++;
    await think('normal');
  }
  // The client closes; the server must answer the FIN with its own.
  a.socket.end();
  if (await eof(a)) a.settle(undefined);
  return a.done;
}

async function echoHalfClose(): Promise<Outcome> {
  const a = new Attempt(TIMEOUT_MS);
  if (!(await connected(a))) return a.done;
  const data = slice(ECHO_HALF_CLOSE_MAX);
  a.socket.end(data);
  if ((await echoBack(a, data)) && (await eof(a))) a.settle(undefined);
  return a.done;
}

async function echoSlow(): Promise<Outcome> {
  const a = new Attempt(TIMEOUT_MS);
  if (!(await connected(a))) return a.done;
  const started = performance.now();
  a.socket.write(PAYLOAD);
  // Read at SLOW_RATE: after each chunk, pause for the time it should take.
  const ok = await echoBack(a, PAYLOAD, (n) => {
    a.socket.pause();
    setTimeout(() => a.socket.resume(), (n / SLOW_RATE) * 1000);
  });
  if (!ok) return a.done;
  counters.slowReadSeconds += (performance.now() - started) / 1000;
  a.socket.resume();
  a.socket.end();
  if (await eof(a)) a.settle(undefined);
  return a.done;
}

// ---- reset and idle, for both servers

async function resetMidRequest(): Promise<Outcome> {
  const a = new Attempt(TIMEOUT_MS);
  if (!(await connected(a))) return a.done;
  // Part of a request: hello's request line cut short (possibly to
  // nothing), or an echo payload whose echo is still coming back.
  a.socket.write(config.target === 'hello' ? HELLO_REQUEST.subarray(0, randInt(0, HELLO_REQUEST.length - 1)) : slice(ECHO_HALF_CLOSE_MAX));
  a.socket.on('data', () => {}); // read what comes: it is not checked
  a.socket.on('end', () => {
    // The hello server answered and closed first: nothing left to reset.
    if (a.settled) return;
    counters.resetLate++;
    a.settle(undefined);
  });
  // The RST goes out in the same tick as the bytes, or on the next turn of
  // the event loop, or 1–5 ms later.
  const when = Math.random();
  if (when >= 1 / 3) await new Promise((resolve) => (when < 2 / 3 ? setImmediate(resolve) : setTimeout(resolve, rand(1, RESET_DELAY_MS))));
  if (a.settled) return a.done;
  counters.resets++;
  a.settle(undefined, 'reset');
  return a.done;
}

async function idleHold(): Promise<Outcome> {
  // The timeout covers the connect only: then the connection is meant to idle.
  const a = new Attempt(TIMEOUT_MS);
  if (!(await connected(a))) return a.done;
  a.socket.setTimeout(0);
  // Nothing is expected on an idle connection: any byte, or an EOF, is the
  // server giving up on it.
  a.socket.on('data', () => a.settle('wrongBytes'));
  a.socket.on('end', () => a.settle('closedEarly'));
  // The run may have ended while this one was connecting.
  if (stopping) {
    a.settle(undefined, 'end');
    return a.done;
  }
  const hold = rand(...IDLE_HOLD_MS);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, hold);
    idleWaiters.add(resolve);
    void a.done.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (a.settled) return a.done;
  counters.idleHeld++;
  a.settle(undefined, 'end');
  return a.done;
}

/** Idle clients' waits, ended at once when the run stops. */
const idleWaiters = new Set<() => void>();

// ---- the clients

function attempt(kind: ClientKind): Promise<Outcome> {
  if (kind === 'reset') return resetMidRequest();
  if (kind === 'idle') return idleHold();
  if (config.target === 'hello') return helloRequest(kind);
  if (kind === 'normal') return echoSession();
  if (kind === 'halfClose') return echoHalfClose();
  return echoSlow();
}

async function client(kind: ClientKind, startDelayMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, startDelayMs));
  while (!stopping) {
    const outcome = await attempt(kind);
    if (outcome !== undefined) {
      countError(kind, outcome);
      // After an error, wait a little (a refused or failed connect returns at
      // once, and a loop of them would measure nothing but the loop).
      await new Promise((resolve) => setTimeout(resolve, rand(50, 150)));
    } else {
      if (kind === 'normal' || kind === 'halfClose' || kind === 'slow') {
        // Echo sessions count (and pace) each round trip as it comes.
        if (config.target === 'hello' || kind !== 'normal') counters.served[kind]++;
      }
      if (config.target === 'hello' || kind !== 'normal') await think(kind);
    }
  }
}

function think(kind: ClientKind): Promise<void> {
  const [lo, hi] = THINK_MS[config.target][kind];
  if (hi === 0 || stopping) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, rand(lo, hi)));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const config = parseConfig(process.argv.slice(2));
let stopping = false;

function main(): void {
  const mix = clientMix(config.clients);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const snapshot = (): LoadCounters => {
    const cpu = process.cpuUsage(cpu0);
    const sorted = latencies.sort((x, y) => x - y);
    latencies = [];
    counters.t = (performance.now() - t0) / 1000;
    counters.cpuUs = cpu.user + cpu.system;
    counters.loopDelayP99Ms = delay.percentile(99) / 1e6;
    counters.loopDelayMaxMs = delay.max / 1e6;
    counters.latencyP50Ms = percentile(sorted, 0.5);
    counters.latencyP99Ms = percentile(sorted, 0.99);
    delay.reset();
    return counters;
  };
  const ticker = setInterval(() => process.stdout.write(`${JSON.stringify({ tick: snapshot() })}\n`), 1000);

  // Kinds interleaved, starts spread over the ramp, so that the mix holds
  // from the first second and the listen backlog is not flooded at once.
  const order: ClientKind[] = [];
  const left = { ...mix };
  while (order.length < config.clients) {
    for (const kind of KINDS) {
      if (left[kind] > 0) {
        order.push(kind);
        left[kind]--;
      }
    }
  }
  const clients = order.map((kind, i) => client(kind, (i / config.clients) * config.rampS * 1000));

  setTimeout(() => {
    stopping = true;
    for (const wake of idleWaiters) wake();
    idleWaiters.clear();
    const drained = Promise.all(clients).then(() => 'drained' as const);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DRAIN_MS).unref());
    void Promise.race([drained, timeout]).then(() => {
      clearInterval(ticker);
      const unfinished = [...live].filter((a) => !a.settled).length;
      for (const a of live) a.socket.destroy();
      const final = { ...snapshot(), unfinished };
      process.stdout.write(`${JSON.stringify({ final })}\n`, () => process.exit(0));
    });
  }, config.seconds * 1000);
}

main();
