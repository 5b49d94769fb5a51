// Stream reads served from bytes already there (no wait), over real
// socketpairs on every backend, as a coroutine under run() and awaited under
// attach(): the same bytes in the same order, ahead of callbacks scheduled
// earlier, and yet the loop runs a pass after every 64 such reads in a row,
// so a reader whose peer always has more starves nobody.
import { describe, expect, it } from 'vitest';
import { type Coroutine, type FdStream, Op, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, track } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const MODES = ['run', 'attach'] as const;
type Mode = (typeof MODES)[number];

/** Runs `body` on `stream`: as a generator task under run(), as an async function under attach(). */
function reader<T>(r: Reactor, mode: Mode, body: (read: (op: 'read' | 'until' | 'exactly', arg: number | string) => unknown) => Generator<unknown, T, any>): Promise<T> {
  // One body for both: each step yields an operation, which a generator
  // task runs with yield* and an async function with await.
  return new Promise<T>((resolve, reject) => {
    const opFor = (op: unknown) => op;
    if (mode === 'run') {
      const task = r.spawn(function* (): Coroutine<T> {
        const gen = body(opFor);
        let input: unknown;
        for (;;) {
          const step = gen.next(input);
          if (step.done) return step.value;
          input = yield* step.value as Iterable<unknown> as Generator<unknown, unknown, any>;
        }
      });
      task.addDoneCallback((t) => (t.fulfilled ? resolve(t.result()) : reject(t.exception)));
    } else {
      (async () => {
        const gen = body(opFor);
        let input: unknown;
        for (;;) {
          const step = gen.next(input);
          if (step.done) return step.value;
          input = await (step.value as PromiseLike<unknown>);
        }
      })().then(resolve, reject);
    }
  });
}

/** run() until nothing is left, or attach() until `result` settles; its result. */
async function drive<T>(r: Reactor, mode: Mode, result: Promise<T>): Promise<T> {
  if (mode === 'run') {
    r.run();
    return result;
  }
  r.attach();
  try {
    return await result;
  } finally {
    r.detach();
  }
}

