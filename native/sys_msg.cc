// Datagrams (sendto/recvfrom), multicast membership, messages that carry
// fds (sendmsg/recvmsg with SCM_RIGHTS) and peer credentials.
//
// Same conventions as native/sys_net.cc: lib/sys/msg.ts has checked the
// arguments, this file converts them without trusting a buffer or an
// address; "would block" is -1 (or null for an object result); EINTR is
// retried; every other failure throws through ThrowErrno.
//
// Platform differences, decided by native/configure.mjs:
//  - MSG_CMSG_CLOEXEC (Linux, FreeBSD) makes every received fd close-on-exec
//    inside recvmsg itself. Elsewhere (macOS) each received fd gets
//    FD_CLOEXEC by fcntl as soon as recvmsg returns: between the two calls a
//    fork+exec on another thread of this process can inherit it (the window
//    CPython and libuv leave open there too).
//  - peer credentials: SO_PEERCRED (Linux, struct ucred with the pid);
//    LOCAL_PEERCRED (FreeBSD, macOS: struct xucred, whose pid field exists on
//    FreeBSD 13, while macOS has LOCAL_PEERPID); else getpeereid (no pid);
//    else the call is not exported at all.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  // struct ucred in glibc's <sys/socket.h>
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#if defined(NS_HAVE_LOCAL_PEERCRED) || defined(NS_HAVE_XUCRED_CR_PID)
#include <sys/ucred.h>
#endif

#include "errors.h"
#include "fast_call.h"
#include "platform.h"
#include "sockaddr.h"
#include "sys.h"

namespace selectors {

namespace {

// The most fds one sendmsg carries and one recvmsg keeps: Linux's
// SCM_MAX_FD, the smallest limit of the kernels we build for.
constexpr uint32_t kMaxFds = 253;

// recvfrom's scratch buffer, shared with lib/sys/msg.ts: the sender's
// address as the kernel wrote it, then its length and the truncation flag
// as two int32s.
constexpr size_t kScratchAddressBytes = sizeof(sockaddr_storage);
constexpr size_t kScratchBytes = kScratchAddressBytes + 2 * sizeof(int32_t);

#ifdef NS_HAVE_MSG_CMSG_CLOEXEC
constexpr int kRecvFlags = MSG_CMSG_CLOEXEC;
#else
constexpr int kRecvFlags = 0;
#endif

uint8_t* ScratchArg(napi_env env, napi_value value) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array || length < kScratchBytes) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "the address scratch must be a Uint8Array of SOCKADDR_SCRATCH bytes");
  }
  return static_cast<uint8_t*>(data);
}

// sendto(fd, buf, host, port): one datagram to an IP address and port, or
// (port undefined) to a Unix datagram socket's path.
napi_value SendTo(napi_env env, const napi_value (&args)[4], size_t) {
  int fd = Int32Arg(env, args[0]);
  ByteRange range = GetByteRange(env, &args[1], true);
  SocketAddress addr = ParseAddress(env, args[2], args[3]);
  ssize_t r;
  do r = sendto(fd, range.data, range.length, platform::SendFlags(), addr.get(), addr.length);
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "sendto");
}

// recvfrom(fd, buf, scratch): one datagram into buf; bytes read or -1.
// The sender's address, its length and whether the datagram was longer
// than buf go to `scratch`, which lib/sys/msg.ts turns into an address
// object only when the sender differs from the last one (no object per
// datagram from the same peer).
napi_value RecvFrom(napi_env env, const napi_value (&args)[3], size_t) {
  int fd = Int32Arg(env, args[0]);
  ByteRange range = GetByteRange(env, &args[1], true);
  uint8_t* scratch = ScratchArg(env, args[2]);
  sockaddr_storage storage;
  iovec iov{range.data, range.length};
  msghdr msg{};
  msg.msg_name = &storage;
  msg.msg_namelen = sizeof(storage);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r;
  do {
    msg.msg_namelen = sizeof(storage);
    r = recvmsg(fd, &msg, 0);
  } while (r < 0 && errno == EINTR);
  if (r >= 0) {
    int32_t meta[2] = {static_cast<int32_t>(msg.msg_namelen), (msg.msg_flags & MSG_TRUNC) != 0 ? 1 : 0};
    if (meta[0] > static_cast<int32_t>(sizeof(storage))) meta[0] = sizeof(storage);
    memcpy(scratch, &storage, static_cast<size_t>(meta[0]));
    memcpy(scratch + kScratchAddressBytes, meta, sizeof(meta));
  }
  return ResultOrWouldBlock(env, r, "recvfrom");
}

