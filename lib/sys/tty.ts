// Terminals, pseudo-terminals and serial lines: openpty, isatty, ttyname,
// termios as plain objects (speeds in baud), window sizes and the flag
// constants. A serial line is a tty: the same calls configure it.
//
// As CPython's termios module: tcgetattr returns plain values, tcsetattr
// takes them back, and cfmakeraw works on a copy. The values of the flags
// differ between platforms (ECHO is 0o10 on Linux, 0x8 on macOS): use the
// constants, never numbers.
import { checkFd, codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding, type NativeTermios } from '../native.js';
import { checkInteger } from './checks.js';

const native = binding.sys;
const c = native.constants;

/**
 * A terminal's settings as {@link tcgetattr} returns them and
 * {@link tcsetattr} takes them: the four flag words of `struct termios`,
 * its control characters, and the speeds in baud.
 *
 * Flags are non-negative numbers; combine them with the constants
 * (`t.lflag & ~(ECHO | ICANON)`). A flag word that JavaScript's bitwise
 * operators made negative (bit 31 set, e.g. macOS's NOFLSH) is accepted and
 * read as the unsigned 32-bit value it stands for.
 */
export interface Termios {
  /** Input modes: ICRNL, IXON, ISTRIP, BRKINT, ... */
  iflag: number;
  /** Output modes: OPOST, ONLCR, ... */
  oflag: number;
  /** Control modes: CSIZE (CS5..CS8), CSTOPB, CREAD, PARENB, CLOCAL, ... On Linux
   * this word also holds the speed bits, which tcsetattr sets from the speeds. */
  cflag: number;
  /** Local modes: ECHO, ICANON, ISIG, IEXTEN, ... */
  lflag: number;
  /** The control characters, NCCS bytes, indexed by VMIN, VTIME, VINTR, VEOF, ... */
  cc: Uint8Array;
  /** The input speed in baud (e.g. 115200); 0 means "the output speed" on
   * some platforms; -1 for a speed outside {@link BAUD_RATES} that another
   * program set (tcsetattr then leaves it as it is). */
  ispeed: number;
  /** The output speed in baud; 0 hangs up (drops DTR on a modem line); -1 as for ispeed. */
  ospeed: number;
}

/** A terminal's window size, in character cells. */
export interface WindowSize {
  /** Lines. */
  rows: number;
  /** Columns. */
  cols: number;
}