describe.each(BACKENDS)('buffered stream reads on $name', ({ create }) => {
  describe.each(MODES)('under %s()', (mode) => {
    it('lines, exact counts and the rest of one write come back as sent, in order', async () => {
      const r = new Reactor({ selector: track(create()) });
      const [a, b] = socketpair();
      const s = r.stream(a);
      sys.write(b, enc('one\ntwo\nthree\ntail'));
      sys.close(b);
      const parts = reader(r, mode, function* () {
        const out: string[] = [];
        out.push(dec((yield s.readUntil('\n')) as Uint8Array));
        out.push(dec((yield s.readUntil('\n')) as Uint8Array));
        out.push(dec((yield s.read(2)) as Uint8Array));
        out.push(dec((yield s.readUntil('\n')) as Uint8Array));
        out.push(dec((yield s.readExactly(2)) as Uint8Array));
        out.push(dec((yield s.read()) as Uint8Array));
        out.push(`end ${((yield s.read()) as Uint8Array).length}`);
        return out;
      });
      expect(await drive(r, mode, parts)).toEqual(['one\n', 'two\n', 'th', 'ree\n', 'ta', 'il', 'end 0']);
      s.close();
      r.close();
    });

    it('a stream keeps a buffer the size its reads ask for, not readSize: a server reading 8 KiB requests holds 8 KiB per connection', async () => {
      const r = new Reactor({ selector: track(create()) });
      const [a, b] = socketpair();
      const s = r.stream(a);
      sys.write(b, enc('GET / HTTP/1.1\r\n\r\n'));
      const chunks = reader(r, mode, function* () {
        const first = (yield s.read(8192)) as Uint8Array;
        sys.write(b, enc('x'));
        const second = (yield s.read(1)) as Uint8Array;
        return [first, second];
      });
      const [first, second] = await drive(r, mode, chunks);
      expect(dec(first!)).toBe('GET / HTTP/1.1\r\n\r\n');
      expect(first!.buffer.byteLength).toBe(8192);
      // A one-byte read shares the buffer rather than getting one of its own.
      expect(second!.buffer).toBe(first!.buffer);
      s.close();
      sys.close(b);
      r.close();
    });

    it('a read served at once goes ahead of a callback scheduled before it; the 65th in a row lets the loop run first', async () => {
      const r = new Reactor({ selector: track(create()) });
      const [a, b] = socketpair();
      const s = r.stream(a);
      sys.write(b, new Uint8Array(100).fill(0x78));
      const order: string[] = [];
      r.callSoon(() => order.push('callSoon'));
      const done = reader(r, mode, function* () {
        for (let k = 1; k <= 70; k++) {
          yield s.read(1);
          order.push(`read ${k}`);
        }
      });
      await drive(r, mode, done);
      expect(order.indexOf('callSoon')).toBe(64);   // after reads 1..64
      expect(order.filter((x) => x.startsWith('read'))).toEqual(Array.from({ length: 70 }, (_, k) => `read ${k + 1}`));
      s.close();
      sys.close(b);
      r.close();
    });

    it('two readers whose peers always have more take turns: neither finishes before the other has read', async () => {
      const r = new Reactor({ selector: track(create()) });
      const pairs = [socketpair(), socketpair()];
      const streams: FdStream[] = pairs.map(([a]) => r.stream(a));
      const log: number[] = [];
      const total = 3000;
      for (const [, b] of pairs) sys.write(b, new Uint8Array(total).fill(0x79));
      const readers = streams.map((s, i) => reader(r, mode, function* () {
        let got = 0;
        while (got < total) {
          got += ((yield s.read(10)) as Uint8Array).length;
          log.push(i);
        }
        return got;
      }));
      expect(await drive(r, mode, Promise.all(readers))).toEqual([total, total]);
      // Reader 0 started first; reader 1 read long before reader 0 was done.
      const firstOfOne = log.indexOf(1);
      expect(firstOfOne).toBeGreaterThan(0);
      expect(firstOfOne).toBeLessThanOrEqual(64);
      expect(log.lastIndexOf(0)).toBeGreaterThan(firstOfOne);
      for (const s of streams) s.close();
      for (const [, b] of pairs) sys.close(b);
      r.close();
    });

    it('chunks kept from earlier reads stay as they were while later reads fill the stream\'s buffer again', async () => {
      const r = new Reactor({ selector: track(create()) });
      const [a, b] = socketpair();
      const s = r.stream(a, { readSize: 64 });
      const lines = Array.from({ length: 400 }, (_, k) => `line ${k} ${'x'.repeat(k % 50)}\n`);
      let sent = 0;
      const feed = (): void => {
        while (sent < lines.length && sys.write(b, enc(lines[sent]!)) > 0) sent++;
        if (sent < lines.length) r.callLater(1, feed);
        else sys.close(b);
      };
      feed();
      const kept = reader(r, mode, function* () {
        const chunks: Uint8Array[] = [];
        for (let k = 0; k < lines.length; k++) {
          chunks.push((yield k % 3 === 0 ? s.readUntil('\n') : s.readUntil('\n', 200)) as Uint8Array);
          if (k % 7 === 0) chunks[chunks.length - 1]![0] = 0x4c;   // the caller may write into what it got
        }
        chunks.push((yield s.read()) as Uint8Array);
        return chunks;
      });
      const chunks = await drive(r, mode, kept);
      expect(chunks.pop()!.length).toBe(0);
      expect(chunks.map(dec)).toEqual(lines.map((line, k) => (k % 7 === 0 ? `L${line.slice(1)}` : line)));
      s.close();
      r.close();
    });

    it('one read op used again runs anew each time, also while its first use still waits', async () => {
      const r = new Reactor({ selector: track(create()) });
      const [a, b] = socketpair();
      const s = r.stream(a);
      const op = s.read(3);
      expect(op).toBeInstanceOf(Op);
      sys.write(b, enc('abcdef'));
      const twice = reader(r, mode, function* () {
        return [dec((yield op) as Uint8Array), dec((yield op) as Uint8Array)];
      });
      expect(await drive(r, mode, twice)).toEqual(['abc', 'def']);
      // The same op waited on by one reader, then used by another: the
      // second use is its own read (and, with nothing there, meets the first's wait).
      const waiting = reader(r, mode, function* () {
        return dec((yield op) as Uint8Array);
      });
      const second = reader(r, mode, function* () {
        return dec((yield op) as Uint8Array);
      }).catch((err: unknown) => (err as { code?: string }).code);
      r.callLater(5, () => sys.write(b, enc('ghi')));
      expect(await drive(r, mode, Promise.all([waiting, second]))).toEqual(['ghi', 'ERR_ALREADY_WAITING']);
      s.close();
      sys.close(b);
      r.close();
    });
  });
});
