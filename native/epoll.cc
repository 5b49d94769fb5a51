// epoll(7). The interest bits travel in each registration's event data next
// to the fd, so Wait can mask and fold without any lookup. Timeouts use
// epoll_pwait2 (Linux 5.11) for nanosecond precision, falling back to
// epoll_wait rounded up to whole milliseconds where the kernel lacks it.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "backend.h"

namespace selectors {
namespace {

uint32_t ToEpoll(uint32_t events, Trigger trigger) {
  uint32_t ev = ((events & kRead) ? uint32_t{EPOLLIN} : 0u) | ((events & kWrite) ? uint32_t{EPOLLOUT} : 0u) |
                ((events & kPriority) ? uint32_t{EPOLLPRI} : 0u);
  if (trigger == Trigger::kEdge) ev |= EPOLLET;
  if (trigger == Trigger::kOneshot) ev |= EPOLLONESHOT;
  return ev;
}

class EpollBackend final : public Backend {
 public:
  explicit EpollBackend(int epfd) : epfd_(epfd) {}
  ~EpollBackend() override { Close(); }

  SysError Add(int fd, uint32_t events, Trigger trigger) override {
    return Ctl(EPOLL_CTL_ADD, fd, events, trigger);
  }

  SysError Modify(int fd, uint32_t events, Trigger trigger) override {
    return Ctl(EPOLL_CTL_MOD, fd, events, trigger);
  }

  SysError Remove(int fd) override {
    SysError e = Ctl(EPOLL_CTL_DEL, fd, 0, Trigger::kLevel);
    // EBADF: the fd was closed since it was added, which already removed it
    // from the epoll set (unless a dup keeps the file open; nothing can name
    // it then). ENOENT: closed, and the number reused by an fd never added.
    // Either way the fd is no longer watched, which is what the caller wants.
    if (e.err == EBADF || e.err == ENOENT) return Ok();
    return e;
  }

  SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) override {
    *count = 0;
    if (static_cast<int>(events_.size()) < capacity) events_.resize(static_cast<size_t>(capacity));
    Deadline deadline(timeout);
    int n = RetryOnEintr([&] { return EpollWait(deadline, capacity); });
    if (n < 0) return Fail(errno, have_pwait2_ ? "epoll_pwait2" : "epoll_wait");
    for (int i = 0; i < n; i++) {
      const epoll_event& ev = events_[i];
      uint32_t interest = static_cast<uint32_t>(ev.data.u64 >> 32);
      uint32_t events = FoldEvents(ev.events & EPOLLIN, ev.events & EPOLLOUT, ev.events & EPOLLPRI,
                                   ev.events & (EPOLLERR | EPOLLHUP), interest);
      if (events == 0) continue;
      out[2 * *count] = static_cast<int32_t>(ev.data.u64 & 0xffffffffu);
      out[2 * *count + 1] = static_cast<int32_t>(events);
      ++*count;
    }
    return Ok();
  }

  bool Supports(Trigger) const override { return true; }

  int Fileno() const override { return epfd_; }
  bool FilenoIsPollable() const override { return true; }
  // Whole milliseconds once a wait found no epoll_pwait2 (Linux < 5.11).
  int64_t TimeoutResolutionNs() const override { return have_pwait2_ ? 1 : 1000000; }

  void Close() override {
    if (epfd_ >= 0) close(epfd_);
    epfd_ = -1;
  }

 private:
  SysError Ctl(int op, int fd, uint32_t events, Trigger trigger) {
    epoll_event ev{};
    ev.events = ToEpoll(events, trigger);
    ev.data.u64 = static_cast<uint32_t>(fd) | (static_cast<uint64_t>(events) << 32);
    if (epoll_ctl(epfd_, op, fd, &ev) < 0) return Fail(errno, "epoll_ctl");
    return Ok();
  }

  int EpollWait(Deadline& deadline, int capacity) {
#ifdef SYS_epoll_pwait2
    if (have_pwait2_) {
      long r = syscall(SYS_epoll_pwait2, epfd_, events_.data(), capacity, deadline.Remaining(),
                       nullptr, 0);
      if (r >= 0 || errno != ENOSYS) return static_cast<int>(r);
      have_pwait2_ = false;  // an older kernel: whole milliseconds from now on
    }
#endif
    return epoll_wait(epfd_, events_.data(), capacity, deadline.RemainingMillisRoundedUp());
  }

  int epfd_;
  bool have_pwait2_ = true;
  std::vector<epoll_event> events_;
};

std::unique_ptr<Backend> Create(SysError* error) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    *error = Fail(errno, "epoll_create1");
    return nullptr;
  }
  return std::make_unique<EpollBackend>(epfd);
}

BackendRegistrar registrar("epoll", 30, &Create);

}  // namespace
}  // namespace selectors
