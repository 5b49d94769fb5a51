// Loads the addon (a prebuild, or build/Release from `npm install`) and
// declares its interface, so the rest of lib/ is typed against it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @internal Trigger modes as the addon numbers them. */
export const enum NativeTrigger {
  Level = 0,
  Edge = 1,
  Oneshot = 2,
}

/** @internal One kernel multiplexer instance; see native/backend.h. */
export interface NativeSelector {
  /** This selector's number for `wait(slot, timeoutMs)`. */
  slot(): number;
  setBuffer(buffer: Int32Array): void;
  supports(trigger: NativeTrigger): boolean;
  /** The event bits this backend can watch on this platform. */
  supportedEvents(): number;
  fileno(): number;
  /** The kernel fd when libuv can watch it for readiness, else -1. */
  pollableFd(): number;
  /** The finest timeout the backend's wait honours, in nanoseconds. */
  timeoutResolutionNs(): number;
  close(): void;
  /** Whether a reactor made this selector, so that a close() it misses is
   * reported as the reactor's (lib/resources.ts). */
  setOwner(reactor: boolean): void;
  /** Makes a blocked (or the next) wait return early; see native/wakeup.h. */
  wakeup(): void;
  /** A number naming this selector's wakeup channel, for other threads. */
  wakeupHandle(): number;
}

/** @internal */
export interface NativeSys extends NativeSysMsg, NativeSysFiles, NativeSysTty, NativeSysLinux, NativeSysProcess {
  pipe(): [number, number];
  /** type: SOCK_STREAM when undefined. */
  socketpair(type?: number): [number, number];
  dup2(oldFd: number, newFd: number): number;
  /** Without offset and length: all of buf. */
  read(fd: number, buf: Uint8Array, offset?: number, length?: number): number;
  write(fd: number, buf: Uint8Array, offset?: number, length?: number): number;
  close(fd: number): void;
  setNonBlocking(fd: number, on: boolean): void;
  getFdFlags(fd: number): { nonBlocking: boolean; closeOnExec: boolean };
  socket(family: number, type: number): number;
  /** Without a port, `host` is a Unix socket path. */
  bind(fd: number, host: string, port?: number): void;
  listen(fd: number, backlog: number): void;
  accept(fd: number): number;
  connect(fd: number, host: string, port?: number): number;
  getsockoptError(fd: number): number;
  setsockopt(fd: number, level: number, option: number, value: number): void;
  getsockopt(fd: number, level: number, option: number): number;
  /** Without offset, length and flags: all of buf, no flags. */
  recv(fd: number, buf: Uint8Array, offset?: number, length?: number, flags?: number): number;
  /** Without offset, length and flags: all of buf, no flags but MSG_NOSIGNAL. */
  send(fd: number, buf: Uint8Array, offset?: number, length?: number, flags?: number): number;
  writev(fd: number, chunks: readonly Uint8Array[]): number;
  shutdown(fd: number, how: number): void;
  getsockname(fd: number): NativeSocketAddress;
  getpeername(fd: number): NativeSocketAddress;
  /** The platform's values of the constants of every sys module. */
  constants: NativeSysConstants;
  /** The optional calls, by their sys name: false where this platform or
   * build lacks them (their native function is then absent). */
  supported: Record<string, boolean>;
}

/** @internal Datagrams, multicast and messages that carry fds (native/sys_msg.cc). */
export interface NativeSysMsg {
  /** Without a port, `host` is a Unix socket path. */
  sendto(fd: number, buf: Uint8Array, host: string, port: number | undefined): number;
  /** Bytes or -1; the sender's address, its length and the truncation flag go to `scratch`. */
  recvfrom(fd: number, buf: Uint8Array, scratch: Uint8Array): number;
  /** The address recvfrom left in `scratch`, or null for an unnamed sender. */
  formatAddress(scratch: Uint8Array, length: number): NativeSocketAddress | null;
  membership(fd: number, join: boolean, group: string, iface: string | number | undefined): void;
  sendmsg(
    fd: number,
    chunks: Uint8Array | readonly Uint8Array[],
    fds: readonly number[] | undefined,
    host: string | undefined,
    port: number | undefined,
  ): number;
  recvmsg(
    fd: number,
    buf: Uint8Array,
    maxFds: number,
  ): { bytes: number; fds: number[]; address: NativeSocketAddress | null; truncated: boolean; fdsTruncated: boolean } | null;
  /** Absent where the platform has no way to ask (sys.supports('peerCredentials')). */
  peerCredentials?(fd: number): { pid: number; uid: number; gid: number };
}

