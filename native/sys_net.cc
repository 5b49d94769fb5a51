// Socket system calls for `sys`: IPv4, IPv6 and Unix-domain sockets.
//
// The TypeScript layer (lib/sys/) has already checked every argument, so
// this file converts and calls; it still never trusts a buffer range or an
// address blindly (GetByteRange, ParseAddress), so that a direct caller of the
// addon cannot make it touch memory outside what it was given.
//
// Conventions, shared with native/sys.cc:
// - every fd created here is non-blocking and close-on-exec, set atomically
//   by the creating call where the platform can (SOCK_NONBLOCK | SOCK_CLOEXEC,
//   accept4), so that no fork+exec in another thread can inherit it between
//   two syscalls, and by fcntl right after elsewhere (native/platform.h);
// - a call that would block returns -1; every other failure throws a system
//   error through ThrowErrno;
// - EINTR is retried where the call can simply be repeated.
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "errors.h"
#include "fast_call.h"
#include "platform.h"
#include "sockaddr.h"
#include "sys.h"

namespace selectors {

namespace {

[[noreturn]] void ThrowBadAddress(Napi::Env env, const char* host) {
  ThrowTypeError(env, "ERR_INVALID_IP_ADDRESS", (std::string("not an IPv4 or IPv6 address: ") + host).c_str());
}

SocketAddress ParseAddress(const Napi::CallbackInfo& info, size_t host_index) {
  return selectors::ParseAddress(info.Env(), info[host_index], info[host_index + 1]);
}

}  // namespace

// One napi call reads the host into a stack buffer: every valid host is far
// shorter (a Unix path is at most sizeof(sun_path), an IPv6 address with a
// zone under 64 bytes), so a string that fills the buffer is refused as too
// long rather than read twice. sendto pays this on every datagram.
SocketAddress ParseAddress(napi_env raw_env, napi_value host_value, napi_value port_value) {
  Napi::Env env(raw_env);
  char host[256];
  size_t size = 0;
  if (napi_get_value_string_utf8(env, host_value, host, sizeof(host), &size) != napi_ok) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "host must be a string");
  }
  // A UTF-8 character takes at most 4 bytes, so a string cut short by the
  // buffer has at least sizeof(host) - 4 bytes.
  bool too_long = size >= sizeof(host) - 4;
  SocketAddress addr;
  napi_valuetype port_type;
  if (napi_typeof(env, port_value, &port_type) != napi_ok) port_type = napi_undefined;
  if (port_type == napi_undefined) {
    sockaddr_un* un = reinterpret_cast<sockaddr_un*>(&addr.storage);
    bool abstract = size > 0 && host[0] == '\0';
    // Room for a terminating NUL, except for abstract names.
    size_t room = sizeof(un->sun_path) - (abstract ? 0 : 1);
    if (size == 0 || too_long || size > room || (!abstract && memchr(host, '\0', size) != nullptr)) {
      ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "invalid Unix socket path");
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, host, size);
    addr.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + size + (abstract ? 0 : 1));
    return addr;
  }
  if (too_long) ThrowBadAddress(env, "(too long)");
  double port;
  if (napi_get_value_double(env, port_value, &port) != napi_ok) ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "port must be a number");
  if (!(port >= 0 && port <= 65535)) ThrowRangeError(env, "ERR_SOCKET_BAD_PORT", "port must be in 0..65535");
  uint16_t nport = htons(static_cast<uint16_t>(port));

  sockaddr_in* in4 = reinterpret_cast<sockaddr_in*>(&addr.storage);
  if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = nport;
    addr.length = sizeof(sockaddr_in);
    return addr;
  }
  sockaddr_in6* in6 = reinterpret_cast<sockaddr_in6*>(&addr.storage);
  char* percent = strchr(host, '%');
  if (percent != nullptr) {
    *percent = '\0';
    const char* zone = percent + 1;
    unsigned index = if_nametoindex(zone);
    if (index == 0) {
      char* end = nullptr;
      unsigned long n = strtoul(zone, &end, 10);
      *percent = '%';
      if (*zone == '\0' || *end != '\0' || n > UINT32_MAX) ThrowBadAddress(env, host);
      *percent = '\0';
      index = static_cast<unsigned>(n);
    }
    in6->sin6_scope_id = index;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
    if (percent != nullptr) *percent = '%';
    ThrowBadAddress(env, host);
  }
  in6->sin6_family = AF_INET6;
  in6->sin6_port = nport;
  addr.length = sizeof(sockaddr_in6);
  return addr;
}

