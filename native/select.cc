// select(2), through pselect(2) for nanosecond timeouts. The fd_sets hold at
// most FD_SETSIZE fds; the TypeScript side rejects larger fds before they get
// here, and Add checks again so that no fd_set is ever written out of bounds.
#include <errno.h>
#include <fcntl.h>
#include <sys/select.h>

#include <algorithm>

#include "backend.h"

namespace selectors {
namespace {

class SelectBackend final : public Backend {
 public:
  SelectBackend() {
    FD_ZERO(&read_);
    FD_ZERO(&write_);
    FD_ZERO(&except_);
    std::fill(std::begin(interest_), std::end(interest_), 0);
    std::fill(std::begin(oneshot_), std::end(oneshot_), false);
  }

  SysError Add(int fd, uint32_t events, Trigger trigger) override {
    if (fd < 0 || fd >= FD_SETSIZE) return Fail(EINVAL, "select");
    // select() has no registration step, so an invalid fd would only show up
    // later as EBADF from every wait; refuse it now as the other backends do.
    if (fcntl(fd, F_GETFD) < 0) return Fail(errno, "fcntl");
    Arm(fd, events);
    interest_[fd] = static_cast<uint8_t>(events);
    oneshot_[fd] = trigger == Trigger::kOneshot;
    max_fd_ = std::max(max_fd_, fd);
    return Ok();
  }

  SysError Modify(int fd, uint32_t events, Trigger trigger) override {
    if (fd < 0 || fd >= FD_SETSIZE) return Fail(EINVAL, "select");
    Disarm(fd);
    Arm(fd, events);
    interest_[fd] = static_cast<uint8_t>(events);
    oneshot_[fd] = trigger == Trigger::kOneshot;
    return Ok();
  }

  SysError Remove(int fd) override {
    if (fd < 0 || fd >= FD_SETSIZE) return Ok();
    Disarm(fd);
    interest_[fd] = 0;
    oneshot_[fd] = false;
    while (max_fd_ >= 0 && interest_[max_fd_] == 0) max_fd_--;
    return Ok();
  }

  SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) override {
    *count = 0;
    Deadline deadline(timeout);
    fd_set r, w, x;
    int n = RetryOnEintr([&] {
      r = read_;
      w = write_;
      x = except_;
      return pselect(max_fd_ + 1, &r, &w, &x, deadline.Remaining(), nullptr);
    });
    if (n < 0 && errno == EBADF) return ReportClosedFds(out, capacity, count);
    if (n < 0) return Fail(errno, "pselect");
    Collect(r, w, x, n, out, capacity, count);
    return Ok();
  }

  bool Supports(Trigger trigger) const override { return trigger != Trigger::kEdge; }

 private:
  void Arm(int fd, uint32_t events) {
    if (events & kRead) FD_SET(fd, &read_);
    if (events & kWrite) FD_SET(fd, &write_);
    if (events & kPriority) FD_SET(fd, &except_);
  }

  void Disarm(int fd) {
    FD_CLR(fd, &read_);
    FD_CLR(fd, &write_);
    FD_CLR(fd, &except_);
  }

  // Reports the fds set in the result sets of a pselect that returned `n`.
  void Collect(const fd_set& r, const fd_set& w, const fd_set& x, int n, int32_t* out, int capacity,
               int* count) {
    for (int fd = 0; fd <= max_fd_ && n > 0 && *count < capacity; fd++) {
      bool in = FD_ISSET(fd, &r), wr = FD_ISSET(fd, &w), ex = FD_ISSET(fd, &x);
      if (!(in || wr || ex)) continue;
      n -= in + wr + ex;
      uint32_t events = FoldEvents(in, wr, ex, false, interest_[fd]);
      if (events != 0) Emit(fd, events, out, count);
    }
  }

  void Emit(int fd, uint32_t events, int32_t* out, int* count) {
    out[2 * *count] = fd;
    out[2 * *count + 1] = static_cast<int32_t>(events);
    ++*count;
    // A oneshot fd is reported once, then stays silent until Modify re-arms it.
    if (oneshot_[fd]) Disarm(fd);
  }

  // select() fails as a whole with EBADF when a watched fd was closed without
  // being removed. Report such fds as ready for all they were watched for, as
  // poll() does with POLLNVAL, so the owner's next read or write sees EBADF and
  // unregisters it; then poll the live fds once more without waiting, so that
  // a dead fd never hides or starves the others.
  SysError ReportClosedFds(int32_t* out, int capacity, int* count) {
    fd_set r = read_, w = write_, x = except_;
    bool any_dead = false;
    for (int fd = 0; fd <= max_fd_; fd++) {
      if (interest_[fd] == 0 || !IsArmed(fd)) continue;
      if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
      any_dead = true;
      FD_CLR(fd, &r);
      FD_CLR(fd, &w);
      FD_CLR(fd, &x);
      if (*count < capacity) Emit(fd, interest_[fd], out, count);
    }
    if (!any_dead) return Fail(EBADF, "pselect");
    timespec zero{};
    int n = RetryOnEintr([&] { return pselect(max_fd_ + 1, &r, &w, &x, &zero, nullptr); });
    if (n < 0) return Fail(errno, "pselect");
    Collect(r, w, x, n, out, capacity, count);
    return Ok();
  }

  bool IsArmed(int fd) const {
    return FD_ISSET(fd, &read_) || FD_ISSET(fd, &write_) || FD_ISSET(fd, &except_);
  }

  fd_set read_, write_, except_;
  uint8_t interest_[FD_SETSIZE];
  bool oneshot_[FD_SETSIZE];
  int max_fd_ = -1;
};

std::unique_ptr<Backend> Create(SysError*) { return std::make_unique<SelectBackend>(); }

BackendRegistrar registrar("select", 10, &Create);

}  // namespace
}  // namespace selectors
