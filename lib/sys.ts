// Thin, fast wrappers of POSIX calls on integer fds. Arguments are checked
// here, before any syscall; a call that would block returns -1 (no exception
// on the hot path); every other failure throws a SystemError (code, errno,
// syscall). Every fd created here is non-blocking and close-on-exec.
import { isIP } from 'node:net';
import { checkFd, codedRangeError, codedTypeError, describe } from './errors.js';
import { binding } from './native.js';

const native = binding.sys;
const c = native.constants;

// The platform's values, read from the addon (never hard-coded here).
export const AF_INET = c.AF_INET;
export const AF_INET6 = c.AF_INET6;
export const AF_UNIX = c.AF_UNIX;
export const SOCK_STREAM = c.SOCK_STREAM;
export const SOCK_DGRAM = c.SOCK_DGRAM;
export const SOL_SOCKET = c.SOL_SOCKET;
export const SO_REUSEADDR = c.SO_REUSEADDR;
export const SO_REUSEPORT = c.SO_REUSEPORT;
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
export const SO_BROADCAST = c.SO_BROADCAST;
export const SO_OOBINLINE = c.SO_OOBINLINE;
export const SO_RCVBUF = c.SO_RCVBUF;
export const SO_SNDBUF = c.SO_SNDBUF;
export const IPPROTO_TCP = c.IPPROTO_TCP;
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
export const TCP_NODELAY = c.TCP_NODELAY;
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
export const SHUT_RD = c.SHUT_RD;
export const SHUT_WR = c.SHUT_WR;
export const SHUT_RDWR = c.SHUT_RDWR;
export const MSG_OOB = c.MSG_OOB;
export const MSG_PEEK = c.MSG_PEEK;
export const SOMAXCONN = c.SOMAXCONN;
export const IOV_MAX = c.IOV_MAX;
/** The longest path (in UTF-8 bytes) a Unix socket can be bound or connected to. */
export const UNIX_PATH_MAX = c.UNIX_PATH_MAX;

/** What getsockname/getpeername return for an IPv4 or IPv6 socket. */
export interface InetAddress {
  family: number;
  address: string;
  port: number;
}

/** What getsockname/getpeername return for a Unix socket ('' if unnamed). */
export interface UnixAddress {
  family: number;
  path: string;
}

export type SocketAddress = InetAddress | UnixAddress;

// The checks of buf/offset/length, split so that the common case inlines
// into read/write/recv/send without allocating: each returns a number, and
// the messages are built only when a check fails.

/** Checks buf and offset; returns the offset to use. */
function checkOffset(buf: unknown, offset: number | undefined): number {
  if (!(buf instanceof Uint8Array)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `buf must be a Uint8Array, got ${describe(buf)}`);
  }
  if (offset === undefined) return 0;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `offset must be an integer in [0, ${buf.length}], got ${describe(offset)}`);
  }
  return offset;
}

/** Checks length against the buffer after `off`; returns the length to use. */
function checkLength(buf: Uint8Array, off: number, length: number | undefined): number {
  if (length === undefined) return buf.length - off;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || off + length > buf.length) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `length must be an integer in [0, ${buf.length - off}], got ${describe(length)}`);
  }
  return length;
}

/** Reads into buf[offset, offset + length): bytes read, 0 at end of stream, -1 if it would block. */
export function read(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  // The whole buffer goes without offset and length: two fewer conversions.
  return off === 0 && len === buf.length ? native.read(fd, buf) : native.read(fd, buf, off, len);
}

/** Writes buf[offset, offset + length): bytes written, or -1 if it would block. */
export function write(fd: number, buf: Uint8Array, offset?: number, length?: number): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  // The whole buffer goes without offset and length: two fewer conversions.
  return off === 0 && len === buf.length ? native.write(fd, buf) : native.write(fd, buf, off, len);
}

export function close(fd: number): void {
  checkFd(fd);
  native.close(fd);
}

/** Makes `newFd` name the file `oldFd` names (closing what `newFd` named
 * before, as dup2(2)), close-on-exec; returns `newFd`. A registered fd
 * replaced this way is, to a selector, a closed fd: unregister it (what the
 * backend reports for it until then is not defined, as after close()). */
export function dup2(oldFd: number, newFd: number): number {
  checkFd(oldFd);
  checkFd(newFd);
  return native.dup2(oldFd, newFd);
}

