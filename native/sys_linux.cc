// Linux's event fds: eventfd, timerfd, inotify, pidfd. Each exists only where
// its feature test passed (native/configure.mjs: EVENTFD_SEMAPHORE, TIMERFD,
// INOTIFY, PIDFD_OPEN); elsewhere its function is not exported, its
// constants are absent, and `supported` says false, so lib/sys/linux.ts
// throws ERR_NOT_SUPPORTED. Every fd made here is non-blocking and
// close-on-exec, set by the creating call itself.
//
// lib/sys/linux.ts checks every argument first; the checks repeated here are
// those that keep a direct caller of the addon away from undefined behaviour
// (a double out of range converted to an integer) or a silently different
// call (a path cut short at an embedded NUL).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  // syscall() in glibc's unistd.h
#endif
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <string>

#ifdef NS_HAVE_EVENTFD_SEMAPHORE
#include <sys/eventfd.h>
#endif
#ifdef NS_HAVE_TIMERFD
#include <sys/timerfd.h>
#endif
#ifdef NS_HAVE_INOTIFY
#include <sys/inotify.h>
#endif
#ifdef NS_HAVE_PIDFD_OPEN
#include <sys/syscall.h>
#endif

#include "errors.h"
#include "fast_call.h"

namespace selectors {

namespace {

[[maybe_unused]] Napi::Value FdResult(Napi::Env env, int fd, const char* syscall) {
  if (fd < 0) ThrowErrno(env, errno, syscall);
  return Napi::Number::New(env, fd);
}

#ifdef NS_HAVE_EVENTFD_SEMAPHORE
// eventfd(initval, semaphore): the counter starts at initval (0..2^32-1, the
// kernel's unsigned int). A read returns the 8-byte counter and zeroes it,
// or, in semaphore mode, returns 1 and decrements it; a write adds to it.
Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  double initval = DoubleArg(info.Env(), info[0]);
  if (!(initval >= 0 && initval <= UINT32_MAX) || initval != floor(initval)) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "initval must be an integer in [0, 4294967295]");
  }
  int flags = EFD_NONBLOCK | EFD_CLOEXEC;
  if (info[1].ToBoolean().Value()) flags |= EFD_SEMAPHORE;
  return FdResult(info.Env(), eventfd(static_cast<unsigned int>(initval), flags), "eventfd");
}
#endif

#ifdef NS_HAVE_TIMERFD
// The longest time timerfdSet takes: 2^31 - 1 seconds, which a 32-bit time_t
// still holds (lib/sys/linux.ts has the same bound).
constexpr double kMaxTimerMs = 2147483647000.0;

// Milliseconds (a float, to the nanosecond) as a timespec. A positive time
// never rounds to zero, which timerfd_settime would read as "disarm".
bool MsToTimespec(double ms, struct timespec* ts) {
  if (!(ms >= 0 && ms <= kMaxTimerMs)) return false;  // also NaN
  double seconds = floor(ms / 1000);
  double nanos = round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  if (nanos < 0) nanos = 0;
  ts->tv_sec = static_cast<time_t>(seconds);
  ts->tv_nsec = static_cast<long>(nanos);
  if (ms > 0 && ts->tv_sec == 0 && ts->tv_nsec == 0) ts->tv_nsec = 1;
  return true;
}

// timerfd(): a timer on CLOCK_MONOTONIC (unaffected by changes of the wall
// clock), disarmed until timerfdSet.
Napi::Value Timerfd(const Napi::CallbackInfo& info) {
  return FdResult(info.Env(), timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create");
}

// timerfdSet(fd, initialMs, intervalMs): first expiry initialMs from now (0
// disarms), then every intervalMs (0: once). Relative times, no flags.
Napi::Value TimerfdSet(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  struct itimerspec spec = {};
  if (!MsToTimespec(DoubleArg(info.Env(), info[1]), &spec.it_value) ||
      !MsToTimespec(DoubleArg(info.Env(), info[2]), &spec.it_interval)) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "initialMs and intervalMs must be in [0, 2147483647000]");
  }
  if (timerfd_settime(fd, 0, &spec, nullptr) < 0) ThrowErrno(info.Env(), errno, "timerfd_settime");
  return info.Env().Undefined();
}
#endif