// formatAddress(scratch, length): the address recvfrom left in scratch, as
// getsockname gives it, or null for an unnamed sender.
Napi::Value FormatAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* scratch = ScratchArg(env, info[0]);
  int32_t length = Int32Arg(info, 1);
  if (length < 0 || length > static_cast<int32_t>(kScratchAddressBytes)) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "address length out of range");
  }
  sockaddr_storage storage{};
  memcpy(&storage, scratch, static_cast<size_t>(length));
  if (IsUnnamed(storage, static_cast<socklen_t>(length))) return env.Null();
  return AddressObject(env, storage, static_cast<socklen_t>(length));
}

// membership(fd, join, group, iface): IP_ADD/DROP_MEMBERSHIP for an IPv4
// group (iface: an IPv4 address, or undefined for the kernel's choice),
// IPV6_JOIN/LEAVE_GROUP for an IPv6 one (iface: an index, a name, or
// undefined/0 for the kernel's choice).
Napi::Value Membership(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  bool join = info[1].ToBoolean().Value();
  std::string group = info[2].As<Napi::String>().Utf8Value();
  Napi::Value iface = info[3];
  in_addr group4;
  in6_addr group6;
  if (inet_pton(AF_INET, group.c_str(), &group4) == 1) {
    ip_mreq m{};
    m.imr_multiaddr = group4;
    m.imr_interface.s_addr = htonl(INADDR_ANY);
    if (!iface.IsUndefined()) {
      if (!iface.IsString() || inet_pton(AF_INET, iface.As<Napi::String>().Utf8Value().c_str(), &m.imr_interface) != 1) {
        ThrowTypeError(env, "ERR_INVALID_IP_ADDRESS", "the interface of an IPv4 group must be an IPv4 address");
      }
    }
    if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof(m)) < 0) {
      ThrowErrno(env, errno, "setsockopt");
    }
    return env.Undefined();
  }
  if (inet_pton(AF_INET6, group.c_str(), &group6) != 1) {
    ThrowTypeError(env, "ERR_INVALID_IP_ADDRESS", "the group must be an IPv4 or IPv6 address");
  }
  ipv6_mreq m{};
  m.ipv6mr_multiaddr = group6;
  if (iface.IsString()) {
    unsigned index = if_nametoindex(iface.As<Napi::String>().Utf8Value().c_str());
    if (index == 0) ThrowErrno(env, errno != 0 ? errno : ENXIO, "if_nametoindex");
    m.ipv6mr_interface = index;
  } else if (!iface.IsUndefined()) {
    double index = iface.As<Napi::Number>().DoubleValue();
    if (!(index >= 0 && index <= UINT32_MAX)) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "interface index out of range");
    m.ipv6mr_interface = static_cast<unsigned>(index);
  }
  if (setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &m, sizeof(m)) < 0) {
    ThrowErrno(env, errno, "setsockopt");
  }
  return env.Undefined();
}