/** A pipe: [readFd, writeFd], both non-blocking and close-on-exec. */
export function pipe(): [number, number] {
  return native.pipe();
}

/** A connected pair of Unix stream sockets, non-blocking and close-on-exec. */
export function socketpair(): [number, number] {
  return native.socketpair();
}

export function setNonBlocking(fd: number, on = true): void {
  checkFd(fd);
  native.setNonBlocking(fd, Boolean(on));
}

/** The fd's O_NONBLOCK (file status) and FD_CLOEXEC (descriptor) flags, as
 * fcntl(F_GETFL) and fcntl(F_GETFD) report them. */
export function getFdFlags(fd: number): { nonBlocking: boolean; closeOnExec: boolean } {
  checkFd(fd);
  return native.getFdFlags(fd);
}

const FAMILIES = new Set([AF_INET, AF_INET6, AF_UNIX]);
const TYPES = new Set([SOCK_STREAM, SOCK_DGRAM]);
const SHUTDOWN_HOW = new Set([SHUT_RD, SHUT_WR, SHUT_RDWR]);
const MESSAGE_FLAGS = MSG_OOB | MSG_PEEK;
/** The options setsockopt/getsockopt accept, by level; all of them are ints. */
const OPTIONS = new Map<number, Set<number>>([
  [SOL_SOCKET, new Set([SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE, SO_RCVBUF, SO_SNDBUF])],
  [IPPROTO_TCP, new Set([TCP_NODELAY])],
  [IPPROTO_IPV6, new Set([IPV6_V6ONLY])],
]);

function checkInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function checkMember(value: unknown, allowed: Set<number>, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`);
  }
  if (!allowed.has(value)) {
    throw codedRangeError('ERR_INVALID_ARG_VALUE', `unknown ${name}: ${value}`);
  }
}

function checkFlags(flags: unknown): asserts flags is number {
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || (flags & ~MESSAGE_FLAGS) !== 0) {
    throw codedRangeError('ERR_INVALID_ARG_VALUE', `flags must be a combination of MSG_OOB and MSG_PEEK, got ${describe(flags)}`);
  }
}

function checkOption(level: unknown, option: unknown): void {
  if (typeof level !== 'number' || typeof option !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `level and option must be numbers, got ${describe(level)}, ${describe(option)}`);
  }
  if (!OPTIONS.get(level)?.has(option)) {
    throw codedRangeError('ERR_INVALID_ARG_VALUE', `unknown socket option ${option} at level ${level}`);
  }
}

// An IP address and a port, or (no port) a Unix socket path. A path starting
// with "\0" names a Linux abstract socket, which has no terminator.
function checkAddress(host: unknown, port: unknown): void {
  if (typeof host !== 'string') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `host must be a string, got ${describe(host)}`);
  }
  if (port === undefined) {
    const abstract = host.startsWith('\0');
    const bytes = Buffer.byteLength(host);
    if (bytes === 0 || bytes > UNIX_PATH_MAX + (abstract ? 1 : 0) || (!abstract && host.includes('\0'))) {
      throw codedRangeError(
        'ERR_INVALID_ARG_VALUE',
        `a Unix socket path must be 1 to ${UNIX_PATH_MAX} bytes without NUL (or start with NUL for an abstract name), got ${describe(host)}`,
      );
    }
    return;
  }
  if (isIP(host) === 0) {
    throw codedTypeError('ERR_INVALID_IP_ADDRESS', `host must be an IPv4 or IPv6 address (no name lookup), got ${describe(host)}`);
  }
  if (typeof port !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `port must be a number, got ${describe(port)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw codedRangeError('ERR_SOCKET_BAD_PORT', `port must be an integer in [0, 65535], got ${port}`);
  }
}

/** A new socket of `family` (AF_INET, AF_INET6, AF_UNIX) and `type`
 * (SOCK_STREAM, SOCK_DGRAM), non-blocking and close-on-exec. */
export function socket(family: number, type: number = SOCK_STREAM): number {
  checkMember(family, FAMILIES, 'family');
  checkMember(type, TYPES, 'socket type');
  return native.socket(family, type);
}

/** Binds to an IP address and port (0: any free port), or, without a port, to
 * a Unix socket path. No name lookup: `host` must be an address. */
