#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "errors.h"
#include "fast_call.h"
#include "platform.h"

namespace selectors {

namespace {

Napi::Value FdPair(Napi::Env env, const int fds[2]) {
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, fds[0]));
  pair.Set(1u, Napi::Number::New(env, fds[1]));
  return pair;
}

// pipe(): both ends non-blocking and close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  const char* syscall = nullptr;
  if (platform::Pipe(fds, &syscall) < 0) ThrowErrno(info.Env(), errno, syscall);
  return FdPair(info.Env(), fds);
}

// socketpair(type = SOCK_STREAM): a connected AF_UNIX pair of that type
// (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET), non-blocking, close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int fds[2];
  const char* syscall = nullptr;
  int type = info[0].IsUndefined() ? SOCK_STREAM : Int32Arg(info, 0);
  if (platform::SocketPair(AF_UNIX, type, fds, &syscall) < 0) ThrowErrno(info.Env(), errno, syscall);
  return FdPair(info.Env(), fds);
}

// dup2(oldFd, newFd): see platform::Dup2.
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  const char* syscall = nullptr;
  int fd = platform::Dup2(Int32Arg(info, 0), Int32Arg(info, 1), &syscall);
  if (fd < 0) ThrowErrno(info.Env(), errno, syscall);
  return Napi::Number::New(info.Env(), fd);
}

// read(fd, buf[, offset, length]): without offset and length, all of buf.
napi_value Read(napi_env env, const napi_value (&args)[4], size_t argc) {
  int fd = Int32Arg(env, args[0]);
  ByteRange range = GetByteRange(env, &args[1], argc <= 2);
  ssize_t r;
  do r = read(fd, range.data, range.length);
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "read");
}

// write(fd, buf[, offset, length]), as read. write(2) raises SIGPIPE when the reader
// of a pipe or the peer of a socket has gone. Node sets SIGPIPE to SIG_IGN at
// start-up (and libuv keeps it so), so the call fails with EPIPE instead and
// the process lives; test/sys-errors checks this in a child process. sys.send
// adds MSG_NOSIGNAL or SO_NOSIGPIPE on top (native/platform.h).
napi_value Write(napi_env env, const napi_value (&args)[4], size_t argc) {
  int fd = Int32Arg(env, args[0]);
  ByteRange range = GetByteRange(env, &args[1], argc <= 2);
  ssize_t r;
  do r = write(fd, range.data, range.length);
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "write");
}

napi_value Close(napi_env env, const napi_value (&args)[1], size_t) {
  // No retry on EINTR: on Linux the fd is released even then, and a retry
  // could close an fd another thread has just been given.
  if (close(Int32Arg(env, args[0])) < 0 && errno != EINTR) ThrowErrno(env, errno, "close");
  return nullptr;  // undefined
}

Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  bool on = info[1].IsUndefined() || info[1].ToBoolean().Value();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowErrno(info.Env(), errno, "fcntl");
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) ThrowErrno(info.Env(), errno, "fcntl");
  return info.Env().Undefined();
}

Napi::Value GetFdFlags(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  int status = fcntl(fd, F_GETFL);
  if (status < 0) ThrowErrno(info.Env(), errno, "fcntl");
  int descriptor = fcntl(fd, F_GETFD);
  if (descriptor < 0) ThrowErrno(info.Env(), errno, "fcntl");
  Napi::Object flags = Napi::Object::New(info.Env());
  flags.Set("nonBlocking", Napi::Boolean::New(info.Env(), (status & O_NONBLOCK) != 0));
  flags.Set("closeOnExec", Napi::Boolean::New(info.Env(), (descriptor & FD_CLOEXEC) != 0));
  return flags;
}

}  // namespace

// On every read, write, recv and send: a few N-API calls, no more. lib/sys/
// has checked the arguments already (and passes no offset or length for a
// whole buffer); this re-checks what memory safety needs (a Uint8Array, the
// range inside it) so that a direct caller of the addon cannot overrun a
// buffer.
ByteRange GetByteRange(napi_env env, const napi_value* args, bool whole) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  // Fails with napi_invalid_arg for anything but a typed array; no buffer
  // handle is asked for, since only the data pointer is needed.
  if (napi_get_typedarray_info(env, args[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "the buffer must be a Uint8Array");
  }
  if (whole) return ByteRange{static_cast<uint8_t*>(data), length};
  double offset;
  double count;
  if (napi_get_value_double(env, args[1], &offset) != napi_ok || napi_get_value_double(env, args[2], &count) != napi_ok ||
      !(offset >= 0) || !(count >= 0) || offset + count > static_cast<double>(length)) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "offset and length must lie within the buffer");
  }
  return ByteRange{static_cast<uint8_t*>(data) + static_cast<size_t>(offset), static_cast<size_t>(count)};
}

struct iovec ChunkIovec(napi_env env, napi_value chunk, const char* what) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  // Fails with napi_invalid_arg for anything but a typed array.
  if (napi_get_typedarray_info(env, chunk, &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string("every ") + what + " must be a Uint8Array").c_str());
  }
  return iovec{data, length};
}

Napi::Value ResultOrWouldBlock(Napi::Env env, ssize_t r, const char* syscall) {
  // A count below 2 GiB is a Smi; only a larger transfer needs a heap number.
  if (r >= 0 && r <= INT32_MAX) return Napi::Value(env, Int32Result(env, static_cast<int32_t>(r)));
  if (r >= 0) return Napi::Number::New(env, static_cast<double>(r));
  if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Value(env, Int32Result(env, -1));
  ThrowErrno(env, errno, syscall);
}

Napi::Object SysExports(Napi::Env env) {
  Napi::Object sys = Napi::Object::New(env);
  sys.Set("pipe", Napi::Function::New<Pipe>(env, "pipe"));
  sys.Set("dup2", Napi::Function::New<Dup2>(env, "dup2"));
  sys.Set("socketpair", Napi::Function::New<SocketPair>(env, "socketpair"));
  sys.Set("read", NewFastFunction<4, Read>(env, "read"));
  sys.Set("write", NewFastFunction<4, Write>(env, "write"));
  sys.Set("close", NewFastFunction<1, Close>(env, "close"));
  sys.Set("setNonBlocking", Napi::Function::New<SetNonBlocking>(env, "setNonBlocking"));
  sys.Set("getFdFlags", Napi::Function::New<GetFdFlags>(env, "getFdFlags"));
  AddNetExports(env, sys);
  Napi::Object supported = Napi::Object::New(env);
  AddMsgExports(env, sys, supported);
  AddFileExports(env, sys, supported);
  AddTtyExports(env, sys, supported);
  AddLinuxExports(env, sys, supported);
  AddSpawnExports(env, sys, supported);
  sys.Set("supported", supported);
  return sys;
}

}  // namespace selectors
