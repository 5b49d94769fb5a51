// The layers run on the bare core: coroutines, streams, the TCP server and
// ReactorSocket given a ReactorCore (no Reactor methods anywhere) work as
// they do under Reactor, and Reactor's methods are the layers' functions.
import { describe, expect, it } from 'vitest';
import {
  type Coroutine,
  createConnection,
  EVENT_READ,
  EVENT_WRITE,
  FdStream,
  listen,
  Reactor,
  ReactorCore,
  readable,
  sleep,
  spawn,
  sys,
  TcpServer,
  writable,
} from '../lib/index.js';
import { BACKENDS, enc, socketpair, thrown, track } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe.each(BACKENDS)('layers on a bare ReactorCore, $name', ({ create }) => {
  function core(): ReactorCore {
    return new ReactorCore({ selector: track(create()) });
  }

  it('a coroutine waits on readable/writable/sleep given the loop as an argument', () => {
    const loop = core();
    const [a, b] = socketpair();
    const seen: number[] = [];
    const task = spawn(loop, function* (): Coroutine<string> {
      seen.push(yield writable(loop, b));
      yield sleep(loop, 1);
      sys.write(b, enc('hi'));
      seen.push(yield readable(loop, a));
      const buf = new Uint8Array(8);
      return dec(buf.subarray(0, sys.read(a, buf)));
    });
    loop.run();
    expect(task.result()).toBe('hi');
    expect(seen).toEqual([EVENT_WRITE, EVENT_READ]);
    expect(loop.selector.getMap().size).toBe(0);
    loop.close();
  });

  it('a TCP server with a generator handler echoes through an FdStream, and a ReactorSocket talks to it', async () => {
    const loop = core();
    const server = listen(loop, { port: 0 }, function* (stream: FdStream) {
      yield* stream.write(yield* stream.readUntil('\n'));
    });
    expect(server).toBeInstanceOf(TcpServer);
    loop.attach();
    try {
      const socket = createConnection(loop, { host: '127.0.0.1', port: server.port });
      const reply = await new Promise<string>((resolve, reject) => {
        let got = '';
        socket.on('data', (chunk: Buffer) => {
          got += chunk.toString();
          if (got.endsWith('\n')) resolve(got);
        });
        socket.on('error', reject);
        socket.write('ping\n');
      });
      expect(reply).toBe('ping\n');
      socket.destroy();
    } finally {
      server.close();
      loop.close();
    }
  });

  it('an FdStream reads exactly n bytes on the bare core', () => {
    const loop = core();
    const [a, b] = socketpair();
    const stream = new FdStream(loop, a, { closeFd: false });
    const task = spawn(loop, function* () {
      return dec(yield* stream.readExactly(5));
    });
    loop.callLater(1, () => sys.write(b, enc('hel')));
    loop.callLater(3, () => sys.write(b, enc('lo!')));
    loop.run();
    expect(task.result()).toBe('hello');
    stream.close();
    loop.close();
  });
});

describe('the layer functions', () => {
  it('refuse a loop that is not a reactor, and a closed one', () => {
    expect(thrown(() => spawn({} as ReactorCore, function* () {}))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const loop = new ReactorCore();
    loop.close();
    expect(thrown(() => spawn(loop, function* () {}))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(thrown(() => listen(loop, { port: 0 }, () => {}))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(thrown(() => new FdStream(loop, 0))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(thrown(() => readable(loop, -1))).toMatchObject({ code: 'ERR_INVALID_FD' });
    expect(thrown(() => sleep(loop, Number.NaN))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it("are what Reactor's methods call", () => {
    const r = new Reactor();
    try {
      expect(r).toBeInstanceOf(ReactorCore);
      const [a] = socketpair();
      expect(r.readable(a)).toMatchObject({ reactor: r, fd: a, events: EVENT_READ });
      expect(r.writable(a)).toMatchObject({ reactor: r, fd: a, events: EVENT_WRITE });
      expect(r.sleep(5)).toMatchObject({ reactor: r, ms: 5 });
      const task = r.spawn(function* () {
        return 7;
      });
      expect(task.reactor).toBe(r);
      expect(task.result()).toBe(7);
    } finally {
      r.close();
    }
  });
});
