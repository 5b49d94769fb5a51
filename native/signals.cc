#include "signals.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "errors.h"

namespace selectors {
namespace {

// What the handler reads must be lock-free: a handler may interrupt a thread
// in the middle of any update.
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the signal table needs lock-free 64-bit atomics");
static_assert(std::atomic<int>::is_always_lock_free, "the signal table needs lock-free int atomics");

constexpr uint64_t Bit(int signum) { return uint64_t{1} << (signum - 1); }

// One reactor's pipe: its write end and the signals it wants. A free slot
// has fd -1 and mask 0.
struct Channel {
  std::atomic<int> fd{-1};
  std::atomic<uint64_t> mask{0};
};

// The action that was installed before ours, per signal, double-buffered:
// an update writes the spare copy and then publishes its index, so the
// handler never reads a struct being written (see WaitForHandlers).
struct Previous {
  struct sigaction action[2];
  std::atomic<int> current{0};
};

Channel channels[kMaxSignalChannels];
Previous previous[kMaxSignalNumber + 1];
// Signals whose handler is ours (as far as we know: libuv may replace it,
// see Reinstall). Written under the lock only.
uint64_t installed = 0;
// Handlers running now, over all threads.
std::atomic<int> in_handler{0};

// Everything but the handler takes it.
std::mutex& Lock() {
  static std::mutex lock;
  return lock;
}

// Whether `a` is our handler.
void Handler(int signum, siginfo_t* info, void* context);
bool IsOurs(const struct sigaction& a) {
  return (a.sa_flags & SA_SIGINFO) != 0 && a.sa_sigaction == &Handler;
}

// Async-signal-safe: atomics, write(2), and the previous handler.
void Handler(int signum, siginfo_t* info, void* context) {
  int saved_errno = errno;
  in_handler.fetch_add(1, std::memory_order_acq_rel);
  if (signum >= 1 && signum <= kMaxSignalNumber) {
    const uint64_t bit = Bit(signum);
    const unsigned char byte = static_cast<unsigned char>(signum);
    for (Channel& c : channels) {
      if ((c.mask.load(std::memory_order_acquire) & bit) == 0) continue;
      int fd = c.fd.load(std::memory_order_acquire);
      if (fd < 0) continue;
      // EAGAIN: the pipe is full, so the reactor is awake already.
      ssize_t r;
      do r = write(fd, &byte, 1);
      while (r < 0 && errno == EINTR);
    }
    // Chain. SIG_DFL and SIG_IGN are not called: the reactor handles the
    // signal instead of its default action (as process.on does). Neither is
    // a one-shot handler (SA_RESETHAND): it stands for the default action
    // too; Node installs one for SIGINT and SIGTERM that restores the
    // terminal and re-raises the signal to die by it.
    const Previous& p = previous[signum];
    const struct sigaction& a = p.action[p.current.load(std::memory_order_acquire)];
    if ((a.sa_flags & SA_RESETHAND) == 0) {
      if ((a.sa_flags & SA_SIGINFO) != 0) {
        if (a.sa_sigaction != nullptr) a.sa_sigaction(signum, info, context);
      } else if (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN && a.sa_handler != nullptr) {
        a.sa_handler(signum);
      }
    }
  }
  in_handler.fetch_sub(1, std::memory_order_acq_rel);
  errno = saved_errno;
}

// Waits until no handler runs: after it, none still reads a channel's fd or
// a previous action replaced before the call. A handler interrupting this
// thread runs to its end before the loop goes on, so this cannot deadlock.
void WaitForHandlers() {
  while (in_handler.load(std::memory_order_acquire) != 0) sched_yield();
}

// Records `a` as the action before ours for `signum`. Under the lock.
void SetPrevious(int signum, const struct sigaction& a) {
  Previous& p = previous[signum];
  int spare = 1 - p.current.load(std::memory_order_relaxed);
  // No handler reads the spare copy: the last update waited for them.
  p.action[spare] = a;
  p.current.store(spare, std::memory_order_release);
  WaitForHandlers();
}

// Puts our handler on top of whatever is installed, unless it is ours
// already. Under the lock. 0, or an errno.
int Install(int signum) {
  struct sigaction current;
  if (sigaction(signum, nullptr, &current) < 0) return errno;
  if (IsOurs(current)) {
    installed |= Bit(signum);
    return 0;
  }
  SetPrevious(signum, current);
  struct sigaction ours;
  memset(&ours, 0, sizeof ours);
  ours.sa_sigaction = &Handler;
  // Every signal blocked while it runs, as libuv's handler; SA_ONSTACK for
  // threads with an alternate stack; SA_RESTART so other threads' calls go on.
  ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&ours.sa_mask);
  if (sigaction(signum, &ours, nullptr) < 0) return errno;
  installed |= Bit(signum);
  return 0;
}

// Puts back the action before ours, if ours is still the one installed
// (else whoever replaced it keeps theirs). Under the lock.
void Restore(int signum) {
  installed &= ~Bit(signum);
  struct sigaction current;
  if (sigaction(signum, nullptr, &current) < 0 || !IsOurs(current)) return;
  const Previous& p = previous[signum];
  sigaction(signum, &p.action[p.current.load(std::memory_order_relaxed)], nullptr);
}

// Whether any channel still wants `signum`. Under the lock.
bool Wanted(int signum) {
  for (const Channel& c : channels) {
    if ((c.mask.load(std::memory_order_relaxed) & Bit(signum)) != 0) return true;
  }
  return false;
}

int SignalArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowTypeError(info.Env(), "ERR_INVALID_ARG_TYPE", "a signal number is expected");
  int signum = v.As<Napi::Number>().Int32Value();
  if (signum < 1 || signum > kMaxSignalNumber || signum == SIGKILL || signum == SIGSTOP) {
    ThrowRangeError(info.Env(), "ERR_INVALID_ARG_VALUE", "not a signal a handler can be installed for");
  }
  return signum;
}

int FdArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowTypeError(info.Env(), "ERR_INVALID_FD", "an fd is expected");
  int fd = v.As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowRangeError(info.Env(), "ERR_INVALID_FD", "an fd is a non-negative integer");
  return fd;
}

Channel* Find(int fd) {
  for (Channel& c : channels) {
    if (c.fd.load(std::memory_order_relaxed) == fd) return &c;
  }
  return nullptr;
}

// watch(writeFd, signum): the channel's write end gets a byte for each
// `signum` from now on; our handler is (re)installed on top.
Napi::Value Watch(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int signum = SignalArg(info, 1);
  std::lock_guard<std::mutex> guard(Lock());
  Channel* c = Find(fd);
  bool fresh = c == nullptr;
  if (fresh) {
    c = Find(-1);
    if (c == nullptr) ThrowCodeError(info.Env(), "ERR_SIGNAL_CHANNELS_EXHAUSTED", "too many reactors handle signals at once (64)");
    c->fd.store(fd, std::memory_order_release);
  }
  uint64_t before = c->mask.load(std::memory_order_relaxed);
  c->mask.store(before | Bit(signum), std::memory_order_release);
  int err = Install(signum);
  if (err != 0) {
    c->mask.store(before, std::memory_order_release);
    if (fresh) c->fd.store(-1, std::memory_order_release);
    if (!Wanted(signum)) Restore(signum);
    ThrowErrno(info.Env(), err, "sigaction");
  }
  return info.Env().Undefined();
}

// unwatch(writeFd, signum): false when the channel did not watch it. The
// last channel to stop watching a signal puts back the action before ours.
Napi::Value Unwatch(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int signum = SignalArg(info, 1);
  std::lock_guard<std::mutex> guard(Lock());
  Channel* c = Find(fd);
  if (c == nullptr || (c->mask.load(std::memory_order_relaxed) & Bit(signum)) == 0) {
    return Napi::Boolean::New(info.Env(), false);
  }
  uint64_t mask = c->mask.load(std::memory_order_relaxed) & ~Bit(signum);
  c->mask.store(mask, std::memory_order_release);
  if (mask == 0) c->fd.store(-1, std::memory_order_release);
  if (!Wanted(signum)) Restore(signum);
  WaitForHandlers();
  return Napi::Boolean::New(info.Env(), true);
}

// release(writeFd): unwatches every signal of the channel. When it returns,
// no handler writes to the fd any more: the caller may close it.
Napi::Value Release(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::lock_guard<std::mutex> guard(Lock());
  Channel* c = Find(fd);
  if (c != nullptr) {
    uint64_t mask = c->mask.load(std::memory_order_relaxed);
    c->mask.store(0, std::memory_order_release);
    c->fd.store(-1, std::memory_order_release);
    for (int signum = 1; signum <= kMaxSignalNumber; signum++) {
      if ((mask & Bit(signum)) != 0 && !Wanted(signum)) Restore(signum);
    }
  }
  WaitForHandlers();
  return Napi::Boolean::New(info.Env(), c != nullptr);
}

// reinstall(signum): puts our handler back on top if another one replaced
// it (libuv, when Node starts or stops listening for the signal), chaining
// to that one. True when it had to. Nothing when no channel wants `signum`.
Napi::Value Reinstall(const Napi::CallbackInfo& info) {
  int signum = SignalArg(info, 0);
  std::lock_guard<std::mutex> guard(Lock());
  if ((installed & Bit(signum)) == 0) return Napi::Boolean::New(info.Env(), false);
  struct sigaction current;
  if (sigaction(signum, nullptr, &current) < 0) ThrowErrno(info.Env(), errno, "sigaction");
  if (IsOurs(current)) return Napi::Boolean::New(info.Env(), false);
  int err = Install(signum);
  if (err != 0) ThrowErrno(info.Env(), err, "sigaction");
  return Napi::Boolean::New(info.Env(), true);
}

// installed(signum): whether the handler in place for `signum` is ours.
Napi::Value Installed(const Napi::CallbackInfo& info) {
  int signum = SignalArg(info, 0);
  struct sigaction current;
  if (sigaction(signum, nullptr, &current) < 0) ThrowErrno(info.Env(), errno, "sigaction");
  return Napi::Boolean::New(info.Env(), IsOurs(current));
}

}  // namespace

Napi::Object SignalExports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("watch", Napi::Function::New<&Watch>(env, "watch"));
  o.Set("unwatch", Napi::Function::New<&Unwatch>(env, "unwatch"));
  o.Set("release", Napi::Function::New<&Release>(env, "release"));
  o.Set("reinstall", Napi::Function::New<&Reinstall>(env, "reinstall"));
  o.Set("installed", Napi::Function::New<&Installed>(env, "installed"));
  o.Set("maxChannels", Napi::Number::New(env, kMaxSignalChannels));
  o.Set("maxSignal", Napi::Number::New(env, kMaxSignalNumber));
  return o;
}

}  // namespace selectors
