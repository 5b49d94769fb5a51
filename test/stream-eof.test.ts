// FdStream's eofIsFinal option (cpython#103436): with it false, a 0-byte read
// does not end the stream. A FIFO whose writer closes and a new writer (sh)
// opens: both writers' lines arrive, without spinning while the FIFO has no
// writer (it reports readable all that time); a terminal's ^D reads as 0
// bytes once and the next line still comes. With the default, both end the
// stream. EIO from a pty controller whose terminal side closed is the end
// of the stream either way. Every backend.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Coroutine, type FdStream, IncompleteReadError, Reactor, sys } from '../lib/index.js';
import { isOpen } from './fds.js';
import { BACKENDS, enc, owned, release, thrown, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'stream-eof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fifos = 0;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function fifo(): string {
  const path = join(dir, `fifo${fifos++}`);
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  return path;
}

/** A writer that opens the FIFO, writes `line` and closes it. */
function writeOnce(path: string, line: string): void {
  const w = sys.open(path, sys.O_WRONLY);
  sys.write(w, enc(line));
  sys.close(w);
}

/** Whether a pty controller's read fails with EIO once the terminal side is
 * closed (Linux), rather than returning 0 (macOS, the BSDs). */
function controllerHangupIsEio(): boolean {
  const [controller, terminal] = sys.openpty();
  sys.close(terminal);
  try {
    return sys.read(controller, new Uint8Array(1)) !== 0;
  } catch (err) {
    return (err as { code?: string }).code === 'EIO';
  } finally {
    sys.close(controller);
  }
}

describe.each(BACKENDS)('$name', ({ create }) => {
  /** A reactor on this backend, and a count of its passes (selects). */
  function reactor(): { r: Reactor; passes: () => number } {
    const selector = track(create());
    let passes = 0;
    const selectRaw = selector.selectRaw.bind(selector);
    selector.selectRaw = (timeout: number | null) => {
      passes++;
      return selectRaw(timeout);
    };
    return { r: new Reactor({ selector }), passes: () => passes };
  }

  it('eofIsFinal false: a FIFO whose writer closes and a new one (sh) opens; both lines arrive, no spin in between', () => {
    const path = fifo();
    const { r, passes } = reactor();
    const s = r.stream(sys.open(path), { eofIsFinal: false });
    r.callLater(0, () => writeOnce(path, 'one\n'));
    let passesAtGap = 0;
    let gapPasses = 0;
    r.callLater(50, () => (passesAtGap = passes()));
    // 400 ms without a writer, then a real program opens the FIFO anew.
    r.callLater(450, () => {
      gapPasses = passes() - passesAtGap;
      spawn('sh', ['-c', 'printf "two\\n" > "$0"', path], { stdio: 'ignore' });
    });
    const task = r.spawn(function* (): Coroutine<string[]> {
      const lines = [dec(yield* s.readUntil('\n')), dec(yield* s.readUntil('\n'))];
      s.close();
      return lines;
    });
    r.run();
    expect(task.result()).toEqual(['one\n', 'two\n']);
    // Spinning would be thousands of passes; the pauses (1 ms doubling to
    // 100 ms, each followed by a readability wait) make about twenty.
    expect(gapPasses).toBeLessThan(100);
    r.close();
  });

  it('the default: the first writer closing ends the stream', () => {
    const path = fifo();
    const { r } = reactor();
    const s = r.stream(sys.open(path));
    // Before the first read: a FIFO that never had a writer reads 0 bytes too.
    writeOnce(path, 'one\n');
    const task = r.spawn(function* (): Coroutine<unknown[]> {
      const line = dec(yield* s.readUntil('\n'));
      const end = yield* s.read();
      let error: unknown;
      try {
        yield* s.readUntil('\n');
      } catch (err) {
        error = err;
      }
      s.close();
      return [line, end.length, error];
    });
    r.run();
    const [line, endLength, error] = task.result();
    expect([line, endLength]).toEqual(['one\n', 0]);
    expect(error).toBeInstanceOf(IncompleteReadError);
    r.close();
  });

  it('eofIsFinal false, a terminal: ^D on an empty line reads as 0 bytes once, and the next line still comes', () => {
    for (const eofIsFinal of [false, true]) {
      const [controller, terminal] = sys.openpty();
      owned(controller);
      const { r } = reactor();
      const s = r.stream(terminal, { eofIsFinal });
      sys.write(controller, enc('first\n\x04'));
      r.callLater(30, () => sys.write(controller, enc('second\n')));
      const task = r.spawn(function* (): Coroutine<string[]> {
        const got = [dec(yield* s.read()), dec(yield* s.read())];
        s.close();
        return got;
      });
      r.run();
      expect(task.result(), `eofIsFinal ${eofIsFinal}`).toEqual(eofIsFinal ? ['first\n', ''] : ['first\n', 'second\n']);
      r.close();
    }
  });

  it("a pty controller: a program's output, then its exit ends the stream (EIO is end of stream, not an error)", () => {
    const settings = controllerHangupIsEio() ? [true, false] : [true];
    for (const eofIsFinal of settings) {
      const [controller, terminal] = sys.openpty();
      spawn('sh', ['-c', 'echo hi; echo there'], { stdio: [terminal, terminal, terminal] });
      sys.close(terminal);
      const { r } = reactor();
      const s = r.stream(controller, { eofIsFinal });
      const task = r.spawn(function* (): Coroutine<string> {
        let out = '';
        for (let chunk = yield* s.read(); chunk.length > 0; chunk = yield* s.read()) out += dec(chunk);
        s.close();
        return out;
      });
      r.run();
      expect(task.result(), `eofIsFinal ${eofIsFinal}`).toBe('hi\r\nthere\r\n');
      expect(isOpen(controller)).toBe(false);
      r.close();
    }
  });

  it('close() while the reader waits for a FIFO without a writer: the read fails ERR_STREAM_CLOSED, the fd is closed', () => {
    const path = fifo();
    const { r } = reactor();
    const errors: unknown[] = [];
    r.on('error', (err) => errors.push(err)); // the reader's failure, reported as unobserved
    const fd = sys.open(path);
    const s = r.stream(fd, { eofIsFinal: false });
    r.callLater(0, () => writeOnce(path, 'x'));
    r.callLater(200, () => s.close());
    const task = r.spawn(function* () {
      return yield* s.readExactly(2);
    });
    r.run();
    expect(thrown(() => task.result())).toMatchObject({ code: 'ERR_STREAM_CLOSED' });
    expect(errors).toEqual([task.exception]);
    expect(isOpen(fd)).toBe(false);
    r.close();
  });

  it('with async/await on an attached reactor', async () => {
    const path = fifo();
    const { r } = reactor();
    r.attach();
    const s: FdStream = r.stream(sys.open(path), { eofIsFinal: false });
    setTimeout(() => writeOnce(path, 'a'), 10);
    setTimeout(() => writeOnce(path, 'b'), 150);
    expect(dec(await s.readExactly(2))).toBe('ab');
    s.close();
    r.close();
  });
});

describe('eofIsFinal', () => {
  it('must be a boolean; the fd is left alone', () => {
    const r = new Reactor();
    const [a] = sys.socketpair();
    owned(a);
    expect(thrown(() => r.stream(a, { eofIsFinal: 'no' as unknown as boolean }))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(isOpen(a)).toBe(true);
    release(a);
    r.close();
  });
});
