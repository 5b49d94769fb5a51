// poll(2), through ppoll(2) for nanosecond timeouts where the platform has it
// (native/platform.h). Keeps a dense pollfd
// array and an fd -> slot index; removal swaps the last slot in.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "backend.h"
#include "platform.h"

namespace selectors {
namespace {

short ToPoll(uint32_t events) {
  return static_cast<short>(((events & kRead) ? POLLIN : 0) | ((events & kWrite) ? POLLOUT : 0) |
                            ((events & kPriority) ? POLLPRI : 0));
}

class PollBackend final : public Backend {
 public:
  SysError Add(int fd, uint32_t events, Trigger trigger) override {
    // poll() has no registration step; refuse an invalid fd now as the
    // kernel-backed backends do, instead of reporting POLLNVAL forever.
    if (fcntl(fd, F_GETFD) < 0) return Fail(errno, "fcntl");
    if (static_cast<size_t>(fd) >= slot_.size()) slot_.resize(static_cast<size_t>(fd) + 1, -1);
    slot_[fd] = static_cast<int>(fds_.size());
    fds_.push_back(pollfd{fd, ToPoll(events), 0});
    entries_.push_back(Entry{fd, events, trigger == Trigger::kOneshot});
    return Ok();
  }

  SysError Modify(int fd, uint32_t events, Trigger trigger) override {
    int i = Slot(fd);
    if (i < 0) return Fail(ENOENT, "poll");
    // Re-arms a oneshot fd that was disarmed by reporting it.
    fds_[i] = pollfd{fd, ToPoll(events), 0};
    entries_[i] = Entry{fd, events, trigger == Trigger::kOneshot};
    return Ok();
  }

  SysError Remove(int fd) override {
    int i = Slot(fd);
    if (i < 0) return Ok();
    int last = static_cast<int>(fds_.size()) - 1;
    if (i != last) {
      fds_[i] = fds_[last];
      entries_[i] = entries_[last];
      slot_[entries_[i].fd] = i;
    }
    fds_.pop_back();
    entries_.pop_back();
    slot_[fd] = -1;
    return Ok();
  }

  SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) override {
    *count = 0;
    Deadline deadline(timeout);
    int n = RetryOnEintr([&] { return platform::Poll(fds_.data(), fds_.size(), deadline); });
    if (n < 0) return Fail(errno, platform::PollSyscall());
    for (size_t i = 0; i < fds_.size() && n > 0 && *count < capacity; i++) {
      short re = fds_[i].revents;
      if (re == 0) continue;
      n--;
      const Entry& e = entries_[i];
      // POLLNVAL: the fd was closed while watched; report it so the owner
      // finds out on its next read or write.
      uint32_t events = FoldEvents(re & POLLIN, re & POLLOUT, re & POLLPRI,
                                   re & (POLLERR | POLLHUP | POLLNVAL), e.interest);
      if (events == 0) continue;
      out[2 * *count] = e.fd;
      out[2 * *count + 1] = static_cast<int32_t>(events);
      ++*count;
      // poll() skips negative fds: a reported oneshot fd stays silent until
      // Modify re-arms it.
      if (e.oneshot) fds_[i].fd = -1;
    }
    return Ok();
  }

  bool Supports(Trigger trigger) const override { return trigger != Trigger::kEdge; }

  int64_t TimeoutResolutionNs() const override { return platform::PollResolutionNs(); }

 private:
  struct Entry {
    int fd;
    uint32_t interest;
    bool oneshot;
  };

  int Slot(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < slot_.size() ? slot_[fd] : -1;
  }

  std::vector<pollfd> fds_;
  std::vector<Entry> entries_;  // parallel to fds_
  std::vector<int> slot_;       // fd -> index in fds_, or -1
};

std::unique_ptr<Backend> Create(SysError*) { return std::make_unique<PollBackend>(); }

BackendRegistrar registrar("poll", 20, &Create);

}  // namespace
}  // namespace selectors
