// A stream's fd handler outlives a wake-up: an async reader, which resumes
// in a microtask after the pass that woke it and then waits again, costs no
// unregister and register per read. What must not change with it: a handler
// nobody waits on goes at the next pass (no spinning on unread data, run()
// still ends), a raw fd wait leaves nothing registered once it resumes, and
// closing a stream unregisters at once. Counted on the selector's own
// register/unregister calls (each one an epoll_ctl, kevent or the like) and
// selectRaw calls, over real socketpairs, on every backend.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { type BaseSelector, Reactor, sys } from '../lib/index.js';
import { BACKENDS, DIST_INDEX, enc, socketpair, track } from './helpers.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts the selector calls that reach the kernel, and the passes they
 * came in: a pass is synchronous, so a microtask queued by its first select
 * runs only after its last. */
function counted(selector: BaseSelector): { register: number; unregister: number; selects: number; passes: number } {
  const counts = { register: 0, unregister: 0, selects: 0, passes: 0 };
  let inPass = false;
  const register = selector.register.bind(selector);
  const unregister = selector.unregister.bind(selector);
  const selectRaw = selector.selectRaw.bind(selector);
  selector.register = (...args: Parameters<BaseSelector['register']>) => (counts.register++, register(...args));
  selector.unregister = (...args: Parameters<BaseSelector['unregister']>) => (counts.unregister++, unregister(...args));
  selector.selectRaw = (...args: Parameters<BaseSelector['selectRaw']>) => {
    counts.selects++;
    if (!inPass) {
      inPass = true;
      counts.passes++;
      queueMicrotask(() => (inPass = false));
    }
    return selectRaw(...args);
  };
  return counts;
}

