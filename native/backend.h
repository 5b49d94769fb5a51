// The small interface every kernel multiplexer implements, one file each
// (select.cc, poll.cc, epoll.cc, kqueue.cc, io_uring.cc). The build picks the
// files that exist on the platform; each registers itself with the registry
// below, so the rest of the addon carries no per-backend #ifdef.
//
// Backends do syscalls and little else: the TypeScript side owns the fd->key
// map, validation and rollback. A backend keeps only what its kernel API needs
// (poll's pollfd array, select's fd_sets, the interest bits epoll carries in
// its event data) so that it can fold and mask events without calling back.
#pragma once

#include <stdint.h>
#include <time.h>

#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "events.h"

namespace selectors {

// A relative timeout in nanoseconds, or none (block until an event).
struct Timeout {
  bool infinite = true;
  int64_t ns = 0;
};

// Tracks the time left of a Timeout across retries after EINTR, so that an
// interrupted wait resumes with the remaining time, never with the whole.
class Deadline {
 public:
  explicit Deadline(const Timeout& timeout);
  // nullptr for an infinite wait, else the time left (zero once passed).
  const timespec* Remaining();
  // The time left rounded up to whole milliseconds (-1 for infinite), for
  // kernels APIs that only take milliseconds: never wake before the deadline.
  int RemainingMillisRoundedUp();

 private:
  bool infinite_;
  int64_t ns_;
  int64_t deadline_ns_ = 0;
  timespec left_{};
};

// Retries `call` while it fails with EINTR. `call` returns the syscall's
// result and leaves errno set on failure.
template <typename Call>
inline int RetryOnEintr(Call&& call) {
  for (;;) {
    int r = call();
    if (r >= 0 || errno != EINTR) return r;
  }
}

class Backend {
 public:
  virtual ~Backend() = default;

  // Start watching `fd` for `events` (a non-empty subset of kAllEvents).
  virtual SysError Add(int fd, uint32_t events, Trigger trigger) = 0;
  // Replace the interest of an fd added before; re-arms a oneshot fd.
  virtual SysError Modify(int fd, uint32_t events, Trigger trigger) = 0;
  // Stop watching `fd`. Succeeds for an fd closed since it was added.
  virtual SysError Remove(int fd) = 0;
  // Waits until an fd is ready or `timeout` passes, retrying after EINTR
  // with the time left. Writes at most `capacity` (fd, events) pairs to
  // `out`, each fd at most once, and sets `*count`.
  virtual SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) = 0;
  // Which trigger modes the backend honours (level always).
  virtual bool Supports(Trigger trigger) const = 0;
  // The event bits the backend can watch on this platform: kAllEvents but
  // where the kernel has no way to watch priority data (FreeBSD's kqueue).
  virtual uint32_t SupportedEvents() const { return kAllEvents; }
  // The kernel object's fd (epoll, kqueue, io_uring), else -1.
  virtual int Fileno() const { return -1; }
  // Whether Fileno() is readable exactly when a wait would report events,
  // so that libuv can watch it for an attached reactor (native/watcher.h).
  // Not io_uring's ring, which only learns of interest at its next wait.
  virtual bool FilenoIsPollable() const { return false; }
  // The finest timeout the wait honours, in nanoseconds: 1 for a timespec
  // (ppoll, pselect, epoll_pwait2, kevent, io_uring), 1,000,000 where the
  // call takes whole milliseconds (poll without ppoll, epoll_wait).
  virtual int64_t TimeoutResolutionNs() const { return 1; }
  // Releases the kernel object. Called once, by the owner.
  virtual void Close() {}
};

using BackendFactory = std::unique_ptr<Backend> (*)(SysError* error);

struct BackendInfo {
  const char* name;
  int rank;  // higher is preferred as the platform default
  BackendFactory create;
};

// Backend files register themselves at load time:
//   static BackendRegistrar registrar("epoll", 30, &CreateEpoll);
class BackendRegistrar {
 public:
  BackendRegistrar(const char* name, int rank, BackendFactory create);
};

// The backends compiled in, best (highest rank) first.
const std::vector<BackendInfo>& RegisteredBackends();

// A new backend of the given name. Throws ERR_BACKEND_UNAVAILABLE, with the
// system error as its cause, when the name is not compiled in or the kernel
// refuses to create it.
std::unique_ptr<Backend> CreateBackend(Napi::Env env, const std::string& name);

}  // namespace selectors
