// What an FdStream is given (StreamOptions), checked and with its defaults
// filled in (streamSettings), and the count check its reads share.
import { codedRangeError, codedTypeError, describe } from '../errors.js';

/** Options of {@link FdStream} ({@link Reactor.stream}, {@link ListenOptions.stream}). */
export interface StreamOptions {
  /** Queued bytes above which write() waits (default 64 KiB). */
  highWaterMark?: number;
  /** Bytes read per syscall at most (default 64 KiB); a read that asks for no size asks for this many. */
  readSize?: number;
  /** Close the fd when the stream closes (default true). */
  closeFd?: boolean;
  /**
   * Whether a read of 0 bytes ends the stream (default true: sockets,
   * pipes, files). False, for a terminal or a FIFO whose writer may come
   * back (cpython#103436): a 0-byte read does not end the stream, and the
   * read waits for more instead: a terminal's end-of-file character (^D on
   * an empty line) reads as 0 bytes once, and the next line still comes;
   * a FIFO opened read-only reads 0 bytes while no writer has it open, and
   * a new writer's bytes still come. Reads then end only with close() (or
   * the idle timeout), never with IncompleteReadError.
   *
   * While a FIFO has no writer, the kernel reports it readable all the time
   * (a hang-up, POSIX: until a writer opens it), so the stream does not
   * wait for readability then but checks again on a timer, from 1 ms up to
   * 100 ms apart, until bytes come: a returning writer is seen within
   * 100 ms, and no CPU is spun meanwhile. A terminal after ^D is not
   * readable until new input comes, and costs no timer.
   *
   * Either way, `EIO` from a read of a terminal is the end of the stream
   * (not an error): Linux's answer on a pty's controller once every fd of
   * the terminal side is closed (the program on it has gone), or on a
   * serial line that hung up.
   */
  eofIsFinal?: boolean;
}

/** @internal StreamOptions checked, with the defaults filled in. */
export interface StreamSettings {
  highWaterMark: number;
  readSize: number;
  closeFd: boolean;
  eofIsFinal: boolean;
}

/** @internal The settings `options` give.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `eofIsFinal` is not a boolean.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `highWaterMark` or `readSize` is not an integer >= 1. */
export function streamSettings(options: StreamOptions): StreamSettings {
  const settings = {
    highWaterMark: options.highWaterMark ?? 64 * 1024,
    readSize: options.readSize ?? 64 * 1024,
    closeFd: options.closeFd ?? true,
    eofIsFinal: options.eofIsFinal ?? true,
  };
  if (typeof settings.eofIsFinal !== 'boolean') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `eofIsFinal must be a boolean, got ${describe(settings.eofIsFinal)}`);
  }
  checkCount(settings.highWaterMark, 'highWaterMark', 1);
  checkCount(settings.readSize, 'readSize', 1);
  return settings;
}

/** @internal A count argument: an integer >= `min` (ERR_OUT_OF_RANGE otherwise). */
export function checkCount(n: unknown, what: string, min: number): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `${what} must be an integer >= ${min}, got ${describe(n)}`);
  }
}
