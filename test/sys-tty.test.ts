// Terminals through `sys`: a pty made by openpty and driven by real programs
// (sh, python3, stty, tty, socat) on its terminal side; termios set here and
// read back by stty and python3's termios, set by stty and read here;
// cfmakeraw against the C library's own (called by python3 through ctypes);
// window sizes seen by `stty size`; coded errors for bad input with the
// terminal unchanged and no fd leaked; and the pty's fds on every backend.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { constants as os } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DefaultSelector, EVENT_READ, EVENT_WRITE, sys } from '../lib/index.js';
import { binding } from '../lib/native.js';
import { BACKENDS, DIST_INDEX, enc, fdsChangedSince, openFds, owned, pipe, release, socketpair, thrown, track } from './helpers.js';

type Termios = sys.Termios;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

// The interpreter itself, not a launcher: a launcher script (pyenv's shim
// is a bash script) may read the terminal before the interpreter starts.
const PYTHON = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();

/** A pty, both fds closed at the end of the test unless released first. */
function pty(): [controller: number, terminal: number] {
  const [controller, terminal] = sys.openpty();
  return [owned(controller), owned(terminal)];
}

/** Runs `command` with the terminal as its stdin, stdout and stderr, then
 * closes our copy of the terminal, so that the program's exit ends the
 * session (EIO or 0 on the controller). */