/** @internal open, readv, sendfile (native/sys_file.cc). */
export interface NativeSysFiles {
  open(path: string, flags: number, mode: number): number;
  readv(fd: number, bufs: readonly Uint8Array[]): number;
  sendfile(outFd: number, inFd: number, offset: number, count: number): number;
}

/** @internal The termios values as native/sys_tty.cc reads and writes them. */
export interface NativeTermios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  cc: Uint8Array;
  ispeed: number;
  ospeed: number;
}

/** @internal Terminals (native/sys_tty.cc). */
export interface NativeSysTty {
  openpty(): [number, number];
  isatty(fd: number): boolean;
  ttyname(fd: number): string;
  tcgetattr(fd: number): NativeTermios;
  tcsetattr(fd: number, t: NativeTermios, when: number): void;
  /** The flags and cc of the C library's cfmakeraw; no speeds. */
  cfmakeraw(t: NativeTermios): Omit<NativeTermios, 'ispeed' | 'ospeed'>;
  getWindowSize(fd: number): { rows: number; cols: number };
  setWindowSize(fd: number, rows: number, cols: number): void;
}

/** @internal Linux's event fds (native/sys_linux.cc); each absent where its
 * feature test failed. */
export interface NativeSysLinux {
  eventfd?(initval: number, semaphore: boolean): number;
  timerfd?(): number;
  timerfdSet?(fd: number, initialMs: number, intervalMs: number): void;
  inotifyInit?(): number;
  inotifyAddWatch?(fd: number, path: string, mask: number): number;
  inotifyRemoveWatch?(fd: number, wd: number): void;
  /** Throws ENOSYS where the build has the syscall but the kernel lacks it. */
  pidfdOpen?(pid: number): number;
}

/** @internal Child processes (native/spawn.cc). */
export interface NativeSysProcess {
  /** stdio entries: an fd, -1 (/dev/null) or -2 (inherit). */
  spawn(path: string, argv: string[], env: string[], cwd: string | null, stdio: [number, number, number]): number;
  /** null while running (block false); else [code, null] or [null, signal number]. */
  waitpid(pid: number, block: boolean): [number | null, number | null] | null;
  /** -1 when the process has exited already; absent without kqueue. */
  kqueueWatchExit?(pid: number): number;
}

/** @internal */
export interface NativeSocketAddress {
  family: number;
  address?: string;
  port?: number;
  path?: string;
}

/** @internal */
export interface NativeSysConstants extends NativeMsgConstants, NativeFileConstants, NativeTtyConstants, NativeLinuxConstants {
  AF_INET: number;
  AF_INET6: number;
  AF_UNIX: number;
  SOCK_STREAM: number;
  SOCK_DGRAM: number;
  SOL_SOCKET: number;
  SO_REUSEADDR: number;
  SO_REUSEPORT: number;
  SO_KEEPALIVE: number;
  SO_BROADCAST: number;
  SO_OOBINLINE: number;
  SO_RCVBUF: number;
  SO_SNDBUF: number;
  IPPROTO_TCP: number;
  IPPROTO_IPV6: number;
  TCP_NODELAY: number;
  IPV6_V6ONLY: number;
  SHUT_RD: number;
  SHUT_WR: number;
  SHUT_RDWR: number;
  MSG_OOB: number;
  MSG_PEEK: number;
  SOMAXCONN: number;
  IOV_MAX: number;
  UNIX_PATH_MAX: number;
}

/** @internal The constants of native/sys_msg.cc. */
export interface NativeMsgConstants {
  /** Absent where the platform has no SOCK_SEQPACKET. */
  SOCK_SEQPACKET?: number;
  IPPROTO_IP: number;
  IP_MULTICAST_TTL: number;
  IP_MULTICAST_LOOP: number;
  IPV6_MULTICAST_HOPS: number;
  IPV6_MULTICAST_LOOP: number;
  /** The size of recvfrom's scratch buffer: a sockaddr_storage, then two int32s. */
  SOCKADDR_SCRATCH: number;
  /** sizeof(sockaddr_storage): where the two int32s of the scratch start. */
  SOCKADDR_SIZE: number;
  /** The most fds one sendmsg passes and one recvmsg keeps. */
  MAX_FDS: number;
}

