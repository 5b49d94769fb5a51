// FdStream idle timeouts, and work that only Node's loop can carry on a
// reactor not attached to it: awaits, ReactorSocket's connect() and wrapped
// fds, async connection handlers under run(). Each fails at once with
// ERR_REACTOR_NOT_RUNNING, saying what to do, instead of waiting forever.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type Coroutine, createConnection, EVENT_READ, type FdStream, Reactor, ReactorSocket, sys } from '../lib/index.js';
import { BACKENDS, enc, fdsChangedSince, openFds, owned, socketpair, thrown, track } from './helpers.js';
import { isOpen } from './fds.js';

describe.each(BACKENDS)('idle timeouts on $name', ({ create }) => {
  const reactor = () => new Reactor({ selector: track(create()) });

  it('closes an idle stream: its waiting read fails with ERR_STREAM_TIMEOUT and the fd is closed', () => {
    const r = reactor();
    const [a] = socketpair();
    const stream = r.stream(a).setTimeout(30);
    const started = performance.now();
    const task = r.spawn(function* (): Coroutine<unknown> {
      return yield* stream.read();
    });
    task.addDoneCallback(() => {}); // observed: the failure is this test's to check
    r.run();
    expect(task.exception).toMatchObject({ code: 'ERR_STREAM_TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(stream.closed).toBe(true);
    expect(isOpen(a)).toBe(false);
    expect(r.selector.getMap().size).toBe(0);
    r.close();
  });

  it('activity postpones it: a peer writing every 10 ms keeps a 40 ms timeout from firing', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const stream = r.stream(a).setTimeout(40);
    let writes = 0;
    const tick = () => {
      if (++writes <= 10) {
        sys.write(b, enc('x'));
        r.callLater(10, tick);
      } else sys.shutdown(b, sys.SHUT_WR);
    };
    r.callLater(10, tick);
    const task = r.spawn(function* (): Coroutine<number> {
      let got = 0;
      for (;;) {
        const chunk = yield* stream.read();
        if (chunk.length === 0) return got;
        got += chunk.length;
      }
    });
    r.run();
    expect(task.result()).toBe(10);
    stream.close();
    sys.close(b);
    r.close();
  });

  it('with a callback, calls it once and leaves the stream open; 0 turns it off', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const stream = r.stream(a);
    let calls = 0;
    stream.setTimeout(20, () => {
      calls++;
      r.callLater(60, () => r.stop());
    });
    r.run();
    expect(calls).toBe(1);
    expect(stream.closed).toBe(false);
    stream.setTimeout(0);
    r.callLater(40, () => r.stop());
    r.run();
    expect(calls).toBe(1);
    stream.close();
    sys.close(b);
    r.close();
  });

  it('with a callback, activity after it fired arms it again: it fires once more, a full timeout after that activity', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const stream = r.stream(a);
    const calls: number[] = [];
    let wroteAt = 0;
    stream.setTimeout(20, () => {
      calls.push(performance.now());
      if (calls.length === 1) {
        // Quiet for 30 ms after it fired: no second call without activity.
        r.callLater(30, () => {
          expect(calls).toHaveLength(1);
          wroteAt = performance.now();
          sys.write(b, enc('x'));
        });
      } else r.callLater(40, () => r.stop());
    });
    r.spawn(function* (): Coroutine<void> {
      yield* stream.read(); // the activity
    });
    r.run();
    expect(calls).toHaveLength(2);
    expect(calls[1]! - wroteAt).toBeGreaterThanOrEqual(19);
    expect(stream.closed).toBe(false);
    stream.close();
    sys.close(b);
    r.close();
  });

  it('refuses bad input', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const stream = r.stream(a);
    expect(thrown(() => stream.setTimeout('1' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => stream.setTimeout(-1))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => stream.setTimeout(Number.NaN))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => stream.setTimeout(Infinity))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => stream.setTimeout(5, 'x' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => r.listen({ port: 0, idleTimeout: -5 }, () => {}))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    stream.close();
    sys.close(b);
    r.close();
  });
});

