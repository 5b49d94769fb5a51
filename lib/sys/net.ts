// Sockets: IPv4, IPv6 and Unix, stream and datagram. Same rules as every
// sys module: arguments checked first, -1 for "would block", a SystemError
// for every other failure, every fd made here non-blocking and close-on-exec.
import { checkFd, codedRangeError, codedTypeError, describe } from '../errors.js';
import { binding } from '../native.js';
import { checkAddress, checkInteger, checkLength, checkMember, checkOffset } from './checks.js';

const native = binding.sys;
const c = native.constants;

// The platform's values, read from the addon (never hard-coded here).
/** Address family: IPv4. */
export const AF_INET = c.AF_INET;
/** Address family: IPv6. */
export const AF_INET6 = c.AF_INET6;
/** Address family: Unix sockets (a path, or on Linux an abstract name starting with NUL). */
export const AF_UNIX = c.AF_UNIX;
/** Socket type: a byte stream (TCP, Unix stream). */
export const SOCK_STREAM = c.SOCK_STREAM;
/** Socket type: datagrams (UDP, Unix datagram). */
export const SOCK_DGRAM = c.SOCK_DGRAM;
/** Socket type: a connection of datagrams whose boundaries are kept (Unix
 * sockets only here); undefined where the platform has none. */
export const SOCK_SEQPACKET: number | undefined = c.SOCK_SEQPACKET;
/** setsockopt level of the socket options (SO_*). */
export const SOL_SOCKET = c.SOL_SOCKET;
/** Lets a listener bind a port still in TIME_WAIT. */
export const SO_REUSEADDR = c.SO_REUSEADDR;
/** Lets several sockets (processes) bind the same port; the kernel spreads connections. */
export const SO_REUSEPORT = c.SO_REUSEPORT;
/** Sends TCP keep-alive probes on an idle connection. */
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
/** Lets a datagram socket send to a broadcast address. */
export const SO_BROADCAST = c.SO_BROADCAST;
/** Delivers TCP urgent data inline, with the ordinary data. */
export const SO_OOBINLINE = c.SO_OOBINLINE;
/** The receive buffer size, in bytes (the kernel may double or clamp it). */
export const SO_RCVBUF = c.SO_RCVBUF;
/** The send buffer size, in bytes (the kernel may double or clamp it). */
export const SO_SNDBUF = c.SO_SNDBUF;
/** setsockopt level of the IPv4 options (IP_MULTICAST_TTL, IP_MULTICAST_LOOP). */
export const IPPROTO_IP = c.IPPROTO_IP;
/** The time-to-live of IPv4 multicast datagrams sent (1 by default: this network only). */
export const IP_MULTICAST_TTL = c.IP_MULTICAST_TTL;
/** Whether IPv4 multicast datagrams sent come back to this host's own members (on by default). */
export const IP_MULTICAST_LOOP = c.IP_MULTICAST_LOOP;
/** The hop limit of IPv6 multicast datagrams sent (1 by default). */
export const IPV6_MULTICAST_HOPS = c.IPV6_MULTICAST_HOPS;
/** Whether IPv6 multicast datagrams sent come back to this host's own members (on by default). */
export const IPV6_MULTICAST_LOOP = c.IPV6_MULTICAST_LOOP;
/** setsockopt level of the TCP options (TCP_NODELAY). */
export const IPPROTO_TCP = c.IPPROTO_TCP;
/** setsockopt level of the IPv6 options (IPV6_V6ONLY). */
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
/** Sends small writes at once instead of coalescing them (Nagle's algorithm off). */
export const TCP_NODELAY = c.TCP_NODELAY;
/** Restricts an IPv6 socket to IPv6 (no IPv4-mapped addresses). */
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
/** shutdown: no more reading. */
export const SHUT_RD = c.SHUT_RD;
/** shutdown: no more writing; the peer reads end of stream. */
export const SHUT_WR = c.SHUT_WR;
/** shutdown: both. */
export const SHUT_RDWR = c.SHUT_RDWR;
/** recv/send flag: TCP urgent (out-of-band) data. */
export const MSG_OOB = c.MSG_OOB;
/** recv flag: read without consuming. */
export const MSG_PEEK = c.MSG_PEEK;
/** The largest listen backlog the system takes; listen's default. */
export const SOMAXCONN = c.SOMAXCONN;
/** The most chunks one writev takes. */
export const IOV_MAX = c.IOV_MAX;
/** The longest path (in UTF-8 bytes) a Unix socket can be bound or connected to. */
export const UNIX_PATH_MAX = c.UNIX_PATH_MAX;

/** What getsockname/getpeername return for an IPv4 or IPv6 socket. */
export interface InetAddress {
  /** AF_INET or AF_INET6. */
  family: number;
  /** The IP address, as text. */
  address: string;
  /** The port. */
  port: number;
}

/** What getsockname/getpeername return for a Unix socket ('' if unnamed). */
export interface UnixAddress {
  /** AF_UNIX. */
  family: number;
  /** The socket's path ('' if unnamed; starting with NUL for a Linux abstract name). */
  path: string;
}

