// Files and devices: open (always O_NONBLOCK | O_CLOEXEC), readv and
// sendfile.
//
// lib/sys/files.ts has checked every argument; this file converts and
// calls, re-checking only what memory safety needs (a Uint8Array, a path
// without NUL), so that a direct caller of the addon cannot make it touch
// memory it was not given.
//
// sendfile has three forms, chosen by native/configure.mjs's feature tests
// (never by OS name):
//   NS_HAVE_SENDFILE_LINUX    sendfile(out, in, &offset, count) -> bytes sent
//   NS_HAVE_SENDFILE_FREEBSD  sendfile(in, out, offset, nbytes, hdtr, &sbytes, flags) -> 0 | -1
//   NS_HAVE_SENDFILE_DARWIN   sendfile(in, out, offset, &len, hdtr, flags) -> 0 | -1
// Every form reads the input file at `offset` without moving its file
// offset (as pread does). The BSD forms send only to a stream socket, and
// may report bytes sent together with EAGAIN (or EINTR): those bytes are the
// result, never -1. Where the platform has no sendfile, or its sendfile
// refuses this pair of fds (a pipe or a file as the output on macOS and
// FreeBSD, an output opened O_APPEND on Linux), one pread of at most 64 KiB
// and one write do the same job: still one bounded, non-blocking step that
// leaves the input's offset alone.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef NS_HAVE_SENDFILE_LINUX
#include <sys/sendfile.h>
#endif
#if defined(NS_HAVE_SENDFILE_FREEBSD) || defined(NS_HAVE_SENDFILE_DARWIN)
#include <sys/socket.h>
#endif

#include <string>

#include "errors.h"
#include "fast_call.h"
#include "sys.h"

namespace selectors {

namespace {

// The flags open() takes from JavaScript; the rest are refused (by
// lib/sys/files.ts, and again here).
constexpr int kOpenFlags = O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_EXCL | O_NOCTTY;

// open(path, flags, mode): the new fd, non-blocking and close-on-exec in the
// one call (O_CLOEXEC is POSIX.1-2008: Linux, macOS and the BSDs have it).
// EINTR (a FIFO's open waits for its other end only without O_NONBLOCK, but
// a slow device's open may still be interrupted) is retried.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) {
    ThrowTypeError(env, "ERR_INVALID_ARG_VALUE", "path must not contain NUL");
  }
  int flags = Int32Arg(info, 1);
  if ((flags & ~kOpenFlags) != 0) ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "unknown open flags");
  int mode = Int32Arg(info, 2);
  if (mode < 0 || mode > 07777) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "mode must be in 0..0o7777");
  int fd;
  do fd = open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC, static_cast<mode_t>(mode));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowErrno(env, errno, "open");
  return Napi::Number::New(env, fd);
}

// readv(fd, bufs): one scattered read into an array of Uint8Arrays (at most
// IOV_MAX); bytes read, 0 at end of stream, -1 when it would block.
Napi::Value Readv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  if (!info[1].IsArray()) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "bufs must be an array of Uint8Arrays");
  Napi::Array bufs = info[1].As<Napi::Array>();
  uint32_t count = bufs.Length();
  if (count > IOV_MAX) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "readv takes at most IOV_MAX buffers");
  iovec iov[IOV_MAX];
  for (uint32_t i = 0; i < count; i++) iov[i] = ChunkIovec(env, bufs.Get(i), "buffer");
  ssize_t r;
  do r = readv(fd, iov, static_cast<int>(count));
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "readv");
}

// The most one sendfile call moves: Linux's own limit, which the BSD forms
// share here so that a result always fits a Smi-sized ssize_t.
constexpr size_t kMaxSend = 0x7ffff000;
// What the fallback moves per call.
constexpr size_t kFallbackChunk = 64 * 1024;

// One pread of the input at `offset` and one write of what it read. A
// partial or refused write reports what went (or -1, EAGAIN): the bytes
// not written are read again by the next call, since the input's offset
// never moved. Returns bytes written, or -1 with errno and *syscall set.
ssize_t CopyChunk(int out_fd, int in_fd, off_t offset, size_t count, const char** syscall) {
  uint8_t buf[kFallbackChunk];
  size_t want = count < sizeof(buf) ? count : sizeof(buf);
  ssize_t got;
  do got = pread(in_fd, buf, want, offset);
  while (got < 0 && errno == EINTR);
  if (got <= 0) {
    *syscall = "pread";
    return got;
  }
  ssize_t put;
  do put = write(out_fd, buf, static_cast<size_t>(got));
  while (put < 0 && errno == EINTR);
  *syscall = "write";
  return put;
}