describe.each(BACKENDS)('kept stream handlers on $name', ({ backend, create }) => {
  function reactor(): { r: Reactor; counts: ReturnType<typeof counted> } {
    const selector = track(create());
    const counts = counted(selector);
    return { r: new Reactor({ selector }), counts };
  }

  it('an async reader that waits again keeps its handler: one register for 50 reads', async () => {
    const { r, counts } = reactor();
    r.attach();
    const [a, b] = socketpair();
    try {
      const s = r.stream(a, { closeFd: false });
      const got: string[] = [];
      for (let i = 0; i < 50; i++) {
        // The peer answers once the reader is waiting again, as a client
        // of a kept connection does.
        setImmediate(() => sys.write(b, enc(`m${i};`)));
        got.push(new TextDecoder().decode(await s.read()));
      }
      expect(got.join('')).toBe(Array.from({ length: 50 }, (_, i) => `m${i};`).join(''));
      expect(counts.register).toBe(1);
      expect(counts.unregister).toBe(0);
      s.close();
      expect(r.hasHandler(a)).toBe(false);
      expect(counts.unregister).toBe(1);
    } finally {
      r.close();
      sys.close(a);
      sys.close(b);
    }
  });

  it('a kept handler nobody waits on goes at the next pass, and unread data does not make the reactor spin', async () => {
    const { r, counts } = reactor();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    r.attach();
    const [a, b] = socketpair();
    try {
      const s = r.stream(a, { closeFd: false, readSize: 1 });
      setImmediate(() => sys.write(b, enc('xyz')));
      expect(new TextDecoder().decode(await s.read())).toBe('x');
      expect(r.hasHandler(a)).toBe(true);
      // 'yz' stays unread and nobody waits: the fd is readable for good.
      await tick();
      await tick();
      expect(r.hasHandler(a)).toBe(false);
      const before = counts.selects;
      await sleepMs(50);
      // Nothing is registered, so nothing wakes the reactor.
      expect(counts.selects - before).toBeLessThan(5);
      // Reading again registers again and finds the rest.
      expect(new TextDecoder().decode(await s.read())).toBe('y');
      expect(errors).toEqual([]);
      s.close();
    } finally {
      r.close();
      sys.close(a);
      sys.close(b);
    }
  });

  it('a raw fd wait leaves no handler by the time its continuation runs', async () => {
    const { r } = reactor();
    r.attach();
    const [a, b] = socketpair();
    try {
      setImmediate(() => sys.write(b, enc('!')));
      await r.readable(a);
      // Its owner may close the fd now and reuse the number.
      expect(r.hasHandler(a)).toBe(false);
    } finally {
      r.close();
      sys.close(a);
      sys.close(b);
    }
  });

  it('closing a stream while its handler is leaving unregisters at once, and the next pass finds nothing to do', async () => {
    const { r, counts } = reactor();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    r.attach();
    const [a, b] = socketpair();
    try {
      const s = r.stream(a);
      // Written once the read waits, so that the read registers a handler.
      setImmediate(() => sys.write(b, enc('hi')));
      await s.read();
      s.close(); // closes a as well
      expect(r.hasHandler(a)).toBe(false);
      expect(counts.unregister).toBe(1);
      // A new fd may take the number at once and get a handler of its own.
      const [c, d] = socketpair();
      r.addHandler(c, () => {}, 1);
      await tick();
      await tick();
      expect(r.hasHandler(c)).toBe(true);
      expect(errors).toEqual([]);
      r.removeHandler(c);
      sys.close(c);
      sys.close(d);
    } finally {
      r.close();
      sys.close(b);
    }
  });

  it('closing the reactor while a handler is leaving is clean', async () => {
    const { r } = reactor();
    r.attach();
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false });
    setImmediate(() => sys.write(b, enc('hi')));
    await s.read();
    expect(r.hasHandler(a)).toBe(true);
    expect(() => r.close()).not.toThrow();
    expect(r.hasHandler(a)).toBe(false);
    sys.close(a);
    sys.close(b);
  });

  it('run() ends once a generator stops reading a stream that still has unread data', () => {
    // In a child, bounded in time: a reactor that never went idle would
    // block its thread for good.
    const code = `
      import { Reactor, selectorClass, sys } from LIB;
      const r = new Reactor({ selector: new (selectorClass(${JSON.stringify(backend)}))() });
      const [a, b] = sys.socketpair();
      const s = r.stream(a, { closeFd: false, readSize: 1 });
      // The first read waits (nothing is there yet): the handler is registered.
      r.callLater(5, () => sys.write(b, new TextEncoder().encode('ab')));
      let got = '';
      r.spawn(function* () { got = new TextDecoder().decode(yield* s.read()); });
      r.run();
      console.log(JSON.stringify({ got, handler: r.hasHandler(a) }));
      s.close(); r.close(); sys.close(a); sys.close(b);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code.replaceAll('LIB', JSON.stringify(DIST_INDEX))], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(child.signal).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ got: 'a', handler: false });
  });
});

describe.each(BACKENDS)('handlers that serve nobody on $name', ({ create }) => {
  // A level-triggered fd left readable makes Node's loop wake the attached
  // reactor over and over. A handler that says it did nothing (false) ends
  // each pass after one select; one that says nothing is polled again, up
  // to the pass's bound, as events keep coming.
  async function selectsPerPass(ms: number, result: boolean | undefined): Promise<{ perPass: number; calls: number }> {
    const selector = track(create());
    const counts = counted(selector);
    const r = new Reactor({ selector });
    const [a, b] = socketpair();
    let calls = 0;
    try {
      sys.write(b, enc('unread'));
      r.addHandler(
        a,
        () => {
          calls++;
          return result;
        },
        1,
      );
      r.attach();
      await sleepMs(ms);
      return { perPass: counts.selects / counts.passes, calls };
    } finally {
      r.close();
      sys.close(a);
      sys.close(b);
    }
  }

  it('an attached pass stops polling when a round served nobody', async () => {
    const idle = await selectsPerPass(60, false);
    const busy = await selectsPerPass(60, undefined);
    expect(idle.calls).toBeGreaterThan(0);
    expect(busy.calls).toBeGreaterThan(0);
    // One select per wake-up against the pass's bound (eight).
    expect(idle.perPass).toBeLessThan(1.5);
    expect(busy.perPass).toBeGreaterThan(4);
  });
});
