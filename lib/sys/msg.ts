// Datagrams (UDP over IPv4 and IPv6, Unix datagram sockets), multicast
// membership, messages that carry fds (SCM_RIGHTS) and the credentials of
// the process at the other end of a Unix socket. Same rules as every sys
// module: arguments checked first, -1 (or null) for "would block", a
// SystemError for every other failure; every fd received here is
// close-on-exec and the caller's to close.
import { isIP } from 'node:net';
import { checkFd, codedRangeError, codedTypeError, describe, notSupported } from '../errors.js';
import { binding } from '../native.js';
import { checkAddress, checkInteger } from './checks.js';
import type { SocketAddress } from './net.js';

const native = binding.sys;
const c = native.constants;
const IOV_MAX = c.IOV_MAX;
/** The most fds one {@link sendmsg} passes and one {@link recvmsg} keeps
 * (253, Linux's SCM_MAX_FD, the smallest limit of the supported kernels). */
export const MAX_FDS = c.MAX_FDS;

/** What {@link recvfrom} returns for one datagram. */
export interface Datagram {
  /** How many bytes were written into the buffer (0 for an empty datagram). */
  bytes: number;
  /** The sender: `{ family, address, port }` for UDP, `{ family, path }` for a
   * named Unix socket; null for a sender without a name (an unbound Unix
   * datagram socket, or one end of a socketpair): there is nowhere to reply.
   * The same sender twice in a row gives the same frozen object. */
  address: SocketAddress | null;
  /** The datagram was longer than the buffer: the rest of it is lost (MSG_TRUNC). */
  truncated: boolean;
}

/** What {@link recvmsg} returns for one message. */
export interface Message {
  /** How many bytes were written into the buffer (0 at the end of a stream, or an empty datagram). */
  bytes: number;
  /** The fds the message carried, in order, close-on-exec, now the caller's to close ([] if none). */
  fds: number[];
  /** The sender, as {@link Datagram.address}; null on a connected stream too. */
  address: SocketAddress | null;
  /** A datagram longer than the buffer: the rest of it is lost (MSG_TRUNC). */
  truncated: boolean;
  /** More fds came than `maxFds` (or than the kernel could deliver): those were closed, never left open. */
  fdsTruncated: boolean;
}

/** The credentials of the process at the other end of a Unix socket, as the
 * kernel recorded them when the connection (or socketpair) was made. */
export interface PeerCredentials {
  /** Its process id; -1 where the platform does not say (getpeereid). */
  pid: number;
  /** Its effective user id. */
  uid: number;
  /** Its effective group id. */
  gid: number;
}

function checkBuffer(buf: unknown): asserts buf is Uint8Array {
  if (!(buf instanceof Uint8Array)) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `buf must be a Uint8Array, got ${describe(buf)}`);
  }
}

/**
 * Sends `buf` as one datagram to `host` and `port` (an IPv4 or IPv6 address,
 * no name lookup), or, without a port, to the Unix datagram socket bound at
 * path `host`. Returns the bytes sent (all of them: a datagram is never cut)
 * or -1 if it would block (the socket's send buffer, or for a Unix socket the
 * receiver's queue, is full: wait until the fd is writable).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array, `host` not a string or `port` not a number.
 * @throws `ERR_INVALID_IP_ADDRESS` (TypeError) when, with a port, `host` is not an IP address.
 * @throws `ERR_SOCKET_BAD_PORT` (RangeError) when `port` is not an integer in 0..65535.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when, without a port, `host` is no valid Unix socket path.
 * @throws {@link SystemError} when the kernel refuses (`EMSGSIZE` too long, `ECONNREFUSED`/`ENOENT` no socket at that path, `EACCES` a broadcast without SO_BROADCAST, ...).
 */
export function sendto(fd: number, buf: Uint8Array, host: string, port?: number): number {
  checkFd(fd);
  checkBuffer(buf);
  checkAddress(host, port);
  return native.sendto(fd, buf, host, port);
}

// recvfrom's sender address travels through one scratch buffer, and is made
// into an object only when it differs from the previous sender's: a stream
// of datagrams from one peer costs one result object each, nothing more.
const SCRATCH = new Uint8Array(c.SOCKADDR_SCRATCH);
const META = new Int32Array(SCRATCH.buffer, c.SOCKADDR_SIZE, 2);
const lastRaw = new Uint8Array(c.SOCKADDR_SIZE);
let lastLength = -1;
let lastAddress: SocketAddress | null = null;