/** @internal The constants of native/sys_file.cc. */
export interface NativeFileConstants {
  O_RDONLY: number;
  O_WRONLY: number;
  O_RDWR: number;
  O_CREAT: number;
  O_TRUNC: number;
  O_APPEND: number;
  O_EXCL: number;
  O_NOCTTY: number;
  O_ACCMODE: number;
  /** Which sendfile the build calls. */
  SENDFILE_FORM: 'linux' | 'freebsd' | 'darwin' | 'fallback';
}

/** @internal The constants of native/sys_tty.cc (CRTSCTS only where defined). */
export interface NativeTtyConstants {
  ECHO: number;
  ICANON: number;
  ISIG: number;
  IEXTEN: number;
  ECHOE: number;
  ECHOK: number;
  ECHONL: number;
  NOFLSH: number;
  TOSTOP: number;
  OPOST: number;
  ONLCR: number;
  ICRNL: number;
  INLCR: number;
  IGNCR: number;
  IXON: number;
  IXOFF: number;
  IXANY: number;
  ISTRIP: number;
  INPCK: number;
  PARMRK: number;
  BRKINT: number;
  IGNBRK: number;
  IGNPAR: number;
  CSIZE: number;
  CS5: number;
  CS6: number;
  CS7: number;
  CS8: number;
  CSTOPB: number;
  CREAD: number;
  PARENB: number;
  PARODD: number;
  HUPCL: number;
  CLOCAL: number;
  CRTSCTS?: number;
  VMIN: number;
  VTIME: number;
  VINTR: number;
  VQUIT: number;
  VERASE: number;
  VKILL: number;
  VEOF: number;
  VSTART: number;
  VSTOP: number;
  VSUSP: number;
  NCCS: number;
  TCSANOW: number;
  TCSADRAIN: number;
  TCSAFLUSH: number;
  /** The standard rates the headers define, ascending. */
  BAUD_RATES: number[];
  /** speed_t is the rate itself: any rate goes to the driver. */
  SPEED_IS_BAUD: boolean;
}

/** @internal The constants of native/sys_linux.cc: inotify's, present only
 * where inotify is. */
export interface NativeLinuxConstants {
  IN_ACCESS?: number;
  IN_MODIFY?: number;
  IN_ATTRIB?: number;
  IN_CLOSE_WRITE?: number;
  IN_CLOSE_NOWRITE?: number;
  IN_CLOSE?: number;
  IN_OPEN?: number;
  IN_MOVED_FROM?: number;
  IN_MOVED_TO?: number;
  IN_MOVE?: number;
  IN_CREATE?: number;
  IN_DELETE?: number;
  IN_DELETE_SELF?: number;
  IN_MOVE_SELF?: number;
  IN_UNMOUNT?: number;
  IN_Q_OVERFLOW?: number;
  IN_IGNORED?: number;
  IN_ONLYDIR?: number;
  IN_DONT_FOLLOW?: number;
  IN_EXCL_UNLINK?: number;
  IN_MASK_ADD?: number;
  IN_ISDIR?: number;
  IN_ONESHOT?: number;
  IN_ALL_EVENTS?: number;
}

/** @internal Wakes an attached reactor from Node's loop; see native/watcher.h. */
export interface NativeWatcher {
  /** The reactor's interest in `fd` changed (0: removed); used only by the
   * helper thread of selectors without a kernel fd. */
  interest(fd: number, events: number): void;
  /** Calls back (with 1) after `ms` milliseconds; negative: cancel. */
  setTimer(ms: number): void;
  /** Whether the IO and timer handles keep the event loop alive. */
  setRef(io: boolean, timer: boolean): void;
  close(): void;
}

/** @internal A cross-thread inbox's owning side; see native/inbox.h. */
export interface NativeInbox {
  /** The number posters name it by (never reused in the process). */
  handle(): number;
  /** The wakeup channel's readable end: readable while messages are queued. */
  fd(): number;
  /** Up to `maxMessages` queued messages, oldest first, one Buffer each. */
  take(maxMessages: number): Buffer[];
  /** Closes the channel and the handle; returns how many messages it dropped. */
  close(): number;
}

