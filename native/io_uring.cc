// io_uring(7) poll requests, through the raw system calls (no liburing, so
// the build and the prebuilds need nothing beyond the kernel's UAPI header).
//
// Each registered fd has at most one poll request in flight, tagged in its
// user_data with the fd and a generation number that changes every time the
// fd is (re-)armed. A completion whose user_data is not the fd's current one
// belongs to a cancelled, modified or unregistered registration and is
// dropped, so no stale event is ever reported.
//
// Trigger modes map onto the two kinds of poll request:
//  - level: a single-shot IORING_OP_POLL_ADD, re-armed at the start of the
//    next Wait after it fired. The kernel checks readiness when a poll is
//    armed and completes it at once if the fd is still ready, so an fd is
//    reported by every Wait while it stays ready, as epoll's level mode does,
//    and the re-arm travels in the same io_uring_enter as the wait itself.
//    (A multishot request would not do: it completes on wake-ups, not on
//    state, and would fall silent while unread data stays in the fd.)
//  - edge: a multishot request (IORING_POLL_ADD_MULTI, Linux 5.13), which
//    completes once per wake-up of the fd, as EPOLLET reports; kernels
//    without it refuse edge mode.
//  - oneshot: a single-shot request that is not re-armed until Modify.
// A completion already queued when a Wait begins was posted at a wake-up
// that may predate the caller's last read, so it is checked again first: a
// single-shot request is re-armed in the Wait's own io_uring_enter (the
// kernel completes it at once if the fd is still ready), a multishot
// completion is checked with poll(). Readiness is thus reported as of the
// Wait, as epoll reports it, not as of the wake-up.
//
// Except for what a poll reports once: some files answer POLLPRI | POLLERR
// to the first poll after a change and never again (the mount table's
// mounts_poll, sysfs attributes after sysfs_notify, GPIO values among them;
// PSI triggers answer POLLPRI alone), so the kernel's poll that completed a
// request has consumed the condition, and a check after it no longer sees
// it. The priority and error bits of a completion are therefore reported
// even when the check does not see them again (see SeenOnce); epoll, which
// polls a file once per report, reports them the same way.
//
// Arming is batched: Add and Modify only queue, Wait submits everything with
// its own io_uring_enter. Remove cancels at once, because an armed poll holds
// a reference to the file, and a socket closed after unregister must really
// close (send its FIN) without waiting for the next Wait.
//
// Needs IORING_FEAT_NODROP (5.5: completions are never lost) and
// IORING_FEAT_EXT_ARG (5.11: a wait takes a timespec, so sub-millisecond
// timeouts need no timeout request). An older kernel, or one where io_uring
// is disabled (kernel.io_uring_disabled, seccomp: ENOSYS, EPERM), makes the
// factory fail, and the backend is then reported unavailable.
#if __has_include(<linux/io_uring.h>)

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "backend.h"

namespace selectors {
namespace {

// user_data of requests whose completions carry nothing to report: poll
// removals and the multishot probe.
constexpr uint64_t kInternal = uint64_t{1} << 63;
constexpr uint64_t kProbe = kInternal | 1;

constexpr unsigned kSqEntries = 256;
constexpr unsigned kCqEntries = 4096;

int SysSetup(unsigned entries, io_uring_params* p) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, p));
}

int SysEnter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, const void* arg, size_t argsz) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz));
}

