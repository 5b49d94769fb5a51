// Socket addresses between JavaScript and the kernel, shared by the socket
// calls (native/sys_net.cc, which defines these) and the datagram and
// message calls (native/sys_msg.cc).
#pragma once

#include <napi.h>
#include <sys/socket.h>

namespace selectors {

// An address in the form the kernel takes it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

// `host` with a `port` (a number) is an IPv4 or IPv6 address (an IPv6 one
// may carry a "%scope" suffix, a zone name or number); with `port`
// undefined, `host` is the path of a Unix-domain socket (starting with NUL:
// a Linux abstract name). Throws ERR_INVALID_IP_ADDRESS, ERR_SOCKET_BAD_PORT
// or ERR_INVALID_ARG_VALUE for what it cannot parse.
SocketAddress ParseAddress(napi_env env, napi_value host, napi_value port);

// { family, address, port } for IP sockets, { family, path } for Unix ones
// (path '' for an unnamed socket), { family } for any other family.
Napi::Object AddressObject(Napi::Env env, const sockaddr_storage& storage, socklen_t length);

// Whether an address the kernel reported names nobody: no bytes at all, or
// a Unix socket without a path (an unbound or socketpair sender). Platforms
// differ between the two forms; recvfrom and recvmsg report both as null.
bool IsUnnamed(const sockaddr_storage& storage, socklen_t length);

}  // namespace selectors
