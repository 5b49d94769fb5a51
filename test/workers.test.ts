// Selectors and sys in worker_threads: no process-global state, any number
// of selectors per thread, and a worker that ends (or is terminated) with
// selectors open releases their kernel objects.
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { availableBackends, sys, wakeupSelector } from '../lib/index.js';
import { DIST_INDEX, fdsChangedSince, openFds } from './helpers.js';
import { fdsOpenedSince } from './fds.js';
import { exited, nextMessage, worker } from './worker-helpers.js';


// In the worker: every backend, two selectors each, over a socketpair and a
// pipe made with sys; reports what each selector saw.
const EXERCISE = `
  const { sys, EVENT_READ, EVENT_WRITE } = lib;
  const { selectorClass } = await import(${JSON.stringify(DIST_INDEX)});
  const out = {};
  for (const name of lib.availableBackends()) {
    const sels = [new (selectorClass(name))(), new (selectorClass(name))()];
    const [a, b] = sys.socketpair();
    const [r, w] = sys.pipe();
    sels[0].register(a, EVENT_READ, 'a');
    sels[1].register(r, EVENT_READ, 'r');
    sels[1].register(w, EVENT_WRITE, 'w');
    sys.write(b, new TextEncoder().encode('ping'));
    sys.write(w, new TextEncoder().encode('pong'));
    const seen = sels.map((s) => s.select(1000).map(([k, ev]) => k.data + ':' + ev).sort().join(','));
    const buf = new Uint8Array(8);
    seen.push(new TextDecoder().decode(buf.subarray(0, sys.read(a, buf))));
    seen.push(new TextDecoder().decode(buf.subarray(0, sys.read(r, buf))));
    for (const s of sels) s.close();
    for (const fd of [a, b, r, w]) sys.close(fd);
    out[name] = seen;
  }
  post(out);`;

describe('worker_threads', () => {
  it('every backend and sys work in workers, two selectors per backend, in two workers at once', async () => {
    const expected = Object.fromEntries(availableBackends().map((name) => [name, ['a:1', 'r:1,w:2', 'ping', 'pong']]));
    const workers = [worker(EXERCISE), worker(EXERCISE)];
    try {
      const results = await Promise.all(workers.map(nextMessage));
      for (const r of results) expect(r).toEqual(expected);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('a worker that exits with selectors open releases their kernel fds', async () => {
    const before = openFds();
    const w = worker(`
      for (const name of lib.availableBackends()) {
        const { selectorClass } = await import(${JSON.stringify(DIST_INDEX)});
        for (let i = 0; i < 3; i++) new (selectorClass(name))().wakeup();
      }
      post('made');`);
    expect(await nextMessage(w)).toBe('made');
    expect(await exited(w)).toBe(0);
    expect(await fdsChangedSince(before)).toEqual([]);
  });

  it('terminating a worker blocked in select(null) with open selectors: woken, torn down, no fd left, no crash', async () => {
    const before = openFds();
    const w = worker(`
      const { selectorClass } = await import(${JSON.stringify(DIST_INDEX)});
      const sels = lib.availableBackends().map((name) => new (selectorClass(name))());
      const [a] = lib.sys.socketpair();
      for (const s of sels) s.register(a, lib.EVENT_READ);
      post(sels[0].wakeupHandle());
      sels[0].select(null);
      post('returned');`);
    const handle = (await nextMessage(w)) as number;
    // terminate() cannot interrupt a system call: the blocked select must be
    // woken for the worker to reach the point where it stops.
    const gone = w.terminate();
    setTimeout(() => wakeupSelector(handle), 50);
    await gone;
    // The selectors' finalizers ran at the worker's teardown: the epoll,
    // io_uring and wakeup fds are closed (libkqueue's a moment later, from
    // its monitor thread: R5, hence the wait). The socketpair is the
    // worker's own raw fds: two remain open, as any fd a thread opens and
    // never closes.
    const leftover = await fdsOpenedSince(before, 3000, 2);
    expect(leftover.length).toBe(2);
    for (const fd of leftover) sys.close(Number(fd));
    expect(wakeupSelector(handle)).toBe(false);
  });
});
