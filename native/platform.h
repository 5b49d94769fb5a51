// The portability layer: every system call whose form differs between the
// platforms the addon builds on goes through here, so that no other file
// (but epoll.cc and io_uring.cc, which exist only where Linux does) needs a
// Linux-only call or an #if.
//
// What the platform has is decided at configure time by feature tests
// (native/configure.mjs compiles a line of C per call and passes
// NS_HAVE_<CALL>=1), never by OS name. NODE_SELECTORS_PORTABLE=1 makes a
// Linux build report none of the calls macOS lacks, so that it compiles what
// macOS compiles and the fallbacks below run in CI; scripts/check-cross.sh
// compiles the addon against macOS's and FreeBSD's own headers and libc.
//
// Who takes which path (configure's "found:" line of each cross build):
//  - Linux: every one-call form below.
//  - FreeBSD 13.4: pipe2, dup3, SOCK_NONBLOCK | SOCK_CLOEXEC, accept4, ppoll,
//    eventfd and kqueue1 too (the Linux-style fast paths), and SO_NOSIGPIPE.
//  - macOS: none of them, so every fallback; MSG_NOSIGNAL and SO_NOSIGPIPE.
//
// Fallbacks, where a one-call form is missing:
//  - pipe2, dup3, SOCK_NONBLOCK | SOCK_CLOEXEC, accept4, kqueue1: the plain
//    call, then fcntl(F_SETFD, FD_CLOEXEC) (and fcntl(F_SETFL, O_NONBLOCK)).
//    Between the two, a fork+exec in another thread of the process can
//    inherit the new fd (the window libuv and CPython also live with on
//    macOS).
//  - ppoll: poll() with the timeout rounded up to whole milliseconds, so a
//    wait never returns before its deadline (it may overshoot by < 1 ms).
//  - eventfd: a non-blocking pipe as the wakeup channel.
//
// SIGPIPE: a send to a gone peer must be EPIPE, never a signal.
//  - MSG_NOSIGNAL on every send/sendmsg where the headers have it: Linux,
//    the BSDs, and macOS, whose SDK declares it (sys/socket.h of SDK 15.1).
//    It covers every socket, ours or not (an fd from net.Socket, one passed
//    over SCM_RIGHTS). The portable build keeps it, as macOS does, so this
//    is the path CI runs (test/sys-errors.test.ts: no SIGPIPE listener fires).
//  - SO_NOSIGPIPE, where it exists (macOS, FreeBSD; not Linux), is also set
//    on every socket we create or accept. On macOS the flag alone is not
//    enough: older SDKs did not declare MSG_NOSIGNAL, Apple documents no
//    kernel version for it, and a bundle built with SDK 15.1 loads on macOS
//    10.15/11 (the deployment targets), where nothing says the kernel
//    honours an unknown send flag. SO_NOSIGPIPE has worked on every macOS
//    release and also covers write()/writev() on those sockets. Linux has no
//    such option, so this part only compiles here (the macOS and FreeBSD
//    cross builds); it never runs in CI.
//  - Neither (no platform we build for): a send to a gone peer raises
//    SIGPIPE, which Node ignores (SIG_IGN from start-up), so it is EPIPE, as
//    for write() on a pipe (test/sys-errors.test.ts checks that one).
#pragma once

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "backend.h"
#include "errors.h"

namespace selectors {
namespace platform {

// Each returns the fd (or 0) on success, else -1 with errno set; `*syscall`
// is the name of the call that failed, for the error message.

// pipe(): both ends non-blocking and close-on-exec.
int Pipe(int fds[2], const char** syscall);

// dup2(): new_fd names old_fd's file from now on (closing what it named),
// close-on-exec (dup3 with O_CLOEXEC where it exists).
int Dup2(int old_fd, int new_fd, const char** syscall);

// socket(): non-blocking, close-on-exec, no SIGPIPE where the platform can say so.
int Socket(int family, int type, int protocol, const char** syscall);

// socketpair(): as Socket, both ends.
int SocketPair(int family, int type, int fds[2], const char** syscall);

// accept() of one pending connection, as Socket. -1 with EAGAIN when none is
// pending. EINTR and ECONNABORTED are returned to the caller, who retries.
int Accept(int listener, const char** syscall);

// The flags to OR into send()/sendmsg() so that a gone peer is EPIPE, not
// SIGPIPE (MSG_NOSIGNAL where it exists, else 0).
int SendFlags();

// poll() until `deadline`, with the finest timeout the platform has; EINTR
// is returned to the caller (RetryOnEintr resumes with the time left).
int Poll(struct pollfd* fds, nfds_t n, Deadline& deadline);
// The name of the call Poll makes, for errors.
const char* PollSyscall();
// The finest timeout Poll honours, in nanoseconds (1, or 1,000,000 for poll).
int64_t PollResolutionNs();

// The wakeup channel of a selector: an fd that becomes readable when
// written (eventfd where there is one, else a pipe), both ends non-blocking
// and close-on-exec. With an eventfd, *read_fd == *write_fd.
SysError OpenWakeChannel(int* read_fd, int* write_fd);
// Makes the channel readable: one write(2), async-signal-safe. A full
// channel is readable already, so EAGAIN is ignored.
void SignalWakeChannel(int write_fd);
// Empties the channel after a wait reported it.
void DrainWakeChannel(int read_fd);
// Closes both ends.
void CloseWakeChannel(int read_fd, int write_fd);

#ifdef NS_HAVE_KQUEUE
// kqueue(), close-on-exec (kqueue1(O_CLOEXEC) where it exists, else kqueue()
// then fcntl). A kqueue is not inherited by fork, but exec would keep it.
int Kqueue(const char** syscall);
#endif

// The fd toolkit's platform differences, one group per file of native/.
// -- native/sys_msg.cc
// -- native/sys_file.cc
// -- native/sys_tty.cc
// -- native/sys_linux.cc
// (none: each of its calls has one form, present or absent by its own
// feature test; pidfd_open's flag fallback for kernels 5.3 to 5.9 is a
// kernel difference, handled in sys_linux.cc)
// -- native/spawn.cc
// (none here: posix_spawn has one form; its addchdir file action has two
// names, chosen in spawn.cc by the SPAWN_ADDCHDIR{,_NP} feature tests, and
// kqueueWatchExit exists where the KQUEUE test passed)

}  // namespace platform
}  // namespace selectors