// The platform's values, read from the addon (never hard-coded here).
/** lflag: echo input characters. */
export const ECHO = c.ECHO;
/** lflag: canonical mode: input comes a line at a time, with line editing (VERASE, VKILL, VEOF). */
export const ICANON = c.ICANON;
/** lflag: VINTR, VQUIT and VSUSP send SIGINT, SIGQUIT and SIGTSTP. */
export const ISIG = c.ISIG;
/** lflag: implementation-defined input processing (e.g. VLNEXT, VDISCARD). */
export const IEXTEN = c.IEXTEN;
/** lflag: with ICANON, VERASE erases the preceding character on screen. */
export const ECHOE = c.ECHOE;
/** lflag: with ICANON, VKILL erases the line on screen. */
export const ECHOK = c.ECHOK;
/** lflag: with ICANON, echo newline even without ECHO. */
export const ECHONL = c.ECHONL;
/** lflag: do not flush the queues on VINTR, VQUIT, VSUSP (0x80000000 on macOS and the BSDs). */
export const NOFLSH = c.NOFLSH;
/** lflag: send SIGTTOU to a background process that writes to the terminal. */
export const TOSTOP = c.TOSTOP;
/** oflag: output processing (ONLCR and the rest); off in raw mode. */
export const OPOST = c.OPOST;
/** oflag: with OPOST, write "\n" as "\r\n". */
export const ONLCR = c.ONLCR;
/** iflag: translate a received CR into NL. */
export const ICRNL = c.ICRNL;
/** iflag: translate a received NL into CR. */
export const INLCR = c.INLCR;
/** iflag: ignore received CRs. */
export const IGNCR = c.IGNCR;
/** iflag: XON/XOFF flow control of output (VSTART, VSTOP). */
export const IXON = c.IXON;
/** iflag: XON/XOFF flow control of input. */
export const IXOFF = c.IXOFF;
/** iflag: any character restarts stopped output. */
export const IXANY = c.IXANY;
/** iflag: strip the eighth bit of received bytes. */
export const ISTRIP = c.ISTRIP;
/** iflag: check the parity of received bytes. */
export const INPCK = c.INPCK;
/** iflag: mark parity and framing errors in the input (with 0xff 0x00). */
export const PARMRK = c.PARMRK;
/** iflag: a break flushes the queues and sends SIGINT. */
export const BRKINT = c.BRKINT;
/** iflag: ignore a break. */
export const IGNBRK = c.IGNBRK;
/** iflag: ignore bytes with parity or framing errors. */
export const IGNPAR = c.IGNPAR;
/** cflag: the mask of the character size (CS5..CS8). */
export const CSIZE = c.CSIZE;
/** cflag: 5 bits per character. */
export const CS5 = c.CS5;
/** cflag: 6 bits per character. */
export const CS6 = c.CS6;
/** cflag: 7 bits per character. */
export const CS7 = c.CS7;
/** cflag: 8 bits per character (the "8" of 8N1). */
export const CS8 = c.CS8;
/** cflag: two stop bits (clear: one, the "1" of 8N1). */
export const CSTOPB = c.CSTOPB;
/** cflag: enable the receiver. */
export const CREAD = c.CREAD;
/** cflag: parity generation and checking (clear: none, the "N" of 8N1). */
export const PARENB = c.PARENB;
/** cflag: with PARENB, odd parity (clear: even). */
export const PARODD = c.PARODD;
/** cflag: hang up (drop DTR) on the last close. */
export const HUPCL = c.HUPCL;
/** cflag: ignore the modem status lines (a local line, no carrier detect). */
export const CLOCAL = c.CLOCAL;
/** cflag: RTS/CTS hardware flow control; undefined where the platform's headers lack it. */
export const CRTSCTS: number | undefined = c.CRTSCTS;
/** cc index: with ICANON off, the fewest bytes a read waits for. */
export const VMIN = c.VMIN;
/** cc index: with ICANON off, a read's timeout in tenths of a second. */
export const VTIME = c.VTIME;
/** cc index: the interrupt character (^C: SIGINT). */
export const VINTR = c.VINTR;
/** cc index: the quit character (^\\: SIGQUIT). */
export const VQUIT = c.VQUIT;
/** cc index: the erase character (DEL or ^H). */
export const VERASE = c.VERASE;
/** cc index: the line-kill character (^U). */
export const VKILL = c.VKILL;
/** cc index: the end-of-file character (^D): a read returns what the line holds, 0 bytes on an empty line. */
export const VEOF = c.VEOF;
/** cc index: the XON character (^Q). */
export const VSTART = c.VSTART;
/** cc index: the XOFF character (^S). */
export const VSTOP = c.VSTOP;
/** cc index: the suspend character (^Z: SIGTSTP). */
export const VSUSP = c.VSUSP;
/** The length of {@link Termios.cc} on this platform (32 on Linux, 20 on macOS and FreeBSD). */
export const NCCS = c.NCCS;
/**
 * The standard speeds this platform defines a B* constant for, in baud,
 * ascending (on Linux: 0, 50, ... 38400, 57600, 115200, ... 4000000). On
 * Linux these are the only speeds tcsetattr takes. Where the platform's
 * speed_t is the rate itself (macOS and the BSDs: B9600 is 9600) any
 * non-negative integer is passed to the driver, which may refuse it.
 */
export const BAUD_RATES: readonly number[] = Object.freeze([...c.BAUD_RATES]);

const RATES = new Set(BAUD_RATES);
const WHEN = new Map([
  ['now', c.TCSANOW],
  ['drain', c.TCSADRAIN],
  ['flush', c.TCSAFLUSH],
]);