Napi::Object AddressObject(Napi::Env env, const sockaddr_storage& storage, socklen_t length) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("family", Napi::Number::New(env, storage.ss_family));
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {0};
  switch (storage.ss_family) {
    case AF_INET: {
      const sockaddr_in* in4 = reinterpret_cast<const sockaddr_in*>(&storage);
      inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
      out.Set("address", Napi::String::New(env, text));
      out.Set("port", Napi::Number::New(env, ntohs(in4->sin_port)));
      break;
    }
    case AF_INET6: {
      const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      std::string address = text;
      if (in6->sin6_scope_id != 0) address += "%" + std::to_string(in6->sin6_scope_id);
      out.Set("address", Napi::String::New(env, address));
      out.Set("port", Napi::Number::New(env, ntohs(in6->sin6_port)));
      break;
    }
    case AF_UNIX: {
      const sockaddr_un* un = reinterpret_cast<const sockaddr_un*>(&storage);
      // An unnamed socket has no path; a pathname one is NUL-terminated
      // within `length`; an abstract one is exactly `length` bytes.
      size_t n = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
      if (n > sizeof(un->sun_path)) n = sizeof(un->sun_path);
      if (n > 0 && un->sun_path[0] != '\0') n = strnlen(un->sun_path, n);
      out.Set("path", Napi::String::New(env, un->sun_path, n));
      break;
    }
    default:
      break;
  }
  return out;
}

bool IsUnnamed(const sockaddr_storage& storage, socklen_t length) {
  if (length == 0) return true;
  if (storage.ss_family != AF_UNIX) return false;
  // Linux says just the family (or nothing); a platform that fills in the
  // whole structure leaves the path zeroed. No real name is all NULs.
  const sockaddr_un* un = reinterpret_cast<const sockaddr_un*>(&storage);
  size_t n = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
  if (n > sizeof(un->sun_path)) n = sizeof(un->sun_path);
  for (size_t i = 0; i < n; i++) {
    if (un->sun_path[i] != '\0') return false;
  }
  return true;
}

namespace {

// socket(family, type)
Napi::Value Socket(const Napi::CallbackInfo& info) {
  const char* syscall = nullptr;
  int fd = platform::Socket(Int32Arg(info, 0), Int32Arg(info, 1), 0, &syscall);
  if (fd < 0) ThrowErrno(info.Env(), errno, syscall);
  return Napi::Number::New(info.Env(), fd);
}

// bind(fd, host, port) — no port: a Unix socket path.
Napi::Value Bind(const Napi::CallbackInfo& info) {
  SocketAddress addr = ParseAddress(info, 1);
  if (bind(Int32Arg(info, 0), addr.get(), addr.length) < 0) ThrowErrno(info.Env(), errno, "bind");
  return info.Env().Undefined();
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  if (listen(Int32Arg(info, 0), Int32Arg(info, 1)) < 0) ThrowErrno(info.Env(), errno, "listen");
  return info.Env().Undefined();
}

// accept(fd): the new connection's fd, or -1 when none is pending, so that a
// server can accept in a batch until -1.
napi_value Accept(napi_env env, const napi_value (&args)[1], size_t) {
  int listener = Int32Arg(env, args[0]);
  const char* syscall = nullptr;
  for (;;) {
    int fd = platform::Accept(listener, &syscall);
    if (fd >= 0) return Int32Result(env, fd);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Int32Result(env, -1);
    // EINTR: try again. ECONNABORTED: that connection was reset while it
    // waited in the queue; the next one may be fine, as for libuv and CPython.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    ThrowErrno(env, errno, syscall);
  }
}

// connect(fd, host, port): 0 when connected at once (Unix sockets, often
// loopback), -1 while a TCP connect is in progress; the outcome is read with
// getsockoptError once the fd is writable. EINTR means the same as
// EINPROGRESS: the kernel goes on connecting in the background. A Unix
// socket never connects in the background: its full backlog is EAGAIN, a
// real error (waiting for writability would not help), so it is thrown.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  SocketAddress addr = ParseAddress(info, 1);
  if (connect(Int32Arg(info, 0), addr.get(), addr.length) == 0) return Napi::Number::New(info.Env(), 0);
  if (errno == EINPROGRESS || errno == EINTR) return Napi::Number::New(info.Env(), -1);
  ThrowErrno(info.Env(), errno, "connect");
}

