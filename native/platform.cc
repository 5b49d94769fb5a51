// See platform.h: one implementation per call, the one-call form where the
// configure step found it (NS_HAVE_*), the portable sequence otherwise.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  // pipe2, accept4, ppoll in glibc's headers
#endif
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef NS_HAVE_EVENTFD
#include <sys/eventfd.h>
#endif
#ifdef NS_HAVE_KQUEUE
#include <sys/event.h>
#include <sys/time.h>
#endif

namespace selectors {
namespace platform {
namespace {

// Closes fd keeping errno, for the error paths.
void CloseKeepErrno(int fd) {
  int err = errno;
  close(fd);
  errno = err;
}

// fcntl after the call: the fallback for the one-call flags.
int SetCloexecNonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -1;
  return 0;
}

// Everything a new socket needs beyond its creation: the flags unless the
// creating call set them atomically (`flags_set`), and SO_NOSIGPIPE where it
// exists (platform.h says why macOS sets it although it has MSG_NOSIGNAL).
int PrepareSocket(int fd, bool flags_set, const char** syscall) {
  if (!flags_set && SetCloexecNonblock(fd) < 0) {
    *syscall = "fcntl";
    return -1;
  }
#ifdef NS_HAVE_SO_NOSIGPIPE
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0) {
    *syscall = "setsockopt";
    return -1;
  }
#endif
  return 0;
}

#ifdef NS_HAVE_SOCK_FLAGS
constexpr int kSocketFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
#else
constexpr int kSocketFlags = 0;
#endif
constexpr bool kSocketFlagsSet = kSocketFlags != 0;

}  // namespace

int Pipe(int fds[2], const char** syscall) {
#ifdef NS_HAVE_PIPE2
  *syscall = "pipe2";
  return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
#else
  *syscall = "pipe";
  if (pipe(fds) < 0) return -1;
  for (int i = 0; i < 2; i++) {
    if (SetCloexecNonblock(fds[i]) < 0) {
      CloseKeepErrno(fds[0]);
      CloseKeepErrno(fds[1]);
      *syscall = "fcntl";
      return -1;
    }
  }
  return 0;
#endif
}

int Dup2(int old_fd, int new_fd, const char** syscall) {
  int r;
#ifdef NS_HAVE_DUP3
  // dup3 sets close-on-exec atomically, but refuses old == new, which
  // dup2 defines as a check of old_fd.
  if (old_fd != new_fd) {
    do r = dup3(old_fd, new_fd, O_CLOEXEC);
    while (r < 0 && errno == EINTR);
    *syscall = "dup3";
    return r;
  }
#endif
  do r = dup2(old_fd, new_fd);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    *syscall = "dup2";
    return -1;
  }
  if (old_fd != new_fd && fcntl(new_fd, F_SETFD, FD_CLOEXEC) < 0) {
    *syscall = "fcntl";
    return -1;
  }
  return new_fd;
}

int Socket(int family, int type, int protocol, const char** syscall) {
  *syscall = "socket";
  int fd = socket(family, type | kSocketFlags, protocol);
  if (fd < 0) return -1;
  if (PrepareSocket(fd, kSocketFlagsSet, syscall) < 0) {
    CloseKeepErrno(fd);
    return -1;
  }
  return fd;
}

int SocketPair(int family, int type, int fds[2], const char** syscall) {
  *syscall = "socketpair";
  if (socketpair(family, type | kSocketFlags, 0, fds) < 0) return -1;
  for (int i = 0; i < 2; i++) {
    if (PrepareSocket(fds[i], kSocketFlagsSet, syscall) < 0) {
      CloseKeepErrno(fds[0]);
      CloseKeepErrno(fds[1]);
      return -1;
    }
  }
  return 0;
}

int Accept(int listener, const char** syscall) {
#ifdef NS_HAVE_ACCEPT4
  *syscall = "accept4";
  int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  bool flags_set = true;
#else
  *syscall = "accept";
  int fd = accept(listener, nullptr, nullptr);
  // Whether an accepted socket inherits O_NONBLOCK from its listener differs
  // between kernels (BSDs: yes, Linux: no), so the flags are always set here.
  bool flags_set = false;
#endif
  if (fd < 0) return -1;
  // SO_NOSIGPIPE too where it exists (FreeBSD has accept4 and SO_NOSIGPIPE).
  if (PrepareSocket(fd, flags_set, syscall) < 0) {
    CloseKeepErrno(fd);
    return -1;
  }
  return fd;
}

int SendFlags() {
#ifdef NS_HAVE_MSG_NOSIGNAL
  return MSG_NOSIGNAL;
#else
  return 0;
#endif
}

int Poll(struct pollfd* fds, nfds_t n, Deadline& deadline) {
#ifdef NS_HAVE_PPOLL
  return ppoll(fds, n, deadline.Remaining(), nullptr);
#else
  return poll(fds, n, deadline.RemainingMillisRoundedUp());
#endif
}

const char* PollSyscall() {
#ifdef NS_HAVE_PPOLL
  return "ppoll";
#else
  return "poll";
#endif
}

int64_t PollResolutionNs() {
#ifdef NS_HAVE_PPOLL
  return 1;
#else
  return 1000000;
#endif
}

SysError OpenWakeChannel(int* read_fd, int* write_fd) {
#ifdef NS_HAVE_EVENTFD
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Fail(errno, "eventfd");
  *read_fd = *write_fd = fd;
#else
  int fds[2];
  const char* syscall = nullptr;
  if (Pipe(fds, &syscall) < 0) return Fail(errno, syscall);
  *read_fd = fds[0];
  *write_fd = fds[1];
#endif
  return Ok();
}

void SignalWakeChannel(int write_fd) {
  // 8 bytes: what an eventfd takes; one wakeup in a pipe.
  uint64_t one = 1;
  ssize_t r;
  do r = write(write_fd, &one, sizeof one);
  while (r < 0 && errno == EINTR);
}

void DrainWakeChannel(int read_fd) {
  // An eventfd empties in one read; a pipe may hold several wakeups.
  uint64_t buf[8];
  ssize_t r;
  do r = read(read_fd, buf, sizeof buf);
  while (r > 0 || (r < 0 && errno == EINTR));
}

void CloseWakeChannel(int read_fd, int write_fd) {
  if (write_fd >= 0 && write_fd != read_fd) close(write_fd);
  if (read_fd >= 0) close(read_fd);
}

#ifdef NS_HAVE_KQUEUE
int Kqueue(const char** syscall) {
#ifdef NS_HAVE_KQUEUE1
  *syscall = "kqueue1";
  return kqueue1(O_CLOEXEC);
#else
  *syscall = "kqueue";
  int kq = kqueue();
  if (kq < 0) return -1;
  if (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0) {
    CloseKeepErrno(kq);
    *syscall = "fcntl";
    return -1;
  }
  return kq;
#endif
}
#endif

}  // namespace platform
}  // namespace selectors
