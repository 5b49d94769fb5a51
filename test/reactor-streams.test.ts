// Streams over real socketpairs: buffered reads (n, exactly n, until a
// delimiter), EOF and limits, and write back-pressure against a peer that
// does not read.
import { describe, expect, it } from 'vitest';
import { type Coroutine, IncompleteReadError, LimitExceededError, Reactor, sys } from '../lib/index.js';
import { BACKENDS, enc, socketpair, track } from './helpers.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe.each(BACKENDS)('streams on $name', ({ create }) => {
  function reactor(): Reactor {
    return new Reactor({ selector: track(create()) });
  }

  it('readUntil finds delimiters split across chunks, and lines that arrive together', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false });
    // "\r\n" split between two writes, then two lines in one write.
    const pieces = ['first line\r', '\nsec', 'ond\r\nthird\r\nfourth\r\n'];
    let i = 0;
    const feed = () => {
      sys.write(b, enc(pieces[i++]!));
      if (i < pieces.length) r.callLater(3, feed);
    };
    r.callLater(1, feed);
    const task = r.spawn(function* (): Coroutine<string[]> {
      const lines: string[] = [];
      for (let k = 0; k < 4; k++) lines.push(dec(yield* s.readUntil('\r\n')));
      return lines;
    });
    r.run();
    expect(task.result()).toEqual(['first line\r\n', 'second\r\n', 'third\r\n', 'fourth\r\n']);
    r.close();
  });

  it('readUntil with a multi-byte delimiter fed one byte at a time', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false, readSize: 1 });
    const text = 'alpha--|--beta--|--';
    for (const ch of text) sys.write(b, enc(ch));
    const task = r.spawn(function* (): Coroutine<string[]> {
      return [dec(yield* s.readUntil('--|--')), dec(yield* s.readUntil('--|--'))];
    });
    r.run();
    expect(task.result()).toEqual(['alpha--|--', 'beta--|--']);
    r.close();
  });

  it('readUntil stops at maxBytes with a LimitExceededError, never buffering more', () => {
    const r = reactor();
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false });
    sys.write(b, new Uint8Array(10_000).fill(0x61));
    const task = r.spawn(function* () {
      return yield* s.readUntil('\n', 1000);
    });
    r.run();
    expect(() => task.result()).toThrow(LimitExceededError);
    expect(task.exception).toMatchObject({ code: 'ERR_STREAM_LIMIT', limit: 1000 });
    expect(errors).toEqual([task.exception]); // nobody awaited the task: reported
    r.close();
  });

  it('readExactly returns exactly n bytes, and at early EOF an IncompleteReadError with the partial bytes', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false });
    sys.write(b, enc('0123456789abc'));
    r.callLater(5, () => sys.close(b));
    const task = r.spawn(function* (): Coroutine<string[]> {
      const first = dec(yield* s.readExactly(4));
      const second = dec(yield* s.readExactly(6));
      try {
        yield* s.readExactly(10);
      } catch (err) {
        expect(err).toBeInstanceOf(IncompleteReadError);
        const e = err as IncompleteReadError;
        return [first, second, dec(e.partial), String(e.expected), e.code];
      }
      return [];
    });
    r.run();
    expect(task.result()).toEqual(['0123', '456789', 'abc', '10', 'ERR_STREAM_EOF']);
    r.close();
  });

  it('read(n) returns what is there, and an empty array at EOF', () => {
    const r = reactor();
    const [a, b] = socketpair();
    const s = r.stream(a, { closeFd: false });
    const task = r.spawn(function* (): Coroutine<string[]> {
      const got: string[] = [];
      for (;;) {
        const chunk = yield* s.read(3);
        if (chunk.length === 0) return got;
        got.push(dec(chunk));
      }
    });
    sys.write(b, enc('abcdefg'));
    r.callLater(5, () => sys.close(b));
    r.run();
    expect(task.result()).toEqual(['abc', 'def', 'g']);
    r.close();
  });

  it('write back-pressure: the writer waits at the high-water mark, memory stays bounded, no byte is lost', () => {
    const r = reactor();
    const [a, b] = socketpair();
    for (const fd of [a, b]) sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_SNDBUF, 4096);
    const hwm = 16 * 1024;
    const s = r.stream(a, { closeFd: false, highWaterMark: hwm });
    const chunk = new Uint8Array(4096);
    const total = 2 * 1024 * 1024;
    let maxQueued = 0;
    let written = 0;
    let stalledWhileUnread = false;
    const writer = r.spawn(function* () {
      while (written < total) {
        for (let i = 0; i < chunk.length; i++) chunk[i] = (written + i) & 0xff;
        yield* s.write(chunk);
        written += chunk.length;
        maxQueued = Math.max(maxQueued, s.writeQueueSize);
      }
      yield* s.drain();
    });
    // The peer reads nothing for 50 ms: the writer must stall in write().
    let received = 0;
    let corrupt = 0;
    const buf = new Uint8Array(65536);
    r.callLater(50, () => {
      stalledWhileUnread = !writer.done && written < total;
      r.addHandler(
        b,
        (fd) => {
          for (;;) {
            const n = sys.read(fd, buf);
            if (n <= 0) break;
            for (let i = 0; i < n; i++) if (buf[i] !== ((received + i) & 0xff)) corrupt++;
            received += n;
          }
          if (received === total) r.removeHandler(fd);
        },
        1,
      );
    });
    r.run();
    expect(writer.done && writer.fulfilled).toBe(true);
    expect(stalledWhileUnread).toBe(true);
    expect(maxQueued).toBeLessThanOrEqual(hwm + chunk.length);
    expect(received).toBe(total);
    expect(corrupt).toBe(0);
    r.close();
  });

  it('close() fails a waiting reader with ERR_STREAM_CLOSED and closes the fd', () => {
    const r = reactor();
    r.on('error', () => {}); // the reader's failure, checked below
    const [a] = socketpair();
    const fd = sys.socketpair();
    const s = r.stream(fd[0]);
    const reader = r.spawn(function* () {
      return yield* s.read();
    });
    r.callLater(2, () => s.close());
    r.run();
    expect(reader.exception).toMatchObject({ code: 'ERR_STREAM_CLOSED' });
    expect(() => sys.write(fd[0], enc('x'))).toThrow(expect.objectContaining({ code: 'EBADF' }));
    sys.close(fd[1]);
    void a;
    r.close();
  });

  it('the async forms work the same in attach() mode', async () => {
    const r = reactor();
    r.attach();
    try {
      const [a, b] = socketpair();
      const s = r.stream(a, { closeFd: false });
      const peer = r.stream(b, { closeFd: false });
      setTimeout(() => peer.write('hello\nworld'), 5);
      expect(dec(await s.readUntil('\n'))).toBe('hello\n');
      expect(dec(await s.readExactly(5))).toBe('world');
      await peer.write('x'.repeat(100));
      expect((await s.readExactly(100)).length).toBe(100);
    } finally {
      r.close();
    }
  });
});
