// fd-level system calls for JavaScript. Arguments are validated in
// TypeScript first; the native side re-checks buffer bounds so that no call
// can read or write outside the caller's memory, whatever it is given.
// A call that would block returns -1; every other failure throws a system error.
#pragma once

#include <napi.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

namespace selectors {

// The object exported as `sys`.
Napi::Object SysExports(Napi::Env env);

// Adds the socket calls and the `constants` object (native/sys_net.cc).
void AddNetExports(Napi::Env env, Napi::Object sys);

// Each adds its calls to `sys`, its constants to `sys.constants`, and to
// `supported` one boolean per optional call (false where this platform or
// build lacks it; the function is then not exported and lib/sys/ throws
// ERR_NOT_SUPPORTED). Called after AddNetExports.
// Datagrams, multicast, messages that carry fds, peer credentials (native/sys_msg.cc).
void AddMsgExports(Napi::Env env, Napi::Object sys, Napi::Object supported);
// open, readv, sendfile (native/sys_file.cc).
void AddFileExports(Napi::Env env, Napi::Object sys, Napi::Object supported);
// Terminals and serial lines (native/sys_tty.cc).
void AddTtyExports(Napi::Env env, Napi::Object sys, Napi::Object supported);
// Linux's event fds: eventfd, timerfd, inotify, pidfd (native/sys_linux.cc).
void AddLinuxExports(Napi::Env env, Napi::Object sys, Napi::Object supported);
// Child processes: spawn, waitpid, kqueueWatchExit (native/spawn.cc).
void AddSpawnExports(Napi::Env env, Napi::Object sys, Napi::Object supported);

// The bytes [offset, offset + length) of a Uint8Array, bounds-checked:
// `args` points at the values buf, offset, length. With `whole`, only buf is
// read and the range is all of it (lib/sys/ passes just the buffer then,
// which saves two number conversions on the commonest call).
struct ByteRange {
  uint8_t* data;
  size_t length;
};
ByteRange GetByteRange(napi_env env, const napi_value* args, bool whole = false);

// The bytes of one Uint8Array of a scatter/gather call (readv, writev,
// sendmsg) as an iovec, or a TypeError "every <what> must be a Uint8Array".
struct iovec ChunkIovec(napi_env env, napi_value chunk, const char* what);

// Returns `r` for a successful call, -1 when the call would block, and throws
// the system error otherwise.
Napi::Value ResultOrWouldBlock(Napi::Env env, ssize_t r, const char* syscall);

}  // namespace selectors