// sendmsg(fd, chunks, fds, host, port): chunks a Uint8Array or an array of
// them (at most IOV_MAX); fds an array of fds (at most kMaxFds) or
// undefined; host undefined for a connected socket. The kernel duplicates
// the fds into the message: the caller still owns its own.
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  iovec iov[IOV_MAX];
  size_t count = 0;
  if (info[1].IsTypedArray()) {
    iov[count++] = ChunkIovec(env, info[1], "chunk");
  } else {
    Napi::Array chunks = info[1].As<Napi::Array>();
    if (chunks.Length() > IOV_MAX) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "sendmsg takes at most IOV_MAX chunks");
    for (uint32_t i = 0; i < chunks.Length(); i++) iov[count++] = ChunkIovec(env, chunks.Get(i), "chunk");
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  // Room for kMaxFds ints, aligned for cmsghdr.
  union {
    char bytes[CMSG_SPACE(sizeof(int) * kMaxFds)];
    cmsghdr align;
  } control;
  if (!info[2].IsUndefined()) {
    Napi::Array fds = info[2].As<Napi::Array>();
    uint32_t n = fds.Length();
    if (n > kMaxFds) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "sendmsg passes at most 253 fds");
    if (n > 0) {
      memset(&control, 0, sizeof(control));
      msg.msg_control = control.bytes;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
      unsigned char* data = CMSG_DATA(cmsg);
      for (uint32_t i = 0; i < n; i++) {
        int passed = Int32Arg(env, fds.Get(i));
        memcpy(data + i * sizeof(int), &passed, sizeof(int));
      }
    }
  }
  SocketAddress addr;
  if (!info[3].IsUndefined()) {
    addr = ParseAddress(env, info[3], info[4]);
    msg.msg_name = addr.get();
    msg.msg_namelen = addr.length;
  }
  ssize_t r;
  do r = sendmsg(fd, &msg, platform::SendFlags());
  while (r < 0 && errno == EINTR);
  return ResultOrWouldBlock(env, r, "sendmsg");
}

// Makes a received fd close-on-exec where recvmsg could not (see the top).
void MarkCloseOnExec(int fd) {
  if (kRecvFlags == 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// recvmsg(fd, buf, maxFds): { bytes, fds, address, truncated, fdsTruncated }
// or null when nothing is there. The control buffer has room for kMaxFds
// fds twice over (a stream socket may deliver the fds of two sends in one
// call on some kernels) whatever maxFds is, so that fds beyond maxFds
// arrive here and are closed rather than dropped somewhere we cannot see;
// MSG_CTRUNC (even more than that) is reported as fdsTruncated, and the fds
// of a control message cut short are closed too. No fd is ever left open
// without being returned.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  napi_value args[1] = {info[1]};
  ByteRange range = GetByteRange(env, args, true);
  int32_t max_fds = Int32Arg(info, 2);
  if (max_fds < 0 || max_fds > static_cast<int32_t>(kMaxFds)) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "maxFds must be in 0..253");
  union {
    char bytes[2 * CMSG_SPACE(sizeof(int) * kMaxFds) + 256];
    cmsghdr align;
  } control;
  sockaddr_storage storage;
  iovec iov{range.data, range.length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r;
  do {
    msg.msg_name = &storage;
    msg.msg_namelen = sizeof(storage);
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof(control.bytes);
    msg.msg_flags = 0;
    r = recvmsg(fd, &msg, kRecvFlags);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, errno, "recvmsg");
  }
  int kept[kMaxFds];
  uint32_t kept_count = 0;
  bool fds_truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  const char* control_end = control.bytes + (msg.msg_controllen < sizeof(control.bytes) ? msg.msg_controllen : sizeof(control.bytes));
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;  // nothing of ours
    const unsigned char* data = CMSG_DATA(cmsg);
    // The fds this message holds, counted within what the buffer received
    // even if its header claims more (a control message cut short).
    size_t claimed = cmsg->cmsg_len > CMSG_LEN(0) ? cmsg->cmsg_len - CMSG_LEN(0) : 0;
    size_t present = reinterpret_cast<const char*>(data) < control_end ? static_cast<size_t>(control_end - reinterpret_cast<const char*>(data)) : 0;
    size_t n = (claimed < present ? claimed : present) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int received;
      memcpy(&received, data + i * sizeof(int), sizeof(int));
      if (kept_count < static_cast<uint32_t>(max_fds)) {
        MarkCloseOnExec(received);
        kept[kept_count++] = received;
      } else {
        close(received);
        fds_truncated = true;
      }
    }
  }
  // From here on the kept fds are the caller's; should building the result
  // fail (out of memory), they are closed rather than lost.
  try {
    Napi::Array fds = Napi::Array::New(env, kept_count);
    for (uint32_t i = 0; i < kept_count; i++) fds.Set(i, Napi::Number::New(env, kept[i]));
    Napi::Object result = Napi::Object::New(env);
    result.Set("bytes", Napi::Number::New(env, static_cast<double>(r)));
    result.Set("fds", fds);
    socklen_t namelen = msg.msg_namelen < sizeof(storage) ? msg.msg_namelen : sizeof(storage);
    result.Set("address", IsUnnamed(storage, namelen) ? env.Null() : Napi::Value(AddressObject(env, storage, namelen)));
    result.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_TRUNC) != 0));
    result.Set("fdsTruncated", Napi::Boolean::New(env, fds_truncated));
    return result;
  } catch (...) {
    for (uint32_t i = 0; i < kept_count; i++) close(kept[i]);
    throw;
  }
}