#ifdef NS_HAVE_INOTIFY
Napi::Value InotifyInit(const Napi::CallbackInfo& info) {
  return FdResult(info.Env(), inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1");
}

// inotifyAddWatch(fd, path, mask): the watch descriptor (the same one again
// for a path already watched, whose mask is then replaced, or with
// IN_MASK_ADD widened).
Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  int fd = Int32Arg(info, 0);
  if (!info[1].IsString()) ThrowTypeError(info.Env(), "ERR_INVALID_ARG_TYPE", "path must be a string");
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) {
    ThrowRangeError(info.Env(), "ERR_INVALID_ARG_VALUE", "path must not contain NUL");
  }
  uint32_t mask;
  if (napi_get_value_uint32(info.Env(), info[2], &mask) != napi_ok) {
    ThrowTypeError(info.Env(), "ERR_INVALID_ARG_TYPE", "mask must be a number");
  }
  int wd = inotify_add_watch(fd, path.c_str(), mask);
  if (wd < 0) ThrowErrno(info.Env(), errno, "inotify_add_watch");
  return Napi::Number::New(info.Env(), wd);
}

// inotifyRemoveWatch(fd, wd): the kernel then queues IN_IGNORED for wd.
Napi::Value InotifyRemoveWatch(const Napi::CallbackInfo& info) {
  if (inotify_rm_watch(Int32Arg(info, 0), Int32Arg(info, 1)) < 0) {
    ThrowErrno(info.Env(), errno, "inotify_rm_watch");
  }
  return info.Env().Undefined();
}

void AddInotifyConstants(Napi::Env env, Napi::Object c) {
  // The mask is an unsigned 32-bit word: IN_ONESHOT is 2^31, a positive number here.
  auto set = [&](const char* name, uint32_t value) { c.Set(name, Napi::Number::New(env, value)); };
  set("IN_ACCESS", IN_ACCESS);
  set("IN_MODIFY", IN_MODIFY);
  set("IN_ATTRIB", IN_ATTRIB);
  set("IN_CLOSE_WRITE", IN_CLOSE_WRITE);
  set("IN_CLOSE_NOWRITE", IN_CLOSE_NOWRITE);
  set("IN_CLOSE", IN_CLOSE);
  set("IN_OPEN", IN_OPEN);
  set("IN_MOVED_FROM", IN_MOVED_FROM);
  set("IN_MOVED_TO", IN_MOVED_TO);
  set("IN_MOVE", IN_MOVE);
  set("IN_CREATE", IN_CREATE);
  set("IN_DELETE", IN_DELETE);
  set("IN_DELETE_SELF", IN_DELETE_SELF);
  set("IN_MOVE_SELF", IN_MOVE_SELF);
  set("IN_UNMOUNT", IN_UNMOUNT);
  set("IN_Q_OVERFLOW", IN_Q_OVERFLOW);
  set("IN_IGNORED", IN_IGNORED);
  set("IN_ONLYDIR", IN_ONLYDIR);
  set("IN_DONT_FOLLOW", IN_DONT_FOLLOW);
  set("IN_EXCL_UNLINK", IN_EXCL_UNLINK);
  set("IN_MASK_ADD", IN_MASK_ADD);
  set("IN_ISDIR", IN_ISDIR);
  set("IN_ONESHOT", IN_ONESHOT);
  set("IN_ALL_EVENTS", IN_ALL_EVENTS);
}
#endif