/** What getsockname and getpeername return: `'port' in address` tells which. */
export type SocketAddress = InetAddress | UnixAddress;

const FAMILIES = new Set([AF_INET, AF_INET6, AF_UNIX]);
const TYPES = new Set([SOCK_STREAM, SOCK_DGRAM]);
const UNIX_TYPES = new Set(SOCK_SEQPACKET === undefined ? TYPES : [...TYPES, SOCK_SEQPACKET]);

/** A connected pair of Unix sockets of `type`, non-blocking and
 * close-on-exec: SOCK_STREAM (the default), SOCK_DGRAM (each send one
 * datagram, sendto-less) or SOCK_SEQPACKET where the platform has it.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `type` is not a number.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) for another type.
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `ENFILE`, `EPROTONOSUPPORT`). */
export function socketpair(type: number = SOCK_STREAM): [number, number] {
  checkMember(type, UNIX_TYPES, 'socket type');
  return type === SOCK_STREAM ? native.socketpair() : native.socketpair(type);
}
const SHUTDOWN_HOW = new Set([SHUT_RD, SHUT_WR, SHUT_RDWR]);
const MESSAGE_FLAGS = MSG_OOB | MSG_PEEK;
/** The options setsockopt/getsockopt accept, by level; all of them are ints. */
const OPTIONS = new Map<number, Set<number>>([
  [SOL_SOCKET, new Set([SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE, SO_RCVBUF, SO_SNDBUF])],
  [IPPROTO_IP, new Set([IP_MULTICAST_TTL, IP_MULTICAST_LOOP])],
  [IPPROTO_TCP, new Set([TCP_NODELAY])],
  [IPPROTO_IPV6, new Set([IPV6_V6ONLY, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP])],
]);

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

/** A new socket of `family` (AF_INET, AF_INET6, AF_UNIX) and `type`
 * (SOCK_STREAM, the default, or SOCK_DGRAM; for AF_UNIX also SOCK_SEQPACKET
 * where defined), non-blocking and close-on-exec.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `family` or `type` is not a number.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) for another family or type (SOCK_SEQPACKET with an IP family).
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`, `EAFNOSUPPORT`, ...). */
export function socket(family: number, type: number = SOCK_STREAM): number {
  checkMember(family, FAMILIES, 'family');
  checkMember(type, family === AF_UNIX ? UNIX_TYPES : TYPES, 'socket type');
  return native.socket(family, type);
}

/**
 * Binds to an IP address and port (0: any free port), or, without a port, to
 * a Unix socket path. No name lookup: `host` must be an address.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `host` is not a string or `port` not a number.
 * @throws `ERR_INVALID_IP_ADDRESS` (TypeError) when, with a port, `host` is not an IP address.
 * @throws `ERR_SOCKET_BAD_PORT` (RangeError) when `port` is not an integer in 0..65535.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when, without a port, `host` is no valid Unix socket path (empty, too long, a NUL inside).
 * @throws {@link SystemError} when the kernel refuses (`EADDRINUSE`, `EACCES`, ...).
 */
export function bind(fd: number, host: string, port?: number): void {
  checkFd(fd);
  checkAddress(host, port);
  native.bind(fd, host, port);
}

/**
 * Makes a bound stream socket listen, with room for `backlog` pending connections (default SOMAXCONN).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_OUT_OF_RANGE` (RangeError) when `backlog` is not an integer >= 0.
 * @throws {@link SystemError} when the kernel refuses (`EOPNOTSUPP` for a datagram socket, ...).
 */
export function listen(fd: number, backlog: number = SOMAXCONN): void {
  checkFd(fd);
  checkInteger(backlog, 'backlog', 0, 0x7fffffff);
  native.listen(fd, backlog);
}

/** A pending connection's fd (non-blocking, close-on-exec), or -1 when none
 * is pending: accept in a loop until -1.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EMFILE`/`ENFILE` out of fds, `EINVAL` not listening, ...). */
export function accept(fd: number): number {
  checkFd(fd);
  return native.accept(fd);
}

/** Starts connecting: 0 when connected at once, -1 while in progress (wait
 * until the fd is writable, then read the outcome with getsockoptError).
 * Without a port, `host` is a Unix socket path; a Unix socket whose listener's
 * backlog is full throws EAGAIN (Unix sockets never connect in the background).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_IP_ADDRESS`, `ERR_SOCKET_BAD_PORT`, `ERR_INVALID_ARG_VALUE`: as {@link bind}.
 * @throws {@link SystemError} when the kernel refuses at once (`ENOENT`/`ECONNREFUSED` for a Unix path with no listener, `ENETUNREACH`, ...).
 *
 * @example
 * ```ts
 * function* connectTo(host: string, port: number): Coroutine<number> {
 *   const fd = sys.socket(sys.AF_INET);
 *   if (sys.connect(fd, host, port) === -1) {
 *     yield reactor.writable(fd); // writable once the connect has ended
 *     const errno = sys.getsockoptError(fd);
 *     if (errno !== 0) {
 *       sys.close(fd);
 *       throw new Error(`connect to ${host}:${port} failed: errno ${errno}`);
 *     }
 *   }
 *   return fd;
 * }
 * ```
 */