// Whether the platform's sendfile refused this kind of fd (rather than
// failing), so that the pread/write fallback should do the job.
[[maybe_unused]] bool RefusedFdKind(int err) {
  return err == EINVAL || err == ENOSYS || err == ENOTSOCK || err == EOPNOTSUPP
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
         || err == ENOTSUP
#endif
      ;
}

// The platform's sendfile: bytes sent (0 at the input's end), or -1 with
// errno (EAGAIN: nothing went) and *syscall set.
ssize_t SendFile(int out_fd, int in_fd, off_t offset, size_t count, const char** syscall) {
  *syscall = "sendfile";
#if defined(NS_HAVE_SENDFILE_LINUX)
  off_t off = offset;
  ssize_t r;
  do r = sendfile(out_fd, in_fd, &off, count);
  while (r < 0 && errno == EINTR);
  if (r < 0 && RefusedFdKind(errno)) return CopyChunk(out_fd, in_fd, offset, count, syscall);
  return r;
#elif defined(NS_HAVE_SENDFILE_FREEBSD) || defined(NS_HAVE_SENDFILE_DARWIN)
  for (;;) {
#if defined(NS_HAVE_SENDFILE_FREEBSD)
    off_t sent = 0;
    int r = sendfile(in_fd, out_fd, offset, count, nullptr, &sent, 0);
#else
    off_t sent = static_cast<off_t>(count);  // in: how many; out: how many went
    int r = sendfile(in_fd, out_fd, offset, &sent, nullptr, 0);
#endif
    if (r == 0) return static_cast<ssize_t>(sent);
    // Bytes that went before the socket filled up (EAGAIN) or a signal came
    // (EINTR) are the result; the caller sends the rest later.
    if ((errno == EAGAIN || errno == EINTR) && sent > 0) return static_cast<ssize_t>(sent);
    if (errno == EINTR) continue;
    if (RefusedFdKind(errno)) return CopyChunk(out_fd, in_fd, offset, count, syscall);
    return -1;
  }
#else
  return CopyChunk(out_fd, in_fd, offset, count, syscall);
#endif
}

// sendfile(outFd, inFd, offset, count): bytes sent from the input file at
// `offset` (its own offset unchanged), 0 at its end or for count 0, -1 when
// the output would block with nothing sent.
Napi::Value Sendfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int out_fd = Int32Arg(info, 0);
  int in_fd = Int32Arg(info, 1);
  double offset = DoubleArg(env, info[2]);
  double count = DoubleArg(env, info[3]);
  // 2^53: the integers a double holds exactly, and well inside off_t.
  constexpr double kMaxSafe = 9007199254740991.0;
  if (!(offset >= 0 && offset <= kMaxSafe) || !(count >= 0 && count <= kMaxSafe)) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "offset and count must be integers in [0, 2^53 - 1]");
  }
  // Count 0 sends nothing: the BSD forms would read it as "to the end".
  if (count == 0) return Napi::Number::New(env, 0);
  size_t n = count > static_cast<double>(kMaxSend) ? kMaxSend : static_cast<size_t>(count);
  const char* syscall = "sendfile";
  ssize_t r = SendFile(out_fd, in_fd, static_cast<off_t>(offset), n, &syscall);
  return ResultOrWouldBlock(env, r, syscall);
}

}  // namespace

void AddFileExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  sys.Set("open", Napi::Function::New<Open>(env, "open"));
  sys.Set("readv", Napi::Function::New<Readv>(env, "readv"));
  sys.Set("sendfile", Napi::Function::New<Sendfile>(env, "sendfile"));
  (void)supported;  // every call here exists everywhere (sendfile by its fallback)

  Napi::Object c = sys.Get("constants").As<Napi::Object>();
  auto set = [&](const char* name, int value) { c.Set(name, Napi::Number::New(env, value)); };
  set("O_RDONLY", O_RDONLY);
  set("O_WRONLY", O_WRONLY);
  set("O_RDWR", O_RDWR);
  set("O_CREAT", O_CREAT);
  set("O_TRUNC", O_TRUNC);
  set("O_APPEND", O_APPEND);
  set("O_EXCL", O_EXCL);
  set("O_NOCTTY", O_NOCTTY);
  set("O_ACCMODE", O_ACCMODE);
  // Which sendfile this build calls: 'linux', 'freebsd', 'darwin', or
  // 'fallback' (pread and write).
#if defined(NS_HAVE_SENDFILE_LINUX)
  const char* form = "linux";
#elif defined(NS_HAVE_SENDFILE_FREEBSD)
  const char* form = "freebsd";
#elif defined(NS_HAVE_SENDFILE_DARWIN)
  const char* form = "darwin";
#else
  const char* form = "fallback";
#endif
  c.Set("SENDFILE_FORM", Napi::String::New(env, form));
}

}  // namespace selectors