#if defined(NS_HAVE_SO_PEERCRED) || defined(NS_HAVE_LOCAL_PEERCRED) || defined(NS_HAVE_GETPEEREID)
#define NS_HAVE_PEER_CREDENTIALS 1

// peerCredentials(fd): { pid, uid, gid } of the process at the other end of
// a Unix socket, as the kernel recorded it at connect (or socketpair) time;
// pid -1 where the platform does not say.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int32Arg(info, 0);
  double pid = -1;
  double uid;
  double gid;
#if defined(NS_HAVE_SO_PEERCRED)
  ucred cred{};
  socklen_t length = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) ThrowErrno(env, errno, "getsockopt");
  // Linux gives pid 0 for a socket whose peer it does not know (no peer).
  if (cred.pid > 0) pid = cred.pid;
  uid = cred.uid;
  gid = cred.gid;
#elif defined(NS_HAVE_LOCAL_PEERCRED)
  xucred cred{};
  socklen_t length = sizeof(cred);
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERCRED, &cred, &length) < 0) ThrowErrno(env, errno, "getsockopt");
  if (cred.cr_version != XUCRED_VERSION) ThrowErrno(env, EINVAL, "getsockopt");
  uid = cred.cr_uid;
  gid = cred.cr_ngroups > 0 ? static_cast<double>(cred.cr_groups[0]) : -1;
#if defined(NS_HAVE_XUCRED_CR_PID)
  if (cred.cr_pid > 0) pid = cred.cr_pid;
#elif defined(NS_HAVE_LOCAL_PEERPID)
  pid_t peer = 0;
  socklen_t pid_length = sizeof(peer);
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &peer, &pid_length) == 0 && peer > 0) pid = peer;
#endif
#else
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) < 0) ThrowErrno(env, errno, "getpeereid");
  uid = u;
  gid = g;
#endif
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("uid", Napi::Number::New(env, uid));
  result.Set("gid", Napi::Number::New(env, gid));
  return result;
}
#endif

}  // namespace

void AddMsgExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  sys.Set("sendto", NewFastFunction<4, SendTo>(env, "sendto"));
  sys.Set("recvfrom", NewFastFunction<3, RecvFrom>(env, "recvfrom"));
  sys.Set("formatAddress", Napi::Function::New<FormatAddress>(env, "formatAddress"));
  sys.Set("membership", Napi::Function::New<Membership>(env, "membership"));
  sys.Set("sendmsg", Napi::Function::New<SendMsg>(env, "sendmsg"));
  sys.Set("recvmsg", Napi::Function::New<RecvMsg>(env, "recvmsg"));
#ifdef NS_HAVE_PEER_CREDENTIALS
  sys.Set("peerCredentials", Napi::Function::New<PeerCredentials>(env, "peerCredentials"));
  supported.Set("peerCredentials", true);
#else
  supported.Set("peerCredentials", false);
#endif

  Napi::Object c = sys.Get("constants").As<Napi::Object>();
  auto set = [&](const char* name, int value) { c.Set(name, Napi::Number::New(env, value)); };
#ifdef SOCK_SEQPACKET
  set("SOCK_SEQPACKET", SOCK_SEQPACKET);
#endif
  set("IPPROTO_IP", IPPROTO_IP);
  set("IP_MULTICAST_TTL", IP_MULTICAST_TTL);
  set("IP_MULTICAST_LOOP", IP_MULTICAST_LOOP);
  set("IPV6_MULTICAST_HOPS", IPV6_MULTICAST_HOPS);
  set("IPV6_MULTICAST_LOOP", IPV6_MULTICAST_LOOP);
  set("SOCKADDR_SCRATCH", static_cast<int>(kScratchBytes));
  set("SOCKADDR_SIZE", static_cast<int>(kScratchAddressBytes));
  set("MAX_FDS", static_cast<int>(kMaxFds));
}

}  // namespace selectors
