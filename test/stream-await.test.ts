// The await form of FdStream's operations, over real socketpairs on every
// backend: an await read loop keeps its fd registered between reads (no
// register/unregister per read), the read interest it leaves behind goes at
// the next pass, and then()'s callbacks behave as a Promise's.
import { describe, expect, it } from 'vitest';
import { type BaseSelector, type CodedError, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, track } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const later = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A reactor on a new selector whose interest changes are counted. */
function counted(create: () => BaseSelector): { r: Reactor; calls: Record<'register' | 'unregister' | 'modify', number> } {
  const selector = track(create());
  const calls = { register: 0, unregister: 0, modify: 0 };
  for (const name of ['register', 'unregister', 'modify'] as const) {
    const original = (selector[name] as (...args: unknown[]) => unknown).bind(selector);
    (selector as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++;
      return original(...args);
    };
  }
  return { r: new Reactor({ selector }), calls };
}

describe.each(BACKENDS)('awaited stream operations on $name', ({ create }) => {
  it('an await read loop that waits for every chunk registers its fd once and never drops it between reads', async () => {
    const { r, calls } = counted(create);
    r.attach();
    const [a, b] = socketpair();
    const s = r.stream(a);
    const got: string[] = [];
    for (let k = 0; k < 20; k++) {
      r.callLater(1, () => sys.write(b, enc(`m${k};`)));
      const chunk = await s.read();   // nothing there yet: each read waits
      got.push(dec(chunk));
    }
    expect(got.join('')).toBe(Array.from({ length: 20 }, (_, k) => `m${k};`).join(''));
    expect(calls).toEqual({ register: 1, unregister: 0, modify: 0 });
    // The reader has stopped: its interest is gone after the next pass.
    await later(20);
    expect(r.hasHandler(a)).toBe(false);
    expect(calls.unregister).toBe(1);
    s.close();
    sys.close(b);
    r.close();
  });

  it('bytes that come while nobody reads are not lost and do not spin the loop: the interest goes, the next read gets them', async () => {
    const { r, calls } = counted(create);
    r.attach();
    const [a, b] = socketpair();
    const s = r.stream(a);
    r.callLater(1, () => sys.write(b, enc('first')));
    expect(dec(await s.read())).toBe('first');
    sys.write(b, enc('second'));      // the read interest still lingers: the next pass drops it
    let passes = 0;
    r.callEvery(1, () => passes++);
    await later(30);
    expect(r.hasHandler(a)).toBe(false);
    expect(calls.unregister).toBe(1);
    expect(passes).toBeGreaterThan(0);
    expect(dec(await s.read())).toBe('second');
    s.close();
    sys.close(b);
    r.close();
  });

  it('then(): callbacks get the result of a read that waited, a throw in one rejects, a close rejects with ERR_STREAM_CLOSED', async () => {
    const r = new Reactor({ selector: track(create()) });
    r.attach();
    const [a, b] = socketpair();
    const s = r.stream(a);
    r.callLater(1, () => sys.write(b, enc('abc')));
    expect(await s.read().then((chunk) => dec(chunk).toUpperCase())).toBe('ABC');

    r.callLater(1, () => sys.write(b, enc('x')));
    const boom = new Error('boom');
    await expect(s.read().then(() => {
      throw boom;
    })).rejects.toBe(boom);

    const waiting = s.read().then(() => 'read', (err: unknown) => (err as CodedError).code);
    r.callLater(1, () => s.close());
    expect(await waiting).toBe('ERR_STREAM_CLOSED');
    expect(r.hasHandler(a)).toBe(false);
    sys.close(b);
    r.close();
  });

  it('then(): a read served at once still calls back asynchronously, as a Promise does', async () => {
    const r = new Reactor({ selector: track(create()) });
    r.attach();
    const [a, b] = socketpair();
    const s = r.stream(a);
    sys.write(b, enc('there'));
    let called = false;
    const p = s.read().then((chunk) => {
      called = true;
      return dec(chunk);
    });
    expect(called).toBe(false);
    expect(await p).toBe('there');
    expect(called).toBe(true);
    s.close();
    sys.close(b);
    r.close();
  });
});