describe.each(BACKENDS)('awaiting on $name', ({ create }) => {
  const reactor = () => new Reactor({ selector: track(create()) });

  it('an await on a reactor neither attached nor running fails at once with ERR_REACTOR_NOT_RUNNING', async () => {
    const r = reactor();
    const [a, b] = socketpair();
    await expect(r.readable(a)).rejects.toMatchObject({ code: 'ERR_REACTOR_NOT_RUNNING' });
    await expect(r.writable(a)).rejects.toMatchObject({ code: 'ERR_REACTOR_NOT_RUNNING' });
    await expect(r.sleep(1)).rejects.toMatchObject({ code: 'ERR_REACTOR_NOT_RUNNING' });
    await expect(r.stream(a, { closeFd: false }).read()).rejects.toMatchObject({ code: 'ERR_REACTOR_NOT_RUNNING' });
    expect(r.selector.getMap().size).toBe(0);
    // Attached, the same awaits work.
    r.attach();
    sys.write(b, enc('x'));
    await expect(r.readable(a)).resolves.toBeGreaterThan(0);
    await expect(r.sleep(1)).resolves.toBeUndefined();
    r.close();
    // Closed: the closed error, not this one.
    await expect(r.readable(a)).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    sys.close(a);
    sys.close(b);
  });

  it('a generator spawned before run() still waits for it (a yield is not an await)', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const task = r.spawn(function* (): Coroutine<number> {
      return (yield r.readable(a)) as number;
    });
    r.callLater(5, () => sys.write(b, enc('x')));
    r.run();
    expect(task.result()).toBeGreaterThan(0);
    sys.close(a);
    sys.close(b);
    r.close();
  });
});

/** A listening TCP socket on 127.0.0.1 nobody accepts from (the kernel
 * completes connects to it all the same): its port. */
function backlogOnly(): number {
  const fd = owned(sys.socket(sys.AF_INET, sys.SOCK_STREAM));
  sys.bind(fd, '127.0.0.1', 0);
  sys.listen(fd, 8);
  return (sys.getsockname(fd) as sys.InetAddress).port;
}

const notRunning = { code: 'ERR_REACTOR_NOT_RUNNING', message: expect.stringMatching(/call reactor\.attach\(\)/i) };