export function connect(fd: number, host: string, port?: number): number {
  checkFd(fd);
  checkAddress(host, port);
  return native.connect(fd, host, port);
}

/** The socket's pending error (SO_ERROR), cleared by reading it: 0, or the
 * errno (positive) that ended a non-blocking connect, e.g. ECONNREFUSED.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ENOTSOCK`). */
export function getsockoptError(fd: number): number {
  checkFd(fd);
  return native.getsockoptError(fd);
}

/** Sets an integer or boolean option: SOL_SOCKET (SO_REUSEADDR, SO_REUSEPORT,
 * SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE, SO_RCVBUF, SO_SNDBUF, in bytes),
 * IPPROTO_IP (IP_MULTICAST_TTL, IP_MULTICAST_LOOP), IPPROTO_TCP (TCP_NODELAY),
 * IPPROTO_IPV6 (IPV6_V6ONLY, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `level`, `option` or `value` is not a number (or boolean value).
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) for an option not listed here.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `value` is not a 32-bit integer.
 * @throws {@link SystemError} when the kernel refuses (`EOPNOTSUPP`/`ENOPROTOOPT` for a TCP option on a Unix socket, ...). */
export function setsockopt(fd: number, level: number, option: number, value: number | boolean): void {
  checkFd(fd);
  checkOption(level, option);
  if (typeof value === 'boolean') value = value ? 1 : 0;
  checkInteger(value, 'value', -0x80000000, 0x7fffffff);
  native.setsockopt(fd, level, option, value);
}

/** Reads one of the options setsockopt accepts (booleans as 0 or 1).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_INVALID_ARG_VALUE` (RangeError) as setsockopt.
 * @throws {@link SystemError} when the kernel refuses. */
export function getsockopt(fd: number, level: number, option: number): number {
  checkFd(fd);
  checkOption(level, option);
  return native.getsockopt(fd, level, option);
}

/**
 * Receives into buf[offset, offset + length): bytes read, 0 at end of
 * stream, -1 if it would block. `flags`: MSG_OOB (the TCP urgent byte; the
 * kernel says EINVAL if none is pending) and MSG_PEEK.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `offset` or `length` falls outside `buf`.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `flags` has bits other than MSG_OOB and MSG_PEEK.
 * @throws {@link SystemError} when the kernel refuses (`ECONNRESET`, `ENOTSOCK`, ...).
 */
export function recv(fd: number, buf: Uint8Array, offset?: number, length?: number, flags = 0): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  checkFlags(flags);
  // The whole buffer without flags goes as (fd, buf): three fewer conversions.
  return off === 0 && len === buf.length && flags === 0 ? native.recv(fd, buf) : native.recv(fd, buf, off, len, flags);
}

/**
 * Sends buf[offset, offset + length): bytes sent, or -1 if it would block.
 * A peer that has gone is an EPIPE error, never a SIGPIPE. `flags`: MSG_OOB
 * sends the last byte as TCP urgent data.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) when `offset` or `length` falls outside `buf`.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `flags` has bits other than MSG_OOB and MSG_PEEK.
 * @throws {@link SystemError} when the kernel refuses (`EPIPE`, `ECONNRESET`, ...).
 */
export function send(fd: number, buf: Uint8Array, offset?: number, length?: number, flags = 0): number {
  checkFd(fd);
  const off = checkOffset(buf, offset);
  const len = checkLength(buf, off, length);
  checkFlags(flags);
  // The whole buffer without flags goes as (fd, buf): three fewer conversions.
  return off === 0 && len === buf.length && flags === 0 ? native.send(fd, buf) : native.send(fd, buf, off, len, flags);
}

/** Writes the chunks in order with one syscall (at most IOV_MAX of them):
 * bytes written (possibly fewer than their total), or -1 if it would block.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `chunks` is not an array of Uint8Arrays.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) for more than IOV_MAX chunks.
 * @throws {@link SystemError} when the kernel refuses (`EPIPE`, ...). */
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
 * stream) or both (SHUT_RDWR).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) / `ERR_INVALID_ARG_VALUE` (RangeError) for another `how`.
 * @throws {@link SystemError} when the kernel refuses (`ENOTCONN`, ...). */
export function shutdown(fd: number, how: number): void {
  checkFd(fd);
  checkMember(how, SHUTDOWN_HOW, 'shutdown mode');
  native.shutdown(fd, how);
}

/** The socket's own address: {@link InetAddress} or {@link UnixAddress}.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ENOTSOCK`). */
export function getsockname(fd: number): SocketAddress {
  checkFd(fd);
  return native.getsockname(fd) as SocketAddress;
}

/** The connected peer's address: {@link InetAddress} or {@link UnixAddress}.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`ENOTCONN` if not connected, `EBADF`, ...). */
export function getpeername(fd: number): SocketAddress {
  checkFd(fd);
  return native.getpeername(fd) as SocketAddress;
}
