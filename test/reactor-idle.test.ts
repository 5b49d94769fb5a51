// FdStream idle timeouts, and awaits on a reactor that nothing runs.
import { describe, expect, it } from 'vitest';
import { type Coroutine, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, thrown, track } from './helpers.js';
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