// getsockoptError(fd): SO_ERROR, the pending error (0 if none), which the
// kernel clears by this read.
Napi::Value GetSockoptError(const Napi::CallbackInfo& info) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(Int32Arg(info, 0), SOL_SOCKET, SO_ERROR, &value, &length) < 0) {
    ThrowErrno(info.Env(), errno, "getsockopt");
  }
  return Napi::Number::New(info.Env(), value);
}

// setsockopt(fd, level, option, value): every option `sys` allows is an int.
Napi::Value SetSockopt(const Napi::CallbackInfo& info) {
  int value = Int32Arg(info, 3);
  if (setsockopt(Int32Arg(info, 0), Int32Arg(info, 1), Int32Arg(info, 2), &value, sizeof(value)) < 0) {
    ThrowErrno(info.Env(), errno, "setsockopt");
  }
  return info.Env().Undefined();
}

Napi::Value GetSockopt(const Napi::CallbackInfo& info) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(Int32Arg(info, 0), Int32Arg(info, 1), Int32Arg(info, 2), &value, &length) < 0) {
    ThrowErrno(info.Env(), errno, "getsockopt");
  }
  return Napi::Number::New(info.Env(), value);
}

// recv(fd, buf[, offset, length, flags]): bytes read, 0 at end of stream, -1
// when nothing is there; with only fd and buf, all of buf and no flags (as
// read: three fewer conversions on the keep-alive servers' every read). With MSG_OOB, Linux says EINVAL when no urgent byte
// is pending (or it was already read, or SO_OOBINLINE is on): that is thrown,
// as it is a misuse rather than "try later"; EAGAIN (the urgent byte is
// announced but not yet here) is -1 as usual.
napi_value Recv(napi_env env, const napi_value (&args)[5], size_t argc) {
  int fd = Int32Arg(env, args[0]);
  bool whole = argc <= 2;
  ByteRange range = GetByteRange(env, &args[1], whole);
  int flags = whole ? 0 : Int32Arg(env, args[4]);
  ssize_t r;
  do r = recv(fd, range.data, range.length, flags);
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "recv");
}

// send(fd, buf[, offset, length, flags]): MSG_NOSIGNAL where the platform
// has it (and SO_NOSIGPIPE, set at creation where that exists; platform.h),
// so that a peer that has gone away is an EPIPE error, never a SIGPIPE. With
// only fd and buf, all of buf and no flags of the caller's, as recv.
napi_value Send(napi_env env, const napi_value (&args)[5], size_t argc) {
  int fd = Int32Arg(env, args[0]);
  bool whole = argc <= 2;
  ByteRange range = GetByteRange(env, &args[1], whole);
  int flags = (whole ? 0 : Int32Arg(env, args[4])) | platform::SendFlags();
  ssize_t r;
  do r = send(fd, range.data, range.length, flags);
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "send");
}

// writev(fd, chunks): one gathered write of an array of Uint8Arrays (at most
// IOV_MAX). Works on pipes as on sockets; on sockets it is sendmsg with
// the flags of send, for the same reason.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  Napi::Array chunks = info[1].As<Napi::Array>();
  uint32_t count = chunks.Length();
  if (count > IOV_MAX) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "writev takes at most IOV_MAX buffers");
  iovec iov[IOV_MAX];
  for (uint32_t i = 0; i < count; i++) iov[i] = ChunkIovec(env, chunks.Get(i), "chunk");
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t r;
  do r = sendmsg(fd, &msg, platform::SendFlags());
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == ENOTSOCK) {
    // A pipe or a file. Node ignores SIGPIPE (see sys.cc), so a closed pipe
    // reader is EPIPE here too.
    do r = writev(fd, iov, static_cast<int>(count));
    while (r < 0 && errno == EINTR);
    return ResultOrWouldBlock(env, r, "writev");
  }
  return ResultOrWouldBlock(env, r, "sendmsg");
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  if (shutdown(Int32Arg(info, 0), Int32Arg(info, 1)) < 0) ThrowErrno(info.Env(), errno, "shutdown");
  return info.Env().Undefined();
}