export function bind(fd: number, host: string, port?: number): void {
  checkFd(fd);
  checkAddress(host, port);
  native.bind(fd, host, port);
}

export function listen(fd: number, backlog: number = SOMAXCONN): void {
  checkFd(fd);
  checkInteger(backlog, 'backlog', 0, 0x7fffffff);
  native.listen(fd, backlog);
}

/** A pending connection's fd (non-blocking, close-on-exec), or -1 when none
 * is pending: accept in a loop until -1. */
export function accept(fd: number): number {
  checkFd(fd);
  return native.accept(fd);
}

/** Starts connecting: 0 when connected at once, -1 while in progress (wait
 * until the fd is writable, then read the outcome with getsockoptError).
 * Without a port, `host` is a Unix socket path; a Unix socket whose listener's
 * backlog is full throws EAGAIN (Unix sockets never connect in the background). */
export function connect(fd: number, host: string, port?: number): number {
  checkFd(fd);
  checkAddress(host, port);
  return native.connect(fd, host, port);
}

/** The socket's pending error (SO_ERROR), cleared by reading it: 0, or the
 * errno (positive) that ended a non-blocking connect, e.g. ECONNREFUSED. */
export function getsockoptError(fd: number): number {
  checkFd(fd);
  return native.getsockoptError(fd);
}

/** Sets an integer or boolean option: SOL_SOCKET (SO_REUSEADDR, SO_REUSEPORT,
 * SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE, SO_RCVBUF, SO_SNDBUF),
 * IPPROTO_TCP (TCP_NODELAY), IPPROTO_IPV6 (IPV6_V6ONLY). */
export function setsockopt(fd: number, level: number, option: number, value: number | boolean): void {
  checkFd(fd);
  checkOption(level, option);
  if (typeof value === 'boolean') value = value ? 1 : 0;
  checkInteger(value, 'value', -0x80000000, 0x7fffffff);
  native.setsockopt(fd, level, option, value);
}

/** Reads one of the options setsockopt accepts. */
export function getsockopt(fd: number, level: number, option: number): number {
  checkFd(fd);
  checkOption(level, option);
  return native.getsockopt(fd, level, option);
}

/** Receives into buf[offset, offset + length): bytes read, 0 at end of
 * stream, -1 if it would block. `flags`: MSG_OOB (the TCP urgent byte; the
 * kernel says EINVAL if none is pending) and MSG_PEEK. */
export function recv(fd: number, buf: Uint8Array, offset?: number, length?: number, flags = 0): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  checkFlags(flags);
  return native.recv(fd, buf, off, len, flags);
}

/** Sends buf[offset, offset + length): bytes sent, or -1 if it would block.
 * A peer that has gone is an EPIPE error, never a SIGPIPE. `flags`: MSG_OOB
 * sends the last byte as TCP urgent data. */
export function send(fd: number, buf: Uint8Array, offset?: number, length?: number, flags = 0): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  checkFlags(flags);
  return native.send(fd, buf, off, len, flags);
}

/** Writes the chunks in order with one syscall (at most IOV_MAX of them):
 * bytes written (possibly fewer than their total), or -1 if it would block. */
export function writev(fd: number, chunks: readonly Uint8Array[]): number {
  checkFd(fd);
  if (!Array.isArray(chunks)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `chunks must be an array of Uint8Arrays, got ${describe(chunks)}`);
  }
  if (chunks.length > IOV_MAX) {
    throw codedRangeError('ERR_OUT_OF_RANGE', `writev takes at most ${IOV_MAX} chunks, got ${chunks.length}`);
  }
  for (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `every chunk must be a Uint8Array, got ${describe(chunk)}`);
    }
  }
  return native.writev(fd, chunks);
}

/** Shuts down reading (SHUT_RD), writing (SHUT_WR: the peer reads end of
 * stream) or both. */
export function shutdown(fd: number, how: number): void {
  checkFd(fd);
  checkMember(how, SHUTDOWN_HOW, 'shutdown mode');
  native.shutdown(fd, how);
}

/** The socket's own address. */
export function getsockname(fd: number): SocketAddress {
  checkFd(fd);
  return native.getsockname(fd) as SocketAddress;
}

/** The connected peer's address (ENOTCONN if none). */
export function getpeername(fd: number): SocketAddress {
  checkFd(fd);
  return native.getpeername(fd) as SocketAddress;
}
