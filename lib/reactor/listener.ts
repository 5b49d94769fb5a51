// Opening the listening sockets of the reactor's stream servers (server.ts):
// a TCP listener (SO_REUSEADDR, optionally SO_REUSEPORT), or a Unix stream
// listener at a path or (Linux) an abstract name.
//
// A Unix socket file outlives the socket: a server that crashed leaves it,
// and bind() then fails with EADDRINUSE. As asyncio's create_unix_server
// does, a socket file found at the path is removed and the bind tried again;
// anything else there (a regular file, a directory, a symbolic link, which
// is not followed) is left alone and the EADDRINUSE stands. Like asyncio,
// this also takes the path over from a server still running there.
//
// On close the file is removed only if it is still the one bound: same
// device and inode, and a socket (as Python 3.13's cleanup_socket does).
// Another server that has since replaced it keeps its file. The comparison
// is sound because the bound socket holds its inode until it is closed, so
// the number cannot be reused meanwhile; the file is removed before the
// socket is closed.
//
// Uses sys and node:fs (lstat, unlink) only; nothing of the reactor.
import { lstatSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { codedTypeError, describe } from '../errors.js';
import * as sys from '../sys/index.js';

/** @internal A bound, listening TCP socket. */
export interface TcpListener {
  /** The listening socket's fd. */
  fd: number;
  /** The address bound. */
  host: string;
  /** The port bound (the one the kernel picked for 0). */
  port: number;
}

/** @internal Opens a TCP listener at `host` (default 127.0.0.1) and `port`; closes its fd on failure. */
export function openTcpListener(host: string, port: number, backlog: number | undefined, reusePort: boolean): TcpListener {
  const fd = sys.socket(typeof host === 'string' && host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_STREAM);
  try {
    sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR, true);
    if (reusePort) sys.setsockopt(fd, sys.SOL_SOCKET, sys.SO_REUSEPORT, true);
    sys.bind(fd, host, port);
    sys.listen(fd, backlog ?? sys.SOMAXCONN);
  } catch (err) {
    sys.close(fd);
    throw err;
  }
  const bound = sys.getsockname(fd);
  return { fd, host, port: 'port' in bound ? bound.port : port };
}

/** @internal A bound, listening Unix stream socket. */
export interface UnixListener {
  /** The listening socket's fd. */
  fd: number;
  /** The path as given (an abstract name starts with NUL). */
  path: string;
  /** Removes the socket file if it is still the one bound (nothing for an
   * abstract name); call before closing the fd. Throws what unlink throws,
   * but not ENOENT. */
  removeFile(): void;
}

interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

// The file at `file` if it is a socket (lstat: a symbolic link is not one).
function socketFile(file: string): FileIdentity | null {
  try {
    const st = lstatSync(file, { bigint: true, throwIfNoEntry: false });
    return st?.isSocket() ? { dev: st.dev, ino: st.ino } : null;
  } catch {
    return null; // cannot tell (EACCES, ENOTDIR, ...): not ours to remove
  }
}

function unlinkIfThere(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  }
}

/** @internal Opens a Unix stream listener at `path` (a file path, relative
 * to the current directory, or an abstract name starting with NUL),
 * removing a stale socket file first; closes its fd (and removes the file
 * it made) on failure.
 * @throws `ERR_INVALID_ARG_TYPE` (TypeError) when `path` is not a string.
 * @throws `ERR_INVALID_ARG_VALUE` (RangeError) when `path` is no valid Unix socket path (empty, longer than `sys.UNIX_PATH_MAX` bytes, a NUL inside).
 * @throws {@link SystemError} when the kernel refuses (`EADDRINUSE` for a path that is not a socket, `EACCES`, `ENOENT`, ...). */
export function openUnixListener(path: string, backlog: number | undefined): UnixListener {
  if (typeof path !== 'string') throw codedTypeError('ERR_INVALID_ARG_TYPE', `path must be a string, got ${describe(path)}`);
  // Resolved now: a later chdir must not change which file close() removes.
  const file = path.startsWith('\0') ? null : resolve(path);
  const fd = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM);
  let bound: FileIdentity | null = null;
  try {
    try {
      sys.bind(fd, path);
    } catch (err) {
      if (file === null || (err as { code?: unknown }).code !== 'EADDRINUSE' || socketFile(file) === null) throw err;
      unlinkIfThere(file); // a stale socket file: removed, as asyncio does
      sys.bind(fd, path);
    }
    if (file !== null) bound = socketFile(file);
    sys.listen(fd, backlog ?? sys.SOMAXCONN);
  } catch (err) {
    try {
      if (file !== null && bound !== null) removeIfSame(file, bound);
    } catch {
      // the error that stopped the listener says more
    }
    sys.close(fd);
    throw err;
  }
  return {
    fd,
    path,
    removeFile: () => {
      if (file !== null && bound !== null) removeIfSame(file, bound);
      bound = null;
    },
  };
}

function removeIfSame(file: string, bound: FileIdentity): void {
  const now = socketFile(file);
  if (now !== null && now.dev === bound.dev && now.ino === bound.ino) unlinkIfThere(file);
}