function checkFlag(value: unknown, name: string): number {
  if (typeof value !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `t.${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `t.${name} must be a 32-bit integer, got ${value}`);
  }
  return value >>> 0;
}

function checkSpeed(value: unknown, name: string): number {
  if (typeof value !== 'number') throw codedTypeError('ERR_INVALID_ARG_TYPE', `t.${name} must be a number, got ${describe(value)}`);
  if (value === -1) return value;
  if (c.SPEED_IS_BAUD ? Number.isInteger(value) && value >= 0 && value <= 0xffffffff : RATES.has(value)) return value;
  throw codedRangeError(
    'ERR_INVALID_ARG_VALUE',
    `t.${name}: ${value} baud is not a speed this platform has; supported: ${
      c.SPEED_IS_BAUD ? 'any integer >= 0, the driver decides' : BAUD_RATES.join(', ')
    }`,
  );
}

// A checked, normalized copy of t: flags unsigned, cc checked.
function checkTermios(t: unknown): NativeTermios {
  if (typeof t !== 'object' || t === null) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `t must be a Termios object, got ${describe(t)}`);
  }
  const { iflag, oflag, cflag, lflag, cc, ispeed, ospeed } = t as Record<string, unknown>;
  if (!(cc instanceof Uint8Array)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `t.cc must be a Uint8Array, got ${describe(cc)}`);
  if (cc.length !== NCCS) throw codedRangeError('ERR_INVALID_ARG_VALUE', `t.cc must hold NCCS (${NCCS}) bytes, got ${cc.length}`);
  return {
    iflag: checkFlag(iflag, 'iflag'),
    oflag: checkFlag(oflag, 'oflag'),
    cflag: checkFlag(cflag, 'cflag'),
    lflag: checkFlag(lflag, 'lflag'),
    cc,
    ispeed: checkSpeed(ispeed, 'ispeed'),
    ospeed: checkSpeed(ospeed, 'ospeed'),
  };
}

/**
 * A new pseudo-terminal: `[controller, terminal]`, both non-blocking and
 * close-on-exec, neither the process's controlling terminal. What the
 * controller writes, a program reading the terminal side reads (through the
 * line discipline: echo, line editing, CR/NL translation as the terminal's
 * termios says), and what that program writes, the controller reads.
 *
 * Made with posix_openpt (O_RDWR | O_NOCTTY), grantpt, unlockpt and
 * ptsname_r (ptsname where the C library has no ptsname_r), then an open of
 * the terminal side; nothing is left open when a step fails. Give the
 * terminal fd to a child as its stdin/stdout (child_process.spawn's stdio)
 * and close it here; on Linux, once every fd of the terminal side is
 * closed, reads of the controller fail with `EIO` (an FdStream takes that
 * as end of stream) and macOS and the BSDs return 0.
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `ENFILE`, `EAGAIN` when out of ptys, ...).
 */
export function openpty(): [controller: number, terminal: number] {
  return native.openpty();
}

/**
 * Whether `fd` is a terminal (a tty, a pty's either side, a serial line).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} `EBADF` when `fd` is not open.
 */
export function isatty(fd: number): boolean {
  checkFd(fd);
  return native.isatty(fd);
}

/**
 * The path of the terminal `fd` names (`/dev/pts/3`, `/dev/ttyUSB0`), from ttyname_r.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`ENOTTY` for an fd that is not a terminal, `EBADF`, ...).
 */
export function ttyname(fd: number): string {
  checkFd(fd);
  return native.ttyname(fd);
}

/**
 * The terminal's settings: a new {@link Termios} (flags, control
 * characters, speeds in baud).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`ENOTTY` for an fd that is not a terminal, `EBADF`).
 */
export function tcgetattr(fd: number): Termios {
  checkFd(fd);
  return native.tcgetattr(fd);
}

/**
 * Sets the terminal's settings from `t`, starting from its current ones
 * (what Termios does not carry, such as Linux's line discipline, is kept),
 * as CPython's termios.tcsetattr does. The speeds are set with
 * cfsetispeed/cfsetospeed; -1 leaves one as the terminal has it.
 *
 * `when`: `'now'` (TCSANOW), `'drain'` (TCSADRAIN: once the output queued
 * so far has been transmitted) or `'flush'` (TCSAFLUSH: after that, and
 * discarding input not yet read). 'drain' and 'flush' wait for the output
 * to go, blocking the thread even on a non-blocking fd (tcdrain's wait; on
 * a serial line at a low speed that takes a while). As with the C call, the
 * kernel may apply only part of a request it cannot honour in full (a
 * driver refusing a speed): read the settings back with tcgetattr when it
 * matters.
 * @param fd - A terminal: a serial line, a pty's terminal side (or, on Linux, its controller).
 * @param t - The settings, e.g. tcgetattr's result changed, or {@link cfmakeraw}'s.
 * @param when - When the change applies (default 'now').
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `t` is not an object with number flags, speeds and a Uint8Array `cc`.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when a flag word is not a 32-bit integer.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `cc` does not hold NCCS bytes, when a speed is not
 *   one this platform has (see {@link BAUD_RATES}; the message lists them), when the platform keeps one
 *   speed for both directions and `ispeed` (not 0) differs from `ospeed`, or when `when` is not 'now', 'drain' or 'flush'.
 * @throws {@link SystemError} when the kernel refuses (`ENOTTY`, `EBADF`, `EINVAL` for a setting the driver refuses, `EIO`, ...).
 */
export function tcsetattr(fd: number, t: Termios, when: 'now' | 'drain' | 'flush' = 'now'): void {
  checkFd(fd);
  const checked = checkTermios(t);
  const action = WHEN.get(when);
  if (action === undefined) {
    throw codedRangeError('ERR_INVALID_ARG_VALUE', `when must be 'now', 'drain' or 'flush', got ${describe(when)}`);
  }
  native.tcsetattr(fd, checked, action);
}

/**
 * A raw-mode copy of `t`; `t` itself is unchanged. Raw mode as the C
 * library's cfmakeraw makes it (CPython's tty.setraw does the same in
 * Python): no echo, no line editing (bytes arrive as they come, VMIN 1,
 * VTIME 0), no signals from ^C/^Z, no CR/NL translation either way, no
 * XON/XOFF, 8 bits without parity. The flags come from this platform's own
 * cfmakeraw, since the C libraries differ a little (FreeBSD's also clears
 * IXOFF and INPCK and sets IGNBRK); the speeds are copied from `t`.
 *
 * @example
 * ```ts
 * import { sys } from 'node-selectors';
 * const [controller, terminal] = sys.openpty();
 * sys.tcsetattr(terminal, { ...sys.cfmakeraw(sys.tcgetattr(terminal)), ispeed: 115200, ospeed: 115200 });
 * sys.close(terminal);
 * sys.close(controller);
 * ```
 * @throws `ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`, `ERR_INVALID_ARG_VALUE` for a malformed `t`, as {@link tcsetattr}.
 */
export function cfmakeraw(t: Termios): Termios {
  const checked = checkTermios(t);
  return { ...native.cfmakeraw(checked), ispeed: checked.ispeed, ospeed: checked.ospeed };
}

/**
 * The terminal's window size (TIOCGWINSZ): `{ rows, cols }`, 0 where nobody set it.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`ENOTTY`, `EBADF`).
 */
export function getWindowSize(fd: number): WindowSize {
  checkFd(fd);
  return native.getWindowSize(fd);
}

/**
 * Sets the terminal's window size (TIOCSWINSZ), as a terminal emulator does
 * when its window is resized; the pixel sizes are kept. The kernel sends
 * SIGWINCH to the terminal's foreground process group. On a pty either side
 * may be given.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `size` is not an object, or rows/cols not numbers.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when rows or cols is not an integer in [0, 65535].
 * @throws {@link SystemError} when the kernel refuses (`ENOTTY`, `EBADF`).
 */
export function setWindowSize(fd: number, size: WindowSize): void {
  checkFd(fd);
  if (typeof size !== 'object' || size === null) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `size must be an object { rows, cols }, got ${describe(size)}`);
  }
  const { rows, cols } = size;
  checkInteger(rows, 'rows', 0, 65535);
  checkInteger(cols, 'cols', 0, 65535);
  native.setWindowSize(fd, rows, cols);
}