template <typename T>
T LoadAcquire(const T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

template <typename T>
void StoreRelease(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

// io_uring matches a wake-up against a poll request's mask with POLLPRI
// left out (IO_ASYNC_POLL_COMMON in io_uring/poll.c), so a request for
// POLLPRI alone is never woken, e.g. by TCP urgent data. Asking for
// POLLRDBAND too lets the sockets' "readable" wake-up (whose key carries
// POLLRDBAND) through, and costs nothing: TCP and pipes never report it.
uint32_t ToPollMask(uint32_t events) {
  return ((events & kRead) ? POLLIN : 0) | ((events & kWrite) ? POLLOUT : 0) |
         ((events & kPriority) ? POLLPRI | POLLRDBAND : 0);
}

// The mask as an SQE's poll32_events field holds it.
uint32_t ToSqeMask(uint32_t events) {
  uint32_t mask = ToPollMask(events);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  // The kernel reads poll32_events as two swapped 16-bit halves on big endian.
  mask = (mask << 16) | (mask >> 16);
#endif
  return mask;
}

// Whether this kernel has multishot poll: a fact about the running kernel,
// the same for every ring and thread, so it is probed once per process.
// 0 = not probed yet, 1 = yes, 2 = no.
std::atomic<int> g_multishot{0};

class IoUringBackend final : public Backend {
 public:
  ~IoUringBackend() override { Close(); }

  // Sets up the ring; on failure returns the error and leaves nothing open.
  SysError Open() {
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = kCqEntries;
    // COOP_TASKRUN (5.19) spares an interrupt per completion; SUBMIT_ALL
    // (5.18) keeps submitting past a request that fails. Older kernels
    // refuse unknown flags with EINVAL: retry without them.
    io_uring_params q = p;
    q.flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
    ring_fd_ = SysSetup(kSqEntries, &q);
    if (ring_fd_ < 0 && errno == EINVAL) {
      q = p;
      ring_fd_ = SysSetup(kSqEntries, &q);
    }
    if (ring_fd_ < 0) return Fail(errno, "io_uring_setup");
    if (!(q.features & IORING_FEAT_NODROP) || !(q.features & IORING_FEAT_EXT_ARG)) {
      return Fail(ENOSYS, "io_uring_setup");
    }
    sq_entries_ = q.sq_entries;
    sq_ring_size_ = q.sq_off.array + q.sq_entries * sizeof(uint32_t);
    cq_ring_size_ = q.cq_off.cqes + q.cq_entries * sizeof(io_uring_cqe);
    // FEAT_SINGLE_MMAP (5.4): both rings live in one mapping.
    if (q.features & IORING_FEAT_SINGLE_MMAP) {
      sq_ring_size_ = cq_ring_size_ = std::max(sq_ring_size_, cq_ring_size_);
    }
    sq_ring_ = Map(sq_ring_size_, IORING_OFF_SQ_RING);
    if (sq_ring_ == nullptr) return Fail(errno, "mmap");
    if (q.features & IORING_FEAT_SINGLE_MMAP) {
      cq_ring_ = sq_ring_;
    } else {
      cq_ring_ = Map(cq_ring_size_, IORING_OFF_CQ_RING);
      if (cq_ring_ == nullptr) return Fail(errno, "mmap");
    }
    sqes_size_ = q.sq_entries * sizeof(io_uring_sqe);
    sqes_ = static_cast<io_uring_sqe*>(Map(sqes_size_, IORING_OFF_SQES));
    if (sqes_ == nullptr) return Fail(errno, "mmap");

    char* sq = static_cast<char*>(sq_ring_);
    sq_head_ = reinterpret_cast<unsigned*>(sq + q.sq_off.head);
    sq_tail_ = reinterpret_cast<unsigned*>(sq + q.sq_off.tail);
    sq_mask_ = *reinterpret_cast<unsigned*>(sq + q.sq_off.ring_mask);
    // The indirection array maps ring slots to SQE slots; identity here.
    unsigned* array = reinterpret_cast<unsigned*>(sq + q.sq_off.array);
    for (unsigned i = 0; i < q.sq_entries; i++) array[i] = i;
    char* cq = static_cast<char*>(cq_ring_);
    cq_head_ = reinterpret_cast<unsigned*>(cq + q.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(cq + q.cq_off.tail);
    cq_mask_ = *reinterpret_cast<unsigned*>(cq + q.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + q.cq_off.cqes);
    if (g_multishot.load(std::memory_order_relaxed) == 0) ProbeMultishot();
    return Ok();
  }

  SysError Add(int fd, uint32_t events, Trigger trigger) override {
    if (fd < 0) return Fail(EBADF, "io_uring_enter");
    // Arming is deferred to the next Wait; refuse an invalid fd now, as the
    // other backends do, rather than report it from every wait.
    if (fcntl(fd, F_GETFD) < 0) return Fail(errno, "fcntl");
    if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(static_cast<size_t>(fd) + 1);
    Slot& s = slots_[fd];
    s = Slot{s.dirty};  // still listed in dirty_ if it was: listed once at most
    s.registered = true;
    s.interest = events;
    s.trigger = trigger;
    MarkDirty(fd);
    return Ok();
  }

  SysError Modify(int fd, uint32_t events, Trigger trigger) override {
    Slot* s = Find(fd);
    if (s == nullptr) return Fail(ENOENT, "io_uring_enter");
    // The old request is cancelled (its completion, if one is still on the
    // way, no longer matches and is dropped) and a new one armed with the
    // next Wait. This also re-arms a oneshot fd that has fired.
    if (s->armed) {
      SysError e = QueueCancel(s->user_data);
      if (e) return e;
      s->armed = false;
    }
    s->interest = events;
    s->trigger = trigger;
    MarkDirty(fd);
    return Ok();
  }

  SysError Remove(int fd) override {
    Slot* s = Find(fd);
    if (s == nullptr) return Ok();
    bool armed = s->armed;
    uint64_t user_data = s->user_data;
    // Stays listed in dirty_ if it was (ArmDirty skips unregistered fds), so
    // that register/unregister cycles between waits never grow the list.
    *s = Slot{s->dirty};
    if (!armed) return Ok();
    SysError e = QueueCancel(user_data);
    if (e) return e;
    // Submit the cancellation now, so the request drops its reference to the
    // file before the caller closes the fd. Should the submission fail (the
    // kernel busy flushing an overflowed completion queue: EBUSY, EAGAIN),
    // the removal stays queued for the next Wait; the fd is already
    // forgotten, so nothing stale can be reported either way.
    SysEnter(ring_fd_, SqPending(), 0, 0, nullptr, 0);
    return Ok();
  }

  SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) override {
    *count = 0;
    ++wait_seq_;
    SysError e;
    Deadline deadline(timeout);
    // Completions queued before this Wait were posted at a wake-up that may
    // predate what the caller did since (read the fd dry), so they are not
    // reported as they stand: see Complete.
    Reap(out, capacity, count, true);
    for (;;) {
      // Any fd due for arming (a single-shot request that completed, or
      // whose queued completion was set aside above, a multishot request
      // ended by the kernel) is armed again before waiting on; the kernel
      // checks its state as it arms it.
      e = ArmDirty();
      if (e) return e;
      unsigned pending = SqPending();
      bool have = *count > 0 || CqReady() > 0;
      if (pending > 0 || !have) {
        // With completions already waiting, only submit (and run the
        // kernel's deferred work); otherwise wait for one until the deadline.
        timespec zero{};
        const timespec* ts = have ? &zero : deadline.Remaining();
        io_uring_getevents_arg arg{};
        arg.sigmask_sz = _NSIG / 8;
        arg.ts = reinterpret_cast<uint64_t>(ts);
        int r = SysEnter(ring_fd_, pending, have ? 0 : 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
                         sizeof arg);
        // ETIME: the timeout passed. EINTR: a signal; the loop goes on with
        // the time left. EBUSY/EAGAIN: the completion queue overflowed and
        // must be drained before more is submitted, which Reap does next.
        if (r < 0 && errno != ETIME && errno != EINTR && errno != EBUSY && errno != EAGAIN) {
          return Fail(errno, "io_uring_enter");
        }
      }
      Reap(out, capacity, count, false);
      if (*count > 0) return Ok();
      const timespec* left = deadline.Remaining();
      if (left != nullptr && left->tv_sec == 0 && left->tv_nsec == 0) return Ok();
    }
  }

  bool Supports(Trigger trigger) const override {
    return trigger != Trigger::kEdge || g_multishot.load(std::memory_order_relaxed) == 1;
  }

  int Fileno() const override { return ring_fd_; }

  void Close() override {
    if (sqes_ != nullptr) munmap(sqes_, sqes_size_);
    if (cq_ring_ != nullptr && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_ring_size_);
    if (sq_ring_ != nullptr) munmap(sq_ring_, sq_ring_size_);
    sqes_ = nullptr;
    cq_ring_ = sq_ring_ = nullptr;
    // Closing the ring cancels every request still in flight.
    if (ring_fd_ >= 0) close(ring_fd_);
    ring_fd_ = -1;
  }

 private:
  struct Slot {
    bool dirty = false;  // listed in dirty_: to be armed by the next Wait
    bool registered = false;
    bool armed = false;  // a poll request with `user_data` is in flight
    Trigger trigger = Trigger::kLevel;
    uint32_t interest = 0;
    uint64_t user_data = 0;
    uint64_t reported_in = 0;  // the Wait that last reported this fd
    int out_index = 0;         // its pair in that Wait's output
  };

  void* Map(size_t size, off_t offset) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_, offset);
    return p == MAP_FAILED ? nullptr : p;
  }

  Slot* Find(int fd) {
    if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].registered) return nullptr;
    return &slots_[fd];
  }

  void MarkDirty(int fd) {
    Slot& s = slots_[fd];
    if (s.dirty) return;
    s.dirty = true;
    dirty_.push_back(fd);
  }

  unsigned SqPending() const { return sq_tail_local_ - LoadAcquire(sq_head_); }
  unsigned CqReady() const { return LoadAcquire(cq_tail_) - *cq_head_; }

  // A free submission slot, submitting what is queued when the ring is full.
  SysError GetSqe(io_uring_sqe** out) {
    if (SqPending() >= sq_entries_) {
      int r = SysEnter(ring_fd_, SqPending(), 0, 0, nullptr, 0);
      if (r < 0 && errno != EINTR && errno != EBUSY && errno != EAGAIN) return Fail(errno, "io_uring_enter");
      if (SqPending() >= sq_entries_) return Fail(EBUSY, "io_uring_enter");
    }
    io_uring_sqe* sqe = &sqes_[sq_tail_local_ & sq_mask_];
    memset(sqe, 0, sizeof *sqe);
    *out = sqe;
    return Ok();
  }

  // Publishes the SQE written last to the kernel.
  void Push() {
    ++sq_tail_local_;
    StoreRelease(sq_tail_, sq_tail_local_);
  }

  SysError QueuePoll(int fd, uint32_t events, bool multishot, uint64_t user_data) {
    io_uring_sqe* sqe = nullptr;
    SysError e = GetSqe(&sqe);
    if (e) return e;
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = ToSqeMask(events);
    sqe->len = multishot ? IORING_POLL_ADD_MULTI : 0;
    sqe->user_data = user_data;
    Push();
    return Ok();
  }

  SysError QueueCancel(uint64_t target) {
    io_uring_sqe* sqe = nullptr;
    SysError e = GetSqe(&sqe);
    if (e) return e;
    sqe->opcode = IORING_OP_POLL_REMOVE;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->user_data = kInternal;
    Push();
    return Ok();
  }

  // Queues a poll request for every fd added, modified or due for re-arming
  // since the last Wait.
  SysError ArmDirty() {
    for (size_t i = 0; i < dirty_.size(); i++) {
      int fd = dirty_[i];
      Slot& s = slots_[fd];
      if (!s.dirty) continue;  // removed (and perhaps re-added) since
      s.dirty = false;
      if (!s.registered || s.armed) continue;
      // 31 bits of generation: a stale completion could only match after two
      // billion re-arms of one fd while its old request is still in flight.
      generation_ = (generation_ + 1) & 0x7fffffffu;
      uint64_t user_data = (static_cast<uint64_t>(generation_) << 32) | static_cast<uint32_t>(fd);
      SysError e = QueuePoll(fd, s.interest, s.trigger == Trigger::kEdge, user_data);
      if (e) {
        // Keep the fds not armed yet for the next attempt.
        s.dirty = true;
        dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(i));
        return e;
      }
      s.user_data = user_data;
      s.armed = true;
    }
    dirty_.clear();
    return Ok();
  }

  // Consumes completions into (fd, events) pairs, each fd once per Wait,
  // until the queue is empty or `out` is full (the rest wait for next time).
  // `queued`: the completions were in the queue before this Wait entered
  // the kernel.
  void Reap(int32_t* out, int capacity, int* count, bool queued) {
    unsigned head = *cq_head_;
    unsigned tail = LoadAcquire(cq_tail_);
    while (head != tail && *count < capacity) {
      const io_uring_cqe& cqe = cqes_[head & cq_mask_];
      head++;
      Complete(cqe, out, count, queued);
    }
    StoreRelease(cq_head_, head);
  }

  void Complete(const io_uring_cqe& cqe, int32_t* out, int* count, bool queued) {
    if (cqe.user_data & kInternal) return;
    int fd = static_cast<int>(cqe.user_data & 0xffffffffu);
    Slot* s = Find(fd);
    // Not the fd's current request: cancelled by Modify or Remove, or from a
    // registration of the same fd number that no longer exists.
    if (s == nullptr || !s->armed || s->user_data != cqe.user_data) return;
    bool more = cqe.flags & IORING_CQE_F_MORE;
    if (!more) s->armed = false;
    uint32_t m = cqe.res >= 0 ? static_cast<uint32_t>(cqe.res) : 0;
    uint32_t once = SeenOnce(m);
    if (queued && !more && cqe.res >= 0) {
      // A single-shot completion that waited in the queue may describe a
      // state since changed; the request is armed again in this Wait, and
      // the kernel's check then completes it at once if the fd is still
      // ready (level and oneshot alike: a oneshot key is not spent by a
      // report it never made). What the completion's poll saw once is
      // reported now, as the new request's poll cannot see it again; a
      // oneshot key is then spent, a level one re-armed all the same to
      // add the fd's present state to this report.
      uint32_t events = Fold(once, s->interest);
      if (events == 0 || s->trigger != Trigger::kOneshot) MarkDirty(fd);
      Report(fd, s, events, out, count);
      return;
    }
    uint32_t events;
    if (cqe.res < 0) {
      // The poll itself failed, EBADF above all: the fd was closed while
      // registered. Report every event asked for, as poll's POLLNVAL is, so
      // the owner's next read or write sees the error.
      events = s->interest;
    } else {
      // A completion caused by a wake-up carries the wake-up's key, not the
      // fd's state, and a socket's "readable" key (POLLIN | POLLPRI |
      // POLLRDNORM | POLLRDBAND) claims POLLPRI for any data. Where priority
      // is asked for and the mask may be that key, the state is read with
      // poll(). A multishot completion that waited in the queue is checked
      // the same way, as epoll checks an edge-triggered fd before reporting
      // it. Either check keeps what the completion's poll saw once.
      if (((s->interest & kPriority) && (m & POLLRDBAND)) || queued) m = PollNow(fd, s->interest) | once;
      events = Fold(m, s->interest);
    }
    if (!more) {
      // A single-shot request that found nothing to report is armed again.
      if (events == 0 && s->trigger != Trigger::kEdge) {
        MarkDirty(fd);
        return;
      }
      // Level: check again next Wait. Edge: a multishot request the kernel
      // ended without an error (its completion queue overflowed) is
      // resumed. Oneshot: silent until Modify.
      if (s->trigger == Trigger::kLevel || (s->trigger == Trigger::kEdge && cqe.res >= 0)) MarkDirty(fd);
    }
    Report(fd, s, events, out, count);
  }

  // Adds `events` (if any) to this Wait's output: a new pair, or the fd's
  // pair already in it, so that each fd appears once per Wait.
  void Report(int fd, Slot* s, uint32_t events, int32_t* out, int* count) {
    if (events == 0) return;
    if (s->reported_in == wait_seq_) {
      out[2 * s->out_index + 1] |= static_cast<int32_t>(events);
      return;
    }
    s->reported_in = wait_seq_;
    s->out_index = *count;
    out[2 * *count] = fd;
    out[2 * *count + 1] = static_cast<int32_t>(events);
    ++*count;
  }

  // A poll mask as events, masked by the interest. POLLRDBAND counts as
  // priority: it is asked for with POLLPRI, and a file that reported it
  // while left out would complete every re-arm.
  static uint32_t Fold(uint32_t m, uint32_t interest) {
    return FoldEvents(m & POLLIN, m & POLLOUT, m & (POLLPRI | POLLRDBAND), m & (POLLERR | POLLHUP | POLLNVAL),
                      interest);
  }

  // The bits of a completion's mask that a poll of the file may report once
  // per change, consuming the condition as it does (POLLPRI, POLLERR), and
  // that no later poll would show: kept whenever the mask came from a poll.
  // A mask with POLLRDBAND may instead be a socket's "readable" wake-up key,
  // whose POLLPRI claims nothing (the polls of TCP, UDP and Unix sockets, and
  // of the files that report once, never answer POLLRDBAND): nothing of it
  // is kept, and poll() decides.
  static uint32_t SeenOnce(uint32_t m) { return (m & POLLRDBAND) ? 0 : m & (POLLPRI | POLLERR); }

  static uint32_t PollNow(int fd, uint32_t events) {
    pollfd p{fd, static_cast<short>(ToPollMask(events)), 0};
    if (RetryOnEintr([&] { return poll(&p, 1, 0); }) < 0) return POLLERR;
    return static_cast<uint16_t>(p.revents);
  }

  // Probes multishot poll on the first ring of the process: a multishot
  // request on a readable eventfd completes with IORING_CQE_F_MORE where the
  // kernel has it, and with EINVAL where it does not. Two threads may both
  // probe; they find the same answer.
  void ProbeMultishot() {
    bool yes = false;
    int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd >= 0 && !QueuePoll(efd, kRead, true, kProbe) &&
        SysEnter(ring_fd_, SqPending(), 1, IORING_ENTER_GETEVENTS, nullptr, 0) >= 0 && CqReady() > 0) {
      // The ring is new: the probe's is the only completion.
      const io_uring_cqe& cqe = cqes_[*cq_head_ & cq_mask_];
      yes = cqe.user_data == kProbe && cqe.res >= 0 && (cqe.flags & IORING_CQE_F_MORE);
      StoreRelease(cq_head_, *cq_head_ + 1);
      // A live multishot request is cancelled; its last completion carries
      // kProbe, an internal tag, and is skipped by Wait.
      if (yes && !QueueCancel(kProbe)) SysEnter(ring_fd_, SqPending(), 0, 0, nullptr, 0);
    }
    if (efd >= 0) close(efd);
    g_multishot.store(yes ? 1 : 2, std::memory_order_relaxed);
  }

  int ring_fd_ = -1;
  void* sq_ring_ = nullptr;
  void* cq_ring_ = nullptr;
  io_uring_sqe* sqes_ = nullptr;
  size_t sq_ring_size_ = 0, cq_ring_size_ = 0, sqes_size_ = 0;
  unsigned sq_entries_ = 0;
  unsigned *sq_head_ = nullptr, *sq_tail_ = nullptr, sq_mask_ = 0;
  unsigned *cq_head_ = nullptr, *cq_tail_ = nullptr, cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  unsigned sq_tail_local_ = 0;

  std::vector<Slot> slots_;  // indexed by fd
  std::vector<int> dirty_;   // fds to arm with the next Wait
  uint32_t generation_ = 0;
  uint64_t wait_seq_ = 0;
};

std::unique_ptr<Backend> Create(SysError* error) {
  auto backend = std::make_unique<IoUringBackend>();
  *error = backend->Open();
  if (*error) return nullptr;  // the destructor unmaps and closes what Open made
  return backend;
}

// Below epoll (30): on the C10K curve both cost the same per select(), and
// on the hello server io_uring's edge is within the noise (README, Beyond
// Python's selectors), while io_uring is disabled in many sandboxes.
BackendRegistrar registrar("io_uring", 25, &Create);

}  // namespace
}  // namespace selectors

#endif  // __has_include(<linux/io_uring.h>)