describe.each(BACKENDS)('a ReactorSocket on a reactor not attached, on $name', ({ create }) => {
  const reactor = () => new Reactor({ selector: track(create()) });

  it('connect() and wrapping an fd throw ERR_REACTOR_NOT_RUNNING at once on an idle reactor, leaving nothing behind; attached, they work', async () => {
    const r = reactor();
    const port = backlogOnly();
    const [a, b] = socketpair();
    const before = openFds();
    expect(thrown(() => createConnection(r, { host: '127.0.0.1', port }))).toMatchObject(notRunning);
    const socket = new ReactorSocket({ reactor: r });
    expect(thrown(() => socket.connect(port, '127.0.0.1'))).toMatchObject(notRunning);
    expect(thrown(() => socket.connect(port, 'localhost'))).toMatchObject(notRunning); // before any lookup
    expect(thrown(() => socket.connect({ path: '/nonexistent/socket' }))).toMatchObject(notRunning);
    // The socket is as it was: not connecting, no fd, free to connect later.
    expect(socket.connecting).toBe(false);
    expect(socket.fd).toBe(-1);
    expect(socket.destroyed).toBe(false);
    expect(thrown(() => new ReactorSocket({ reactor: r, fd: a }))).toMatchObject(notRunning);
    expect(isOpen(a)).toBe(true); // still the caller's
    expect(await fdsChangedSince(before)).toEqual([]);
    expect(r.selector.getMap().size).toBe(0);

    r.attach();
    socket.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const wrapped = new ReactorSocket({ reactor: r, fd: a });
    sys.write(b, enc('over the wrapped fd'));
    const [chunk] = (await once(wrapped, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('over the wrapped fd');
    socket.destroy();
    wrapped.destroy();
    r.close();
  });

  it('under run() too, whose thread Node\'s loop waits for: the same calls made inside run() throw ERR_REACTOR_NOT_RUNNING', () => {
    const r = reactor();
    const port = backlogOnly();
    const [a] = socketpair();
    const errors: unknown[] = [];
    r.callSoon(() => {
      expect(r.running).toBe(true);
      errors.push(thrown(() => createConnection(r, { host: '127.0.0.1', port })));
      errors.push(thrown(() => new ReactorSocket({ reactor: r, fd: a })));
    });
    r.run();
    expect(errors).toEqual([expect.objectContaining(notRunning), expect.objectContaining(notRunning)]);
    expect(r.selector.getMap().size).toBe(0);
    r.close();
  });

  it('on a closed reactor they throw ERR_REACTOR_CLOSED at once', () => {
    const r = reactor();
    const [a] = socketpair();
    r.close();
    expect(thrown(() => createConnection(r, { host: '127.0.0.1', port: 1 }))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    expect(thrown(() => new ReactorSocket({ reactor: r, fd: a }))).toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
  });
});

describe.each(BACKENDS)('async connection handlers under run() on $name', ({ create }) => {
  const reactor = () => new Reactor({ selector: track(create()) });

  /** Connects `count` clients to `port` on `r` and calls `done` once each has
   * read end of stream; a client still open after 3 s stops run(), so a
   * server that never answers fails the test instead of hanging it. */
  function clientsUntilEof(r: Reactor, port: number, count: number, done: () => void): { eofs: number } {
    const state = { eofs: 0 };
    const guard = r.callLater(3000, () => r.stop());
    for (let i = 0; i < count; i++) {
      const fd = owned(sys.socket(sys.AF_INET, sys.SOCK_STREAM));
      sys.connect(fd, '127.0.0.1', port);
      r.addHandler(
        fd,
        () => {
          if (sys.read(fd, new Uint8Array(64)) !== 0) return;
          r.removeHandler(fd);
          if (++state.eofs === count) {
            guard.cancel();
            done();
          }
        },
        EVENT_READ,
      );
    }
    return state;
  }

  it('an async handler is not called: each connection is closed at once and ERR_REACTOR_NOT_RUNNING reported once', () => {
    const r = reactor();
    const reported: unknown[] = [];
    r.on('error', (err) => reported.push(err));
    let called = 0;
    const server = r.listen({ port: 0 }, async (stream: FdStream) => {
      called++;
      await stream.read();
    });
    const clients = clientsUntilEof(r, server.port, 3, () => server.close());
    r.run();
    expect(clients.eofs).toBe(3);
    expect(called).toBe(0);
    expect(reported).toEqual([expect.objectContaining(notRunning)]);
    expect((reported[0] as Error).message).toContain('generator function');
    r.close();
  });

  it('a plain handler that returns a Promise keeps its fd, and ERR_REACTOR_NOT_RUNNING is reported once', () => {
    const r = reactor();
    const reported: unknown[] = [];
    r.on('error', (err) => reported.push(err));
    const handed: number[] = [];
    const server = r.listen({ port: 0 }, (fd: number) => {
      handed.push(owned(fd));
      sys.close(fd); // the handler's own close: the client reads end of stream
      return Promise.resolve();
    });
    const clients = clientsUntilEof(r, server.port, 2, () => server.close());
    r.run();
    expect(clients.eofs).toBe(2);
    expect(handed).toHaveLength(2);
    expect(reported).toEqual([expect.objectContaining({ code: 'ERR_REACTOR_NOT_RUNNING', message: expect.stringContaining('returned a Promise') })]);
    r.close();
  });
});