#ifdef NS_HAVE_PIDFD_OPEN
// pidfdOpen(pid): an fd referring to the process pid, through the raw
// syscall (libc's pidfd_open() wrapper is newer than the syscall: glibc
// 2.36). What the kernel does with it:
//  - pidfd_open always sets close-on-exec (there is no flag to leave it off).
//  - Non-blocking: PIDFD_NONBLOCK, which the kernel defines as O_NONBLOCK,
//    is accepted from Linux 5.10; 5.3 to 5.9 refuse any flag with EINVAL
//    (pid > 0 is checked first, so EINVAL can only mean the flag), and then
//    fcntl sets O_NONBLOCK afterwards. The flag only matters to
//    waitid(P_PIDFD), which it turns into EAGAIN while the process runs.
//  - The fd polls readable once the process has exited (it is a zombie or
//    gone); waiting for that reaps nothing, so Node's child_process still
//    collects the status and emits 'exit'. read(2) on a pidfd fails (EINVAL).
//  - A kernel older than 5.3 answers ENOSYS, which lib/sys/linux.ts turns
//    into ERR_NOT_SUPPORTED (and sys.supports('pidfdOpen') into false).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = Int32Arg(info, 0);
  if (pid <= 0) ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "pid must be a positive integer");
  long fd = syscall(SYS_pidfd_open, pid, O_NONBLOCK);
  if (fd < 0 && errno == EINVAL) {
    fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
      int flags = fcntl(static_cast<int>(fd), F_GETFL);
      if (flags < 0 || fcntl(static_cast<int>(fd), F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = errno;
        close(static_cast<int>(fd));
        ThrowErrno(info.Env(), err, "fcntl");
      }
    }
  }
  return FdResult(info.Env(), static_cast<int>(fd), "pidfd_open");
}
#endif

}  // namespace

void AddLinuxExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  auto mark = [&](const char* name, bool has) { supported.Set(name, Napi::Boolean::New(env, has)); };
  [[maybe_unused]] Napi::Object constants = sys.Get("constants").As<Napi::Object>();
#ifdef NS_HAVE_EVENTFD_SEMAPHORE
  sys.Set("eventfd", Napi::Function::New<Eventfd>(env, "eventfd"));
  mark("eventfd", true);
#else
  mark("eventfd", false);
#endif
#ifdef NS_HAVE_TIMERFD
  sys.Set("timerfd", Napi::Function::New<Timerfd>(env, "timerfd"));
  sys.Set("timerfdSet", Napi::Function::New<TimerfdSet>(env, "timerfdSet"));
  constexpr bool kTimerfd = true;
#else
  constexpr bool kTimerfd = false;
#endif
  mark("timerfd", kTimerfd);
  mark("timerfdSet", kTimerfd);
#ifdef NS_HAVE_INOTIFY
  sys.Set("inotifyInit", Napi::Function::New<InotifyInit>(env, "inotifyInit"));
  sys.Set("inotifyAddWatch", Napi::Function::New<InotifyAddWatch>(env, "inotifyAddWatch"));
  sys.Set("inotifyRemoveWatch", Napi::Function::New<InotifyRemoveWatch>(env, "inotifyRemoveWatch"));
  AddInotifyConstants(env, constants);
  constexpr bool kInotify = true;
#else
  constexpr bool kInotify = false;
#endif
  mark("inotifyInit", kInotify);
  mark("inotifyAddWatch", kInotify);
  mark("inotifyRemoveWatch", kInotify);
  // Pure TypeScript, but of use only with inotify's fds: present with them.
  mark("parseInotify", kInotify);
#ifdef NS_HAVE_PIDFD_OPEN
  // The build has the syscall; whether the running kernel has it (5.3+) is
  // probed once, lazily, by lib/sys/linux.ts.
  sys.Set("pidfdOpen", Napi::Function::New<PidfdOpen>(env, "pidfdOpen"));
  mark("pidfdOpen", true);
#else
  mark("pidfdOpen", false);
#endif
}

}  // namespace selectors