function senderAddress(length: number): SocketAddress | null {
  if (length === lastLength) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (SCRATCH[i] !== lastRaw[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastAddress;
  }
  const address = native.formatAddress(SCRATCH, length) as SocketAddress | null;
  lastAddress = address === null ? null : Object.freeze(address);
  lastRaw.set(SCRATCH.subarray(0, length));
  lastLength = length;
  return lastAddress;
}

/**
 * Receives one datagram into `buf`: `{ bytes, address, truncated }`, or null
 * if none is queued. A datagram longer than `buf` fills it and the rest is
 * lost (`truncated`). `address` is the sender (null for an unnamed Unix
 * socket): see {@link Datagram}. On a stream socket it reads like recv
 * (bytes 0 at end of stream).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ENOTSOCK`, `ECONNREFUSED` on a connected UDP socket whose peer port is closed, ...).
 */
export function recvfrom(fd: number, buf: Uint8Array): Datagram | null {
  checkFd(fd);
  checkBuffer(buf);
  const bytes = native.recvfrom(fd, buf, SCRATCH);
  if (bytes < 0) return null;
  return { bytes, address: senderAddress(META[0]!), truncated: META[1] !== 0 };
}

function checkMembership(fd: unknown, group: unknown, iface: unknown): void {
  checkFd(fd);
  if (typeof group !== 'string') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `group must be a string, got ${describe(group)}`);
  }
  const family = isIP(group);
  if (family === 0) {
    throw codedTypeError('ERR_INVALID_IP_ADDRESS', `group must be an IPv4 or IPv6 multicast address, got ${describe(group)}`);
  }
  if (iface === undefined) return;
  if (family === 4) {
    if (typeof iface !== 'string') {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `iface of an IPv4 group must be an IPv4 address string, got ${describe(iface)}`);
    }
    if (isIP(iface) !== 4) {
      throw codedTypeError('ERR_INVALID_IP_ADDRESS', `iface of an IPv4 group must be an IPv4 address, got ${describe(iface)}`);
    }
    return;
  }
  if (typeof iface === 'string') {
    if (iface.length === 0 || iface.includes('\0')) {
      throw codedRangeError('ERR_INVALID_ARG_VALUE', `iface must be an interface name, got ${describe(iface)}`);
    }
    return;
  }
  if (typeof iface !== 'number') {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `iface of an IPv6 group must be an interface index or name, got ${describe(iface)}`);
  }
  checkInteger(iface, 'iface', 0, 0xffffffff);
}

/**
 * Joins the multicast `group` on a datagram socket: datagrams sent to the
 * group (at the port the socket is bound to) are received from now on.
 * IPv4 (IP_ADD_MEMBERSHIP): `iface` is the IPv4 address of the interface to
 * join on (default: the kernel's choice by its routes). IPv6
 * (IPV6_JOIN_GROUP): `iface` is an interface index or name such as `'lo'`
 * (default 0: the kernel's choice).
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `group` is not a string or `iface` not of the form above.
 * @throws `ERR_INVALID_IP_ADDRESS` (TypeError) when `group` (or an IPv4 group's `iface`) is not an IP address.
 * @throws `ERR_INVALID_ARG_VALUE` / `ERR_OUT_OF_RANGE` (RangeError) for an empty interface name or an index outside 0..2^32-1.
 * @throws {@link SystemError} when the kernel refuses (`EINVAL` not a multicast address, `EADDRINUSE` joined already, `ENODEV`/`EADDRNOTAVAIL` no such interface, `ENXIO` from `if_nametoindex` for an unknown name, ...).
 */
export function addMembership(fd: number, group: string, iface?: string | number): void {
  checkMembership(fd, group, iface);
  native.membership(fd, true, group, iface);
}

/**
 * Leaves a multicast group joined with {@link addMembership} (same `group`
 * and `iface`).
 * @throws `ERR_INVALID_FD`, `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_IP_ADDRESS`, `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`: as {@link addMembership}.
 * @throws {@link SystemError} when the kernel refuses (`EADDRNOTAVAIL` not a member, ...).
 */
export function dropMembership(fd: number, group: string, iface?: string | number): void {
  checkMembership(fd, group, iface);
  native.membership(fd, false, group, iface);
}

/** Options of {@link sendmsg}. */
export interface SendMsgOptions {
  /** Fds to pass (SCM_RIGHTS, Unix sockets only), at most {@link MAX_FDS}:
   * the receiver gets its own fds for the same open files; the caller's stay
   * open and its own. */
  fds?: readonly number[];
  /** The destination of an unconnected datagram socket: an IP address with
   * `port`, or without a port a Unix socket path. */
  host?: string;
  /** The destination port, with `host`. */
  port?: number;
}

/**
 * Sends `chunks` (one Uint8Array, or up to IOV_MAX gathered as one message)
 * with `fds` attached, to `host`/`port` or to the connected peer. Returns
 * the bytes sent or -1 if it would block. On a stream socket the fds travel
 * with the first byte of this message, so a short send still passed them:
 * send the rest without `fds`.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` or one of `fds` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `chunks` is not a Uint8Array or an array of them, `fds` not an array, `host` not a string or `port` not a number.
 * @throws `ERR_OUT_OF_RANGE` (RangeError) for more than IOV_MAX chunks or more than {@link MAX_FDS} fds.
 * @throws `ERR_INVALID_IP_ADDRESS`, `ERR_SOCKET_BAD_PORT`, `ERR_INVALID_ARG_VALUE`: as {@link sendto}, when `host` is given.
 * @throws {@link SystemError} when the kernel refuses (`EBADF` one of `fds` is not open: nothing is sent; `EOPNOTSUPP`/`EINVAL` fds on a non-Unix socket; `EPIPE`; ...).
 */
