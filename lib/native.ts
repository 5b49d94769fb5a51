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
export interface NativeSys extends NativeSysMsg, NativeSysFiles, NativeSysTty, NativeSysLinux {
  pipe(): [number, number];
  socketpair(): [number, number];
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
  recv(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
  send(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
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
export interface NativeSysMsg {}

/** @internal open, readv, sendfile (native/sys_file.cc). */
export interface NativeSysFiles {}

/** @internal Terminals (native/sys_tty.cc). */
export interface NativeSysTty {}

/** @internal Linux's event fds (native/sys_linux.cc); absent elsewhere. */
export interface NativeSysLinux {}

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
export interface NativeMsgConstants {}

/** @internal The constants of native/sys_file.cc. */
export interface NativeFileConstants {}

/** @internal The constants of native/sys_tty.cc. */
export interface NativeTtyConstants {}

/** @internal The constants of native/sys_linux.cc. */
export interface NativeLinuxConstants {}

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