function runOn(terminal: number, command: string, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(command, args, { stdio: [terminal, terminal, terminal] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  release(terminal);
  return { child, exited };
}

/** What the controller reads until `done(text)` holds, the session ends,
 * or `ms` pass. */
function readController(controller: number, done: (s: string) => boolean, ms = 10_000): string {
  using sel = new DefaultSelector();
  sel.register(controller, EVENT_READ);
  const buf = new Uint8Array(4096);
  let out = '';
  const deadline = Date.now() + ms;
  while (!done(out) && Date.now() < deadline) {
    if (sel.select(50).length === 0) continue;
    let n: number;
    try {
      n = sys.read(controller, buf);
    } catch (err) {
      if ((err as { code?: string }).code === 'EIO') break; // Linux: the terminal side is closed
      throw err;
    }
    if (n === 0) break; // macOS, the BSDs: the same
    if (n > 0) out += text(buf.subarray(0, n));
  }
  return out;
}

/** A program's output, with the terminal as its stdin (stty, tty). */
function withStdin(terminal: number, command: string, args: string[] = []): string {
  const r = spawnSync(command, args, { stdio: [terminal, 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function expectCoded(call: () => unknown, name: string, code: string): void {
  expect(thrown(call)).toMatchObject({ name, code });
}

function expectSystemError(call: () => unknown, code: string, syscall: string): void {
  expect(thrown(call)).toMatchObject({ code, syscall, errno: -(os.errno as Record<string, number>)[code]! });
}

/** The termios fields python3's termios.tcgetattr reports, with speeds in baud. */
function pythonTermios(terminal: number): { iflag: number; oflag: number; cflag: number; lflag: number; ispeed: number; ospeed: number; cc: number[] } {
  const script = [
    'import json, termios',
    'rates = {getattr(termios, n): int(n[1:]) for n in dir(termios) if n[0] == "B" and n[1:].isdigit()}',
    'a = termios.tcgetattr(0)',
    'cc = [c if isinstance(c, int) else ord(c) for c in a[6]]',
    'print(json.dumps(dict(iflag=a[0], oflag=a[1], cflag=a[2], lflag=a[3], ispeed=rates[a[4]], ospeed=rates[a[5]], cc=cc)))',
  ].join('\n');
  return JSON.parse(withStdin(terminal, PYTHON, ['-c', script]));
}

const flagsOf = (t: Termios) => ({ iflag: t.iflag, oflag: t.oflag, cflag: t.cflag, lflag: t.lflag, cc: [...t.cc] });

describe('openpty', () => {
  it('makes a non-blocking, close-on-exec pair of terminals; what one side writes the other reads', () => {
    const [controller, terminal] = pty();
    for (const fd of [controller, terminal]) {
      expect(sys.getFdFlags(fd)).toEqual({ nonBlocking: true, closeOnExec: true });
      expect(sys.isatty(fd)).toBe(true);
    }
    const buf = new Uint8Array(64);
    expect(sys.read(terminal, buf)).toBe(-1); // nothing yet: would block
    expect(sys.read(controller, buf)).toBe(-1);
    // Canonical mode with echo: the line reaches the terminal side whole,
    // and its echo comes back to the controller.
    sys.write(controller, enc('hello\n'));
    const sel = track(new DefaultSelector());
    sel.register(terminal, EVENT_READ);
    expect(sel.select(5000).length).toBe(1);
    expect(text(buf.subarray(0, sys.read(terminal, buf)))).toBe('hello\n');
    expect(readController(controller, (s) => s === 'hello\r\n')).toBe('hello\r\n');
    // Output processing (ONLCR): "\n" written on the terminal side arrives as "\r\n".
    sys.write(terminal, enc('out\n'));
    expect(readController(controller, (s) => s === 'out\r\n')).toBe('out\r\n');
  });

  it('a real program on the terminal side: `tty` names it, and ttyname agrees', () => {
    const [, terminal] = pty();
    const name = sys.ttyname(terminal);
    expect(name).toMatch(/^\/dev\//);
    expect(withStdin(terminal, 'tty')).toBe(name);
  });

  it('leaves nothing open when the terminal side cannot be opened (out of fds)', () => {
    // In a child under a low fd limit (64): fill every fd but one, so that
    // posix_openpt gets it and the open of the terminal side fails.
    const code = `
      import { sys } from LIB;
      const held = [];
      try { for (;;) held.push(sys.open('/dev/null')); } catch (err) { if (err.code !== 'EMFILE') throw err; }
      sys.close(held.pop());
      let error;
      try { sys.openpty(); } catch (err) { error = err; }
      // The one free fd is free again: it opens, and the next does not.
      const again = sys.open('/dev/null');
      let second = 'opened';
      try { sys.open('/dev/null'); } catch (err) { second = err.code; }
      console.log(JSON.stringify({ code: error?.code, syscall: error?.syscall, second }));
      sys.close(again);
      for (const fd of held) sys.close(fd);
      `.replaceAll('LIB', JSON.stringify(DIST_INDEX));
    const r = spawnSync('bash', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, code], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(JSON.parse(out)).toEqual({ code: 'EMFILE', syscall: 'open', second: 'EMFILE' });
  });

  it('leaks no fd over many pairs', async () => {
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const [c, t] = sys.openpty();
      sys.close(t);
      sys.close(c);
    }
    expect(await fdsChangedSince(before)).toEqual([]);
  });
});

describe('isatty and ttyname', () => {
  it('tell terminals from pipes, sockets and files; a closed fd is EBADF', () => {
    const [controller, terminal] = pty();
    const [r] = pipe();
    const [a] = socketpair();
    const file = owned(sys.open('/dev/null'));
    expect([controller, terminal, r, a, file].map((fd) => sys.isatty(fd))).toEqual([true, true, false, false, false]);
    expectSystemError(() => sys.ttyname(r), 'ENOTTY', 'ttyname_r');
    const closed = sys.socket(sys.AF_INET);
    sys.close(closed);
    expectSystemError(() => sys.isatty(closed), 'EBADF', 'isatty');
    expectSystemError(() => sys.ttyname(closed), 'EBADF', 'ttyname_r');
    expectCoded(() => sys.isatty(-1), 'RangeError', 'ERR_INVALID_FD');
    expectCoded(() => sys.ttyname('0' as unknown as number), 'TypeError', 'ERR_INVALID_FD');
  });
});

describe('tcgetattr and tcsetattr', () => {
  it('what tcsetattr sets, stty and python3\'s termios read back: 115200 8N1, echo off', () => {
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    expect(t.cc).toBeInstanceOf(Uint8Array);
    expect(t.cc.length).toBe(sys.NCCS);
    expect(sys.BAUD_RATES).toContain(t.ospeed);
    const serial: Termios = {
      ...t,
      cflag: (t.cflag & ~(sys.CSIZE | sys.PARENB | sys.CSTOPB)) | sys.CS8 | sys.CREAD | sys.CLOCAL,
      lflag: t.lflag & ~(sys.ECHO | sys.ECHOE),
      ispeed: 115200,
      ospeed: 115200,
    };
    sys.tcsetattr(terminal, serial);
    const back = sys.tcgetattr(terminal);
    expect(back).toMatchObject({ ispeed: 115200, ospeed: 115200 });
    expect(back.lflag & sys.ECHO).toBe(0);
    expect(back.cflag & sys.CSIZE).toBe(sys.CS8);
    const stty = withStdin(terminal, 'stty', ['-a']);
    expect(stty).toMatch(/speed 115200 baud/);
    for (const word of ['-echo', '-echoe', 'cs8', '-parenb', '-cstopb', 'cread', 'clocal', 'icanon']) {
      expect(stty.split(/[\s;]+/)).toContain(word);
    }
    const py = pythonTermios(terminal);
    expect(py).toEqual({ iflag: back.iflag, oflag: back.oflag, cflag: back.cflag, lflag: back.lflag, ispeed: 115200, ospeed: 115200, cc: [...back.cc] });
  });

  it('what stty sets, tcgetattr reads: 9600 baud, -icanon, min 5', () => {
    const [, terminal] = pty();
    withStdin(terminal, 'stty', ['9600', '-icanon', 'min', '5', '-echo']);
    const t = sys.tcgetattr(terminal);
    expect(t).toMatchObject({ ispeed: 9600, ospeed: 9600 });
    expect(t.lflag & (sys.ICANON | sys.ECHO)).toBe(0);
    expect(t.cc[sys.VMIN]).toBe(5);
  });

  it('a real program in canonical mode: a line at a time, echoed or not as ECHO says', async () => {
    for (const echo of [true, false]) {
      const [controller, terminal] = pty();
      const t = sys.tcgetattr(terminal);
      sys.tcsetattr(terminal, { ...t, lflag: echo ? t.lflag | sys.ECHO : t.lflag & ~sys.ECHO });
      const { exited } = runOn(terminal, 'sh', ['-c', 'read line; echo "got:$line"']);
      // Half a line: sh's read gets nothing until the newline.
      sys.write(controller, enc('ab'));
      // With ECHO: the echo of "ab" and nothing more; without: nothing in 300 ms.
      const early = readController(controller, (s) => (echo ? s === 'ab' : s !== ''), echo ? 10_000 : 300);
      expect(early).toBe(echo ? 'ab' : '');
      sys.write(controller, enc('c\n'));
      const rest = readController(controller, (s) => s.includes('got:abc\r\n'));
      expect(early + rest).toBe(echo ? 'abc\r\ngot:abc\r\n' : 'got:abc\r\n');
      expect(await exited).toBe(0);
    }
  });

  it('raw mode (cfmakeraw): python3 reads 3 bytes without a newline, and its output is not translated', async () => {
    const [controller, terminal] = pty();
    sys.tcsetattr(terminal, sys.cfmakeraw(sys.tcgetattr(terminal)));
    const { exited } = runOn(terminal, PYTHON, ['-c', 'import os; b = os.read(0, 3); os.write(1, b"<" + b.upper() + b">\\n")']);
    sys.write(controller, enc('xyz'));
    expect(readController(controller, (s) => s.endsWith('\n'))).toBe('<XYZ>\n');
    expect(await exited).toBe(0);
  });

  it("'flush' discards input not yet read, 'now' and 'drain' keep it", () => {
    for (const when of ['now', 'drain', 'flush'] as const) {
      const [controller, terminal] = pty();
      const raw = sys.cfmakeraw(sys.tcgetattr(terminal));
      sys.tcsetattr(terminal, raw);
      sys.write(controller, enc('pending'));
      const sel = track(new DefaultSelector());
      sel.register(terminal, EVENT_READ);
      expect(sel.select(5000).length).toBe(1);
      sys.tcsetattr(terminal, raw, when);
      const buf = new Uint8Array(16);
      expect(sys.read(terminal, buf), when).toBe(when === 'flush' ? -1 : 7);
    }
  });

  it('different input and output speeds: set as asked, or refused where the platform keeps one (the tty unchanged)', () => {
    const [, terminal] = pty();
    const before = sys.tcgetattr(terminal);
    const err = thrown(() => sys.tcsetattr(terminal, { ...before, ispeed: 9600, ospeed: 19200 }));
    if (err === undefined) expect(sys.tcgetattr(terminal)).toMatchObject({ ispeed: 9600, ospeed: 19200 });
    else {
      expect(err).toMatchObject({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
      expect(sys.tcgetattr(terminal)).toEqual(before);
    }
  });

  it('refuses bad input with coded errors, the terminal unchanged', () => {
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    const bad: Array<[unknown, string, string]> = [
      [null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [42, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ ...t, cc: [...t.cc] }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ ...t, cc: new Uint8Array(sys.NCCS + 1) }, 'RangeError', 'ERR_INVALID_ARG_VALUE'],
      [{ ...t, lflag: '0' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ ...t, lflag: undefined }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ ...t, iflag: 2 ** 32 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ ...t, oflag: -(2 ** 31) - 1 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ ...t, cflag: 1.5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ ...t, ospeed: '9600' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ ...t, ospeed: -2 }, 'RangeError', 'ERR_INVALID_ARG_VALUE'],
      [{ ...t, ispeed: 9600.5, ospeed: 9600.5 }, 'RangeError', 'ERR_INVALID_ARG_VALUE'],
    ];
    const start = sys.tcgetattr(terminal);
    for (const [value, name, code] of bad) {
      expectCoded(() => sys.tcsetattr(terminal, value as Termios), name, code);
      expectCoded(() => sys.cfmakeraw(value as Termios), name, code);
    }
    expectCoded(() => sys.tcsetattr(terminal, t, 'later' as 'now'), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => sys.tcsetattr(-1, t), 'RangeError', 'ERR_INVALID_FD');
    // The addon checks again what a direct caller could get wrong.
    expectCoded(() => binding.sys.tcsetattr(terminal, { ...t, cc: new Uint8Array(3) }, binding.sys.constants.TCSANOW), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expectCoded(() => binding.sys.tcsetattr(terminal, t, 12345), 'RangeError', 'ERR_INVALID_ARG_VALUE');
    expect(sys.tcgetattr(terminal)).toEqual(start);
  });

  it.skipIf(binding.sys.constants.SPEED_IS_BAUD)('a speed outside the table is ERR_INVALID_ARG_VALUE naming it and the supported ones', () => {
    // Where speed_t is the rate itself (macOS, the BSDs) any rate goes to the driver instead.
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    const err = thrown(() => sys.tcsetattr(terminal, { ...t, ispeed: 12345, ospeed: 12345 })) as Error;
    expect(err).toMatchObject({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(err.message).toContain('12345');
    expect(err.message).toContain('115200');
    expect(thrown(() => binding.sys.tcsetattr(terminal, { ...t, ispeed: 12345, ospeed: 12345 }, binding.sys.constants.TCSANOW))).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    expect(sys.tcgetattr(terminal)).toEqual(t);
  });

  it('every rate of BAUD_RATES goes in and comes back', () => {
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    for (const rate of sys.BAUD_RATES) {
      sys.tcsetattr(terminal, { ...t, ispeed: rate, ospeed: rate });
      expect(sys.tcgetattr(terminal), String(rate)).toMatchObject({ ospeed: rate });
    }
  });

  it('a pipe is no terminal: ENOTTY', () => {
    const [r] = pipe();
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    expectSystemError(() => sys.tcgetattr(r), 'ENOTTY', 'tcgetattr');
    // tcsetattr starts from the current settings: the same refusal.
    expectSystemError(() => sys.tcsetattr(r, t), 'ENOTTY', 'tcgetattr');
  });
});

describe('cfmakeraw', () => {
  it('returns a raw copy and leaves its argument alone', () => {
    const [, terminal] = pty();
    const t = sys.tcgetattr(terminal);
    const copy = { ...t, cc: t.cc.slice() };
    const raw = sys.cfmakeraw(t);
    expect(t).toEqual(copy);
    expect(raw.cc).not.toBe(t.cc);
    expect(raw.lflag & (sys.ECHO | sys.ICANON | sys.ISIG | sys.IEXTEN)).toBe(0);
    expect(raw.iflag & (sys.ICRNL | sys.IXON | sys.ISTRIP | sys.INLCR | sys.IGNCR | sys.BRKINT | sys.PARMRK)).toBe(0);
    expect(raw.oflag & sys.OPOST).toBe(0);
    expect(raw.cflag & (sys.CSIZE | sys.PARENB)).toBe(sys.CS8);
    expect([raw.cc[sys.VMIN], raw.cc[sys.VTIME]]).toEqual([1, 0]);
    expect([raw.ispeed, raw.ospeed]).toEqual([t.ispeed, t.ospeed]);
  });

  it("is the C library's cfmakeraw: the same terminal settings as libc's, called by python3 through ctypes", () => {
    const [, terminal] = pty();
    const start = sys.tcgetattr(terminal);
    sys.tcsetattr(terminal, sys.cfmakeraw(start));
    const ours = flagsOf(sys.tcgetattr(terminal));
    sys.tcsetattr(terminal, start);
    expect(flagsOf(sys.tcgetattr(terminal))).toEqual(flagsOf(start));
    // libc's tcgetattr, cfmakeraw and tcsetattr on an opaque buffer: no
    // struct layout needed.
    const script = [
      'import ctypes, termios',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'buf = ctypes.create_string_buffer(512)',
      'assert libc.tcgetattr(0, buf) == 0',
      'libc.cfmakeraw(buf)',
      'assert libc.tcsetattr(0, termios.TCSANOW, buf) == 0',
    ].join('\n');
    withStdin(terminal, PYTHON, ['-c', script]);
    expect(flagsOf(sys.tcgetattr(terminal))).toEqual(ours);
  });
});

describe('window size', () => {
  it('set on the controller, seen by tcgetattr\'s neighbour getWindowSize and by `stty size` on the terminal', () => {
    const [controller, terminal] = pty();
    sys.setWindowSize(controller, { rows: 33, cols: 101 });
    expect(sys.getWindowSize(terminal)).toEqual({ rows: 33, cols: 101 });
    expect(withStdin(terminal, 'stty', ['size'])).toBe('33 101');
    withStdin(terminal, 'stty', ['rows', '12', 'cols', '40']);
    expect(sys.getWindowSize(controller)).toEqual({ rows: 12, cols: 40 });
  });

  it('refuses bad input with coded errors, the size unchanged; a pipe is ENOTTY', () => {
    const [controller] = pty();
    sys.setWindowSize(controller, { rows: 10, cols: 20 });
    for (const [size, name, code] of [
      [null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ rows: 10 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      [{ rows: -1, cols: 5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ rows: 5, cols: 65536 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
      [{ rows: 5.5, cols: 5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ] as const) {
      expectCoded(() => sys.setWindowSize(controller, size as unknown as { rows: number; cols: number }), name, code);
    }
    expectCoded(() => binding.sys.setWindowSize(controller, 70000, 5), 'RangeError', 'ERR_OUT_OF_RANGE');
    expect(sys.getWindowSize(controller)).toEqual({ rows: 10, cols: 20 });
    const [r] = pipe();
    expectSystemError(() => sys.getWindowSize(r), 'ENOTTY', 'ioctl');
    expectSystemError(() => sys.setWindowSize(r, { rows: 1, cols: 1 }), 'ENOTTY', 'ioctl');
  });
});

describe('a serial line', () => {
  it('two ptys linked by socat stand in for a null-modem cable: opened by path, set to 115200 8N1 raw, bytes cross', async () => {
    // socat prints the names of the two terminals it links.
    const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((resolve) => socat.on('exit', resolve));
    try {
      const paths = await new Promise<string[]>((resolve, reject) => {
        let err = '';
        socat.stderr.on('data', (d: Buffer) => {
          err += d;
          const found = [...err.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
          if (found.length === 2 && err.includes('starting data transfer')) resolve(found);
        });
        socat.on('exit', () => reject(new Error(`socat ended: ${err}`)));
      });
      const [left, right] = paths.map((path) => owned(sys.open(path, sys.O_RDWR | sys.O_NOCTTY)));
      for (const fd of [left!, right!]) {
        expect(sys.isatty(fd)).toBe(true);
        const raw = sys.cfmakeraw(sys.tcgetattr(fd));
        sys.tcsetattr(fd, { ...raw, cflag: (raw.cflag & ~(sys.CSTOPB | sys.PARENB)) | sys.CLOCAL | sys.CREAD, ispeed: 115200, ospeed: 115200 });
        expect(sys.tcgetattr(fd)).toMatchObject({ ispeed: 115200, ospeed: 115200 });
      }
      const payload = enc('AT\r\n\x00\xff binary \x03\x04 no signals\n');
      expect(sys.write(left!, payload)).toBe(payload.length);
      const got: number[] = [];
      const sel = track(new DefaultSelector());
      sel.register(right!, EVENT_READ);
      const deadline = Date.now() + 10_000;
      const buf = new Uint8Array(256);
      while (got.length < payload.length && Date.now() < deadline) {
        if (sel.select(100).length === 0) continue;
        const n = sys.read(right!, buf);
        if (n > 0) got.push(...buf.subarray(0, n));
      }
      expect(new Uint8Array(got)).toEqual(payload);
    } finally {
      socat.kill();
      await exited;
    }
  });
});

describe.each(BACKENDS)('$name', ({ create }) => {
  it('the controller: writable, readable once the terminal side writes; the terminal: readable once the controller writes', () => {
    const [controller, terminal] = pty();
    sys.tcsetattr(terminal, sys.cfmakeraw(sys.tcgetattr(terminal)));
    const sel = track(create());
    sel.register(controller, EVENT_READ | EVENT_WRITE);
    sel.register(terminal, EVENT_READ);
    const ready = () => new Map(sel.select(1000).map(([k, e]) => [k.fd, e]));
    // What one side writes reaches the other through the line discipline's
    // work queue, a moment later: select until it shows.
    const until = (fd: number, event: number) => {
      const deadline = Date.now() + 5000;
      let events = ready();
      while (((events.get(fd) ?? 0) & event) === 0 && Date.now() < deadline) events = ready();
      return events.get(fd);
    };
    expect(ready()).toEqual(new Map([[controller, EVENT_WRITE]]));
    sys.write(terminal, enc('up'));
    expect(until(controller, EVENT_READ)).toBe(EVENT_READ | EVENT_WRITE);
    expect(sys.read(controller, new Uint8Array(8))).toBe(2);
    sys.write(controller, enc('down'));
    expect(until(terminal, EVENT_READ)).toBe(EVENT_READ);
    expect(sys.read(terminal, new Uint8Array(8))).toBe(4);
  });

  it('the controller, once the terminal side is closed: readable, and the read ends (EIO on Linux, 0 elsewhere)', () => {
    const [controller, terminal] = pty();
    const sel = track(create());
    sel.register(controller, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    release(terminal);
    expect(sel.select(5000).map(([k, e]) => [k.fd, e & EVENT_READ])).toEqual([[controller, EVENT_READ]]);
    const err = thrown(() => expect(sys.read(controller, new Uint8Array(8))).toBe(0));
    if (err !== undefined) expect(err).toMatchObject({ code: 'EIO', syscall: 'read' });
  });
});