export function sendmsg(fd: number, chunks: Uint8Array | readonly Uint8Array[], options?: SendMsgOptions): number {
  checkFd(fd);
  if (!(chunks instanceof Uint8Array)) {
    if (!Array.isArray(chunks)) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `chunks must be a Uint8Array or an array of them, got ${describe(chunks)}`);
    }
    if (chunks.length > IOV_MAX) {
      throw codedRangeError('ERR_OUT_OF_RANGE', `sendmsg takes at most ${IOV_MAX} chunks, got ${chunks.length}`);
    }
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) {
        throw codedTypeError('ERR_INVALID_ARG_TYPE', `every chunk must be a Uint8Array, got ${describe(chunk)}`);
      }
    }
  }
  if (options === undefined) return native.sendmsg(fd, chunks, undefined, undefined, undefined);
  if (typeof options !== 'object' || options === null) {
    throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
  }
  const { fds, host, port } = options;
  if (fds !== undefined) {
    if (!Array.isArray(fds)) throw codedTypeError('ERR_INVALID_ARG_TYPE', `fds must be an array of fds, got ${describe(fds)}`);
    if (fds.length > MAX_FDS) throw codedRangeError('ERR_OUT_OF_RANGE', `sendmsg passes at most ${MAX_FDS} fds, got ${fds.length}`);
    for (const passed of fds) checkFd(passed, 'every fd to pass');
  }
  if (host !== undefined) checkAddress(host, port);
  else if (port !== undefined) throw codedTypeError('ERR_INVALID_ARG_TYPE', 'port needs a host');
  return native.sendmsg(fd, chunks, fds, host, port);
}

/** Options of {@link recvmsg}. */
export interface RecvMsgOptions {
  /** The most fds to keep (0..{@link MAX_FDS}, default 16); more are closed
   * on arrival and reported as `fdsTruncated`. */
  maxFds?: number;
}

/**
 * Receives one message into `buf` with the fds it carries:
 * `{ bytes, fds, address, truncated, fdsTruncated }`, or null if nothing is
 * there. The fds are close-on-exec (MSG_CMSG_CLOEXEC where the platform has
 * it, else fcntl at once after the call: on macOS a fork+exec by another
 * thread in between could inherit them) and keep the O_NONBLOCK of the
 * sender's open file (shared with it, so not changed here). Fds beyond
 * `maxFds` are closed, never leaked. On a stream socket, `bytes` 0 and no
 * fds is the end of the stream.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `buf` is not a Uint8Array or `options` not an object.
 * @throws `ERR_INVALID_ARG_TYPE` / `ERR_OUT_OF_RANGE` when `maxFds` is not an integer in 0..{@link MAX_FDS}.
 * @throws {@link SystemError} when the kernel refuses (`EBADF`, `ENOTSOCK`, `ECONNRESET`, ...).
 */
export function recvmsg(fd: number, buf: Uint8Array, options?: RecvMsgOptions): Message | null {
  checkFd(fd);
  checkBuffer(buf);
  let maxFds = 16;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw codedTypeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    }
    if (options.maxFds !== undefined) {
      checkInteger(options.maxFds, 'maxFds', 0, MAX_FDS);
      maxFds = options.maxFds;
    }
  }
  const message = native.recvmsg(fd, buf, maxFds);
  if (message !== null && message.address !== null) Object.freeze(message.address);
  return message as Message | null;
}

/**
 * The pid, uid and gid of the process at the other end of a connected Unix
 * socket (or socketpair), as the kernel recorded them when it connected:
 * SO_PEERCRED (Linux), LOCAL_PEERCRED with the pid from xucred or
 * LOCAL_PEERPID (FreeBSD, macOS), else getpeereid (pid -1). Where none
 * exists (sys.supports('peerCredentials') false) it throws ERR_NOT_SUPPORTED.
 * @throws `ERR_NOT_SUPPORTED` where the platform has no way to ask.
 * @throws `ERR_INVALID_FD` (TypeError/RangeError) when `fd` is not a non-negative integer.
 * @throws {@link SystemError} when the kernel refuses (`ENOTSOCK`, `ENOTCONN`, `EINVAL`/`EOPNOTSUPP` not a Unix socket, ...).
 */
export function peerCredentials(fd: number): PeerCredentials {
  const call = native.peerCredentials;
  if (call === undefined) throw notSupported('peerCredentials');
  checkFd(fd);
  return call(fd);
}
