// The cross-thread inbox: values posted from worker_threads (and from the
// reactor's own thread) reach onMessage equal and in order, wake a reactor
// blocked in select, and fail in the poster with coded errors once the
// inbox is closed or full; on every backend, under run() and attach().
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type CodedError, type Inbox, openInbox, postToInbox, Reactor, ReactorCore } from '../lib/index.js';
import { BACKENDS, fdsChangedSince, openFds, thrown, track } from './helpers.js';
import { exited, nextMessage, worker } from './worker-helpers.js';

type Mode = 'run' | 'attach';

/** How long a receiver waits for its messages before it gives up (so a
 * lost message fails the count instead of blocking run() for ever). */
const GIVE_UP_MS = 60_000;

/** An inbox on `reactor` that collects `count` values, then closes. */
function receiver(reactor: Reactor, count: number, onValue: (v: unknown) => void = () => {}) {
  const values: unknown[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const inbox: Inbox = reactor.inbox((value) => {
    values.push(value);
    onValue(value);
    if (values.length === count) {
      inbox.close();
      giveUp.cancel();
      finish();
    }
  });
  const giveUp = reactor.callLater(GIVE_UP_MS, () => {
    inbox.close();
    finish();
  });
  return { inbox, values, done };
}

/** Lets the reactor deliver until `done`: run() returns by itself once the
 * inbox has closed; attached, Node's loop turns meanwhile. */
async function deliver(reactor: Reactor, mode: Mode, done: Promise<void>): Promise<void> {
  if (mode === 'run') reactor.run();
  else {
    reactor.attach();
    await done;
  }
}


// The values of several kinds that must arrive equal.
const KINDS = `[
  42, -0.5, 'text', true, null, undefined, 2n ** 70n,
  { a: 1, nested: { list: [1, 'two', { three: 3 }] } },
  new Map([['k', new Set([1, 2])], [1, { deep: new Map([[null, 'x']]) }]]),
  new Date(1700000000123),
  new Uint8Array([1, 2, 255]), new Float64Array([0.5, -1e300]), new Int32Array([-7, 7]),
  /ab+c/gi,
  [[], {}, [new Date(0)]],
]`;

describe.each(BACKENDS)('inbox on $name', ({ create }) => {
  describe.each(['run', 'attach'] as const)('under %s()', (mode) => {
    function reactor(): Reactor {
      return new Reactor({ selector: track(create()) });
    }

    it('values of every kind posted by a worker arrive equal, in order', async () => {
      const r = reactor();
      const expected = new Function(`return ${KINDS}`)() as unknown[];
      const { inbox, values, done } = receiver(r, expected.length);
      const w = worker(`for (const v of ${KINDS}) lib.postToInbox(data, v);`, inbox.handle);
      try {
        await deliver(r, mode, done);
        expect(values).toEqual(expected);
        expect(values[8]).toBeInstanceOf(Map);
        expect(values[10]).toBeInstanceOf(Uint8Array);
        expect(values[11]).toBeInstanceOf(Float64Array);
        // A typed array received views its own message only.
        expect((values[10] as Uint8Array).buffer.byteLength).toBeLessThan(64);
      } finally {
        r.close();
        await w.terminate();
      }
    });

    it('4 workers posting at once: per-worker order kept, nothing lost', async () => {
      const r = reactor();
      const perWorker = mode === 'run' ? 25_000 : 5_000;
      const { inbox, values, done } = receiver(r, 4 * perWorker);
      const workers = [0, 1, 2, 3].map((id) =>
        worker(`for (let i = 0; i < ${perWorker}; i++) lib.postToInbox(data.handle, [data.id, i]);`, { handle: inbox.handle, id }),
      );
      try {
        await deliver(r, mode, done);
        expect(values.length).toBe(4 * perWorker);
        const next = [0, 0, 0, 0];
        let interleaved = false;
        let previous = -1;
        for (const v of values as Array<[number, number]>) {
          const [id, i] = v;
          expect(i).toBe(next[id]);
          next[id] = i + 1;
          if (previous !== -1 && previous !== id) interleaved = true;
          previous = id;
        }
        expect(next).toEqual([perWorker, perWorker, perWorker, perWorker]);
        // Sanity: the values really came from four threads.
        expect(interleaved).toBe(true);
      } finally {
        r.close();
        await Promise.all(workers.map((w) => w.terminate()));
      }
    }, 120_000);

    it("the reactor's own thread posts too, before and during delivery, in order", async () => {
      const r = reactor();
      const { inbox, values, done } = receiver(r, 4, (v) => {
        if (v === 'b') r.callSoon(() => postToInbox(inbox.handle, 'd'));
      });
      postToInbox(inbox.handle, 'a');
      postToInbox(inbox.handle, 'b');
      postToInbox(inbox.handle, 'c');
      await deliver(r, mode, done);
      expect(values).toEqual(['a', 'b', 'c', 'd']);
      r.close();
    });

    it('a post wakes a reactor blocked in select with no timeout', async () => {
      const r = reactor();
      // Nothing but the inbox: no timer, so run() waits in selectRaw(null)
      // (attached, libuv waits with no timer of the reactor's).
      const timeouts: Array<number | null | undefined> = [];
      const selectRaw = r.selector.selectRaw.bind(r.selector);
      r.selector.selectRaw = (timeout?: number | null) => {
        timeouts.push(timeout);
        return selectRaw(timeout);
      };
      const values: unknown[] = [];
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      const inbox = r.inbox((v) => {
        values.push(v);
        inbox.close();
        finish();
      });
      const w = worker(`Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); lib.postToInbox(data, 'late');`, inbox.handle);
      const started = performance.now();
      try {
        await deliver(r, mode, done);
        expect(values).toEqual(['late']);
        expect(performance.now() - started).toBeGreaterThanOrEqual(250);
        if (mode === 'run') expect(timeouts).toContain(null);
        else expect(timeouts.every((t) => t === 0)).toBe(true);
      } finally {
        r.close();
        await w.terminate();
      }
    });

    it('a worker posting after close() gets ERR_INBOX_CLOSED, and goes on', async () => {
      const r = reactor();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      let dropped = -1;
      const values: unknown[] = [];
      const inbox = r.inbox((v) => {
        values.push(v);
        dropped = inbox.close();
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
      const w = worker(
        `lib.postToInbox(data.handle, 'first');
         Atomics.wait(data.flag, 0, 0, 20000);
         const out = [];
         for (const v of ['late', 'later']) {
           try { lib.postToInbox(data.handle, v); out.push('queued'); }
           catch (e) { out.push(e.name + ':' + e.code); }
         }
         post(out);`,
        { handle: inbox.handle, flag },
      );
      const reply = nextMessage(w);
      try {
        await deliver(r, mode, new Promise<void>((resolve) => w.once('message', () => resolve())));
        expect(await reply).toEqual(['Error:ERR_INBOX_CLOSED', 'Error:ERR_INBOX_CLOSED']);
        expect(await exited(w)).toBe(0);
        expect(values).toEqual(['first']);
        expect(dropped).toBe(0);
        expect(inbox.closed).toBe(true);
      } finally {
        r.close();
        await w.terminate();
      }
    });

    it('a value that cannot be cloned throws in the poster and queues nothing', async () => {
      const r = reactor();
      const { inbox, values, done } = receiver(r, 2);
      const w = worker(
        `const out = [];
         lib.postToInbox(data, 'before');
         for (const bad of [() => 1, Symbol('s'), { f() {} }]) {
           try { lib.postToInbox(data, bad); out.push('queued'); } catch (e) { out.push(e.message); }
         }
         lib.postToInbox(data, 'after');
         post(out);`,
        inbox.handle,
      );
      const reply = nextMessage(w);
      try {
        await deliver(r, mode, done);
        expect(values).toEqual(['before', 'after']);
        const messages = (await reply) as string[];
        expect(messages).toHaveLength(3);
        for (const m of messages) expect(m).toMatch(/could not be cloned/);
        expect((thrown(() => postToInbox(inbox.handle, () => 1)) as Error).message).toMatch(/could not be cloned/);
      } finally {
        r.close();
        await w.terminate();
      }
    });

    it('an exception in onMessage is reported and the next value still comes', async () => {
      const r = reactor();
      const errors: unknown[] = [];
      r.on('error', (e) => errors.push(e));
      const { inbox, values, done } = receiver(r, 3, (v) => {
        if (v === 2) throw new Error('boom');
      });
      for (const v of [1, 2, 3]) postToInbox(inbox.handle, v);
      await deliver(r, mode, done);
      expect(values).toEqual([1, 2, 3]);
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('boom');
      r.close();
    });

    it('back-pressure: past maxQueuedBytes a post throws ERR_INBOX_FULL, queues nothing, and succeeds once drained', async () => {
      const r = reactor();
      const values: unknown[] = [];
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      const inbox = r.inbox(
        (v) => {
          values.push(v);
          if (v === 'end') {
            inbox.close();
            finish();
          }
        },
        { maxQueuedBytes: 1000 },
      );
      // A worker that posts 2,000 values of ~100 bytes into a 1,000-byte
      // inbox, retrying each one that finds it full.
      const w = worker(
        `let full = 0;
         const sleep = new Int32Array(new SharedArrayBuffer(4));
         for (let i = 0; i <= 2000; i++) {
           const v = i === 2000 ? 'end' : { i, pad: 'x'.repeat(90) };
           for (;;) {
             try { lib.postToInbox(data, v); break; }
             catch (e) { if (e.code !== 'ERR_INBOX_FULL') throw e; full++; Atomics.wait(sleep, 0, 0, 1); }
           }
         }
         post(full);`,
        inbox.handle,
      );
      const reply = nextMessage(w);
      try {
        await deliver(r, mode, done);
        expect(values).toHaveLength(2001);
        expect((values as Array<{ i: number }>).slice(0, 2000).map((v) => v.i)).toEqual([...Array(2000).keys()]);
        expect(await reply).toBeGreaterThan(0);
      } finally {
        r.close();
        await w.terminate();
      }
    });
  });

  it('close() drops what is still queued and counts it, also from onMessage mid-batch', () => {
    const r = new Reactor({ selector: track(create()) });
    const first = r.inbox(() => {});
    for (let i = 0; i < 5; i++) postToInbox(first.handle, i);
    expect(first.close()).toBe(5);
    expect(first.close()).toBe(0);
    expect((thrown(() => postToInbox(first.handle, 1)) as CodedError).code).toBe('ERR_INBOX_CLOSED');

    const seen: unknown[] = [];
    let dropped = -1;
    const second = r.inbox((v) => {
      seen.push(v);
      if (v === 2) dropped = second.close();
    });
    for (let i = 0; i < 10; i++) postToInbox(second.handle, i);
    r.run();
    expect(seen).toEqual([0, 1, 2]);
    expect(dropped).toBe(7);
    r.close();
  });

  it('an inbox works on a bare ReactorCore (openInbox) and closes with the reactor that owns its selector', () => {
    const fdsBefore = openFds();
    const loop = new ReactorCore();
    const seen: unknown[] = [];
    const inbox = openInbox(loop, (v) => {
      seen.push(v);
      loop.stop();
    });
    postToInbox(inbox.handle, 'x');
    loop.run();
    expect(seen).toEqual(['x']);
    loop.close();
    expect(inbox.closed).toBe(true);
    expect((thrown(() => postToInbox(inbox.handle, 'y')) as CodedError).code).toBe('ERR_INBOX_CLOSED');
    return fdsChangedSince(fdsBefore).then((changed) => expect(changed).toEqual([]));
  });
});

describe('inbox arguments', () => {
  it('bad handles: ERR_INVALID_ARG_TYPE for a non-integer, ERR_INVALID_ARG_VALUE for one no inbox had', () => {
    for (const bad of [0, -1, 1.5, NaN, '1', null, undefined, 2 ** 53]) {
      const err = thrown(() => postToInbox(bad as number, 'v')) as CodedError;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    }
    const err = thrown(() => postToInbox(2 ** 52, 'v')) as CodedError;
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('a bad handle in a worker is a coded error there, not a crash', async () => {
    const w = worker(`try { lib.postToInbox(2 ** 52, 1); post('queued'); } catch (e) { post(e.code); }`);
    expect(await nextMessage(w)).toBe('ERR_INVALID_ARG_VALUE');
    expect(await exited(w)).toBe(0);
  });

  it('bad options and callbacks are refused with no fd left open', async () => {
    const fdsBefore = openFds();
    const r = new Reactor();
    expect((thrown(() => r.inbox('x' as never)) as CodedError).code).toBe('ERR_INVALID_ARG_TYPE');
    for (const bad of [0, -1, 1.5, 2 ** 53]) {
      expect((thrown(() => r.inbox(() => {}, { maxQueuedBytes: bad })) as CodedError).code).toBe('ERR_OUT_OF_RANGE');
    }
    expect((thrown(() => r.inbox(() => {}, { maxQueuedBytes: '9' as never })) as CodedError).code).toBe('ERR_INVALID_ARG_TYPE');
    r.close();
    expect((thrown(() => r.inbox(() => {})) as CodedError).code).toBe('ERR_REACTOR_CLOSED');
    expect(await fdsChangedSince(fdsBefore)).toEqual([]);
  });

  it('an inbox left open in a worker that ends is released: no fd left', async () => {
    const fdsBefore = openFds();
    const w = worker(`
      const r = new lib.Reactor();
      for (let i = 0; i < 3; i++) lib.postToInbox(r.inbox(() => {}).handle, i);
      post('made');`);
    expect(await nextMessage(w)).toBe('made');
    expect(await exited(w)).toBe(0);
    expect(await fdsChangedSince(fdsBefore)).toEqual([]);
  });
});

/** RSS after a full collection (tests run with --expose-gc), as test/resources.test.ts measures it. */
function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

// Under AddressSanitizer freed memory waits in its quarantine, so RSS
// growth says nothing there; the fd check still holds.
const UNDER_ASAN = (process.env['LD_PRELOAD'] ?? '').includes('libasan');

describe('inbox resources', () => {
  // v8.serialize and v8.deserialize make a native object per call that only
  // a full collection frees (nodejs/node#40828), and a thread busy posting
  // or delivering seldom has one: both threads collect every 10,000
  // messages, so that RSS measures what the inbox itself keeps, not how
  // late V8 collects Node's serializers.
  it('1,000,000 messages from a worker: every one in order, fds and RSS flat', async () => {
    const WARM_UP = 200_000;
    const COUNT = 1_000_000;
    const fdsBefore = openFds();
    const r = new Reactor();
    let next = 0;
    let outOfOrder = 0;
    let rssBefore = 0;
    let rssAfter = 0;
    const giveUp = r.callLater(GIVE_UP_MS * 2, () => inbox.close());
    // A small bound, which the worker meets and waits on: the queue itself
    // stays small, so RSS measures what a message leaves behind.
    const inbox = r.inbox(
      (v) => {
        if ((v as { i: number }).i !== next) outOfOrder++;
        next++;
        if (next % 10_000 === 0) (globalThis as { gc?: () => void }).gc?.();
        if (next === WARM_UP) rssBefore = rssMb();
        if (next === WARM_UP + COUNT) {
          rssAfter = rssMb();
          inbox.close();
          giveUp.cancel();
        }
      },
      { maxQueuedBytes: 256 * 1024 },
    );
    const w = worker(
      `const sleep = new Int32Array(new SharedArrayBuffer(4));
       for (let i = 0; i < ${WARM_UP + COUNT}; i++) {
         const v = { i, body: 'message body' };
         if (i % 10000 === 0) globalThis.gc?.();
         for (;;) {
           try { lib.postToInbox(data, v); break; }
           catch (e) { if (e.code !== 'ERR_INBOX_FULL') throw e; Atomics.wait(sleep, 0, 0, 1); }
         }
       }`,
      inbox.handle,
    );
    try {
      r.run();
      expect(next).toBe(WARM_UP + COUNT);
      expect(outOfOrder).toBe(0);
      expect(await exited(w)).toBe(0);
    } finally {
      r.close();
      await w.terminate();
    }
    expect(await fdsChangedSince(fdsBefore)).toEqual([]);
    if (!UNDER_ASAN) expect(rssAfter - rssBefore).toBeLessThan(10);
  }, 300_000);
});