/** @internal */
export interface NativeBinding {
  Selector: new (backend: string) => NativeSelector;
  // The calls of every loop pass are functions of the module rather than
  // methods: they find the selector by its slot (an index) instead of
  // unwrapping `this` on every call.
  add(slot: number, fd: number, events: number, trigger: NativeTrigger): void;
  modify(slot: number, fd: number, events: number, trigger: NativeTrigger): void;
  remove(slot: number, fd: number): void;
  /** Blocks the selector in `slot` up to `timeoutMs` (negative: no limit);
   * returns the number of (fd, events) pairs written to the buffer given to
   * its `setBuffer`. */
  wait(slot: number, timeoutMs: number): number;
  /** Wakes the selector a handle names, from any thread; false once it is closed. */
  wakeup(handle: number): boolean;
  /** How many selectors of this thread were collected while still open so
   * far: [made by users, made by reactors]. */
  collectedOpen(): [number, number];
  /** `kernelFd` >= 0: watch that fd with libuv; -1: a helper thread waits in
   * a mirror of the `backend` selector. `callback(kind)` runs a pass
   * (kind 0: IO, 1: timer). */
  Watcher: new (backend: string, kernelFd: number, callback: (kind: number) => void) => NativeWatcher;
  /** A new inbox holding at most `maxQueuedBytes` bytes of messages. */
  Inbox: new (maxQueuedBytes: number) => NativeInbox;
  /** Appends a message to the inbox `handle` names, from any thread:
   * throws ERR_INBOX_CLOSED, ERR_INBOX_FULL or ERR_INVALID_ARG_VALUE. */
  inboxPost(handle: number, bytes: Uint8Array): void;
  /** Backends compiled into this build, best first. */
  backends: string[];
  FD_SETSIZE: number;
  /** How the addon was configured: `portable` (NODE_SELECTORS_PORTABLE=1,
   * no Linux-only calls) and `libkqueue` (kqueue is libkqueue's, on Linux). */
  build: { portable: boolean; libkqueue: boolean };
  sys: NativeSys;
  /** The process-wide signal table of the reactors (native/signals.h). */
  signals: NativeSignals;
}

/** The reactors' signal table: each channel is the write end of a pipe whose
 * read end a reactor watches; the C handler writes the signal number (one
 * byte) to each channel that watches the signal, then chains to the action
 * installed before it. Signal numbers are 1..maxSignal, never SIGKILL/SIGSTOP. */
export interface NativeSignals {
  /** `writeFd` gets a byte for each `signum` from now on; the handler is put
   * on top of the current action (which it chains to) unless it is there. */
  watch(writeFd: number, signum: number): void;
  /** Stops that; false when it did not watch it. The last channel to stop
   * watching a signal puts back the action from before. */
  unwatch(writeFd: number, signum: number): boolean;
  /** Unwatches every signal of the channel; once it returns no handler
   * writes to `writeFd`: it may be closed. False when it watched none. */
  release(writeFd: number): boolean;
  /** Puts the handler back on top if another replaced it (libuv, when Node
   * starts or stops listening); true when it had to. */
  reinstall(signum: number): boolean;
  /** Whether the action in place for `signum` is the reactors' handler. */
  installed(signum: number): boolean;
  /** How many channels the process may have at once. */
  maxChannels: number;
  /** The highest signal number a channel may watch. */
  maxSignal: number;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('node-selectors: cannot find the package root (binding.gyp)');
    dir = parent;
  }
  return dir;
}

const require = createRequire(import.meta.url);

function load(): NativeBinding {
  // NODE_SELECTORS_ADDON points at a specific build, e.g. a sanitizer build.
  const explicit = process.env['NODE_SELECTORS_ADDON'];
  if (explicit) return require(explicit) as NativeBinding;
  const nodeGypBuild = require('node-gyp-build') as (root: string) => unknown;
  return nodeGypBuild(packageRoot()) as NativeBinding;
}

// The addon builds its objects one property at a time, and V8 turns an
// object given that many properties through its API into a dictionary, whose
// lookups optimized code cannot inline: every `sys.read` would pay a hash
// lookup for the function. A spread copy gets a fast map of its own.
function withFastProperties(raw: NativeBinding): NativeBinding {
  return { ...raw, build: { ...raw.build }, sys: { ...raw.sys, constants: { ...raw.sys.constants }, supported: { ...raw.sys.supported } } };
}

/** @internal */
export const binding: NativeBinding = withFastProperties(load());