template <int (*Call)(int, sockaddr*, socklen_t*)>
Napi::Value SockName(const Napi::CallbackInfo& info, const char* syscall) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (Call(Int32Arg(info, 0), reinterpret_cast<sockaddr*>(&storage), &length) < 0) {
    ThrowErrno(info.Env(), errno, syscall);
  }
  return AddressObject(info.Env(), storage, length);
}

Napi::Value GetSockName(const Napi::CallbackInfo& info) { return SockName<getsockname>(info, "getsockname"); }
Napi::Value GetPeerName(const Napi::CallbackInfo& info) { return SockName<getpeername>(info, "getpeername"); }

// The platform's values, so that TypeScript never hard-codes a number.
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { c.Set(name, Napi::Number::New(env, value)); };
  set("AF_INET", AF_INET);
  set("AF_INET6", AF_INET6);
  set("AF_UNIX", AF_UNIX);
  set("SOCK_STREAM", SOCK_STREAM);
  set("SOCK_DGRAM", SOCK_DGRAM);
  set("SOL_SOCKET", SOL_SOCKET);
  set("SO_REUSEADDR", SO_REUSEADDR);
  set("SO_REUSEPORT", SO_REUSEPORT);
  set("SO_KEEPALIVE", SO_KEEPALIVE);
  set("SO_BROADCAST", SO_BROADCAST);
  set("SO_OOBINLINE", SO_OOBINLINE);
  set("SO_RCVBUF", SO_RCVBUF);
  set("SO_SNDBUF", SO_SNDBUF);
  set("IPPROTO_TCP", IPPROTO_TCP);
  set("IPPROTO_IPV6", IPPROTO_IPV6);
  set("TCP_NODELAY", TCP_NODELAY);
  set("IPV6_V6ONLY", IPV6_V6ONLY);
  set("SHUT_RD", SHUT_RD);
  set("SHUT_WR", SHUT_WR);
  set("SHUT_RDWR", SHUT_RDWR);
  set("MSG_OOB", MSG_OOB);
  set("MSG_PEEK", MSG_PEEK);
  set("SOMAXCONN", SOMAXCONN);
  set("IOV_MAX", IOV_MAX);
  // The longest Unix socket path, without its terminating NUL.
  set("UNIX_PATH_MAX", static_cast<int>(sizeof(sockaddr_un{}.sun_path) - 1));
  return c;
}

}  // namespace

void AddNetExports(Napi::Env env, Napi::Object sys) {
  sys.Set("socket", Napi::Function::New<Socket>(env, "socket"));
  sys.Set("bind", Napi::Function::New<Bind>(env, "bind"));
  sys.Set("listen", Napi::Function::New<Listen>(env, "listen"));
  sys.Set("accept", NewFastFunction<1, Accept>(env, "accept"));
  sys.Set("connect", Napi::Function::New<Connect>(env, "connect"));
  sys.Set("getsockoptError", Napi::Function::New<GetSockoptError>(env, "getsockoptError"));
  sys.Set("setsockopt", Napi::Function::New<SetSockopt>(env, "setsockopt"));
  sys.Set("getsockopt", Napi::Function::New<GetSockopt>(env, "getsockopt"));
  sys.Set("recv", NewFastFunction<5, Recv>(env, "recv"));
  sys.Set("send", NewFastFunction<5, Send>(env, "send"));
  sys.Set("writev", Napi::Function::New<Writev>(env, "writev"));
  sys.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
  sys.Set("getsockname", Napi::Function::New<GetSockName>(env, "getsockname"));
  sys.Set("getpeername", Napi::Function::New<GetPeerName>(env, "getpeername"));
  sys.Set("constants", Constants(env));
}

}  // namespace selectors
