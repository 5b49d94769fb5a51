// kqueue(2), macOS and the BSDs. The logic (which filters a registration
// needs, reading receipts, undoing a partial change, merging per-filter
// results into one entry per fd) lives in kqueue_translate.h, unit-tested on
// Linux; this file maps its neutral records to struct kevent and makes the
// calls. On Linux it is built and run against libkqueue
// (NODE_SELECTORS_PORTABLE=1 LIBKQUEUE_DIR=...), which .ci/run does; the
// GitHub workflow (.github/workflows/ci.yml) runs it on macOS and FreeBSD.
#include <errno.h>
#include <fcntl.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>

#include "backend.h"
#include "kqueue_translate.h"
#include "platform.h"

namespace selectors {
namespace {

// EVFILT_EXCEPT with NOTE_OOB reports TCP urgent data on macOS and OpenBSD.
// FreeBSD (sys/sys/event.h up to 15), NetBSD and libkqueue have no such
// filter: there SupportedEvents() leaves out kPriority, so that registering
// EVENT_PRIORITY fails in TypeScript with ERR_UNSUPPORTED_EVENTS (select and
// poll still watch it), and Change() refuses it here.
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
constexpr bool kHaveExcept = true;
#else
constexpr bool kHaveExcept = false;
#endif

// Set by native/configure.mjs when kqueue is libkqueue's (a Linux build).
#ifdef NS_LIBKQUEUE
constexpr bool kLibkqueue = true;
#else
constexpr bool kLibkqueue = false;
#endif

// struct kevent's own field types: filter and flags are int16_t/uint16_t on
// macOS and FreeBSD, uint32_t on NetBSD (where EVFILT_READ is 0).
using KeventRecord = struct kevent;  // the struct, not the function of that name
using NativeFilterT = decltype(KeventRecord::filter);
using NativeFlagsT = decltype(KeventRecord::flags);

// The platform's filter for a neutral one; false for a filter the platform
// lacks (kFilterExcept without EVFILT_EXCEPT). No value stands for "none":
// 0 is EVFILT_READ on NetBSD.
bool NativeFilter(int16_t f, NativeFilterT* out) {
  switch (f) {
    case kq::kFilterRead:
      *out = EVFILT_READ;
      return true;
    case kq::kFilterWrite:
      *out = EVFILT_WRITE;
      return true;
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
    case kq::kFilterExcept:
      *out = EVFILT_EXCEPT;
      return true;
#endif
    default:
      return false;
  }
}

// The neutral filter for a platform's one; 0 (no neutral filter) for any other.
int16_t NeutralFilter(NativeFilterT f) {
  if (f == EVFILT_READ) return kq::kFilterRead;
  if (f == EVFILT_WRITE) return kq::kFilterWrite;
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
  if (f == EVFILT_EXCEPT) return kq::kFilterExcept;
#endif
  return 0;
}

// Neutral flag bit <-> platform flag, in one table for both directions.
struct FlagPair {
  uint16_t neutral;
  NativeFlagsT native;
};
constexpr FlagPair kFlags[] = {
    {kq::kAdd, EV_ADD},         {kq::kDelete, EV_DELETE},     {kq::kEnable, EV_ENABLE},
    {kq::kDisable, EV_DISABLE}, {kq::kClear, EV_CLEAR},       {kq::kDispatch, EV_DISPATCH},
    {kq::kReceipt, EV_RECEIPT}, {kq::kEof, EV_EOF},           {kq::kError, EV_ERROR},
};

// False (nothing written) for a filter the platform lacks.
bool ToNative(const kq::KEvent& k, struct kevent* ev) {
  NativeFilterT filter;
  if (!NativeFilter(k.filter, &filter)) return false;
  NativeFlagsT flags = 0;
  for (const FlagPair& p : kFlags) {
    if (k.flags & p.neutral) flags |= p.native;
  }
  uint32_t fflags = 0;
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
  if (k.fflags & kq::kNoteOob) fflags |= NOTE_OOB;
#endif
  // udata is a pointer on macOS and FreeBSD, an intptr_t on older NetBSD:
  // the C-style cast converts to either.
  EV_SET(ev, static_cast<uintptr_t>(k.fd), filter, flags, fflags, 0,
         (decltype(ev->udata))(static_cast<uintptr_t>(k.udata)));
  return true;
}

kq::KEvent FromNative(const struct kevent& ev) {
  kq::KEvent k;
  k.fd = static_cast<int>(ev.ident);
  k.filter = NeutralFilter(ev.filter);
  for (const FlagPair& p : kFlags) {
    if (ev.flags & p.native) k.flags |= p.neutral;
  }
  // For EVFILT_READ with EV_EOF, fflags is the socket's pending error.
  k.fflags = ev.fflags;
  k.data = static_cast<int64_t>(ev.data);
  k.udata = static_cast<uint32_t>((uintptr_t)(ev.udata));
  return k;
}

class KqueueBackend final : public Backend {
 public:
  explicit KqueueBackend(int kq) : kq_(kq) {}
  ~KqueueBackend() override { Close(); }

  SysError Add(int fd, uint32_t events, Trigger trigger) override {
    return Change(fd, kq::Registration{events, trigger});
  }

  SysError Modify(int fd, uint32_t events, Trigger trigger) override {
    return Change(fd, kq::Registration{events, trigger});
  }

  SysError Remove(int fd) override {
    // Closing an fd removes its filters; ReceiptError tolerates the
    // ENOENT/EBADF that deleting them reports then, so an fd closed while
    // registered is removed without error.
    return Change(fd, kq::Registration{});
  }

  SysError Wait(const Timeout& timeout, int32_t* out, int capacity, int* count) override {
    *count = 0;
    // Up to two records (read and write) per reported fd.
    size_t want = static_cast<size_t>(capacity) * 2;
    if (records_.size() < want) records_.resize(want);
    Deadline deadline(timeout);
    int n = RetryOnEintr([&] {
      return kevent(kq_, nullptr, 0, records_.data(), static_cast<int>(want), deadline.Remaining());
    });
    if (n < 0) return Fail(errno, "kevent");
    neutral_.clear();
    for (int i = 0; i < n; i++) neutral_.push_back(FromNative(records_[static_cast<size_t>(i)]));
    disarm_.clear();
    *count = merger_.Merge(neutral_.data(), n, out, capacity, &disarm_);
    if (!disarm_.empty()) {
      // Disarm the other filters of oneshot fds now, before the caller can
      // re-arm them with modify. Each change carries EV_RECEIPT and has room
      // for its receipt, so that one failure (ENOENT: a filter of an fd
      // closed meanwhile, which leaves nothing to disarm) does not stop the
      // rest; those failures are ignored.
      Submit(disarm_, &receipts_);
    }
    return Ok();
  }

  bool Supports(Trigger) const override { return true; }

  uint32_t SupportedEvents() const override { return kHaveExcept ? kAllEvents : (kRead | kWrite); }

  int Fileno() const override { return kq_; }

  // A BSD kqueue fd is readable while events are pending. libkqueue's is
  // the write end of an internal pipe and never readable, so an attached
  // reactor watches a libkqueue selector through the helper thread instead.
  bool FilenoIsPollable() const override { return !kLibkqueue; }

  void Close() override {
    if (kq_ >= 0) close(kq_);
    kq_ = -1;
  }

 private:
  SysError Change(int fd, const kq::Registration& to) {
    if (!kHaveExcept && (to.events & kPriority)) return Fail(EINVAL, "kevent");
    kq::Registration from = fd >= 0 && static_cast<size_t>(fd) < regs_.size() ? regs_[fd] : kq::Registration{};
    changes_.clear();
    kq::BuildChanges(fd, from, to, &changes_);
    if (Submit(changes_, &receipts_) < 0) return Fail(errno, "kevent");
    int err = kq::ReceiptError(receipts_.data(), static_cast<int>(receipts_.size()));
    if (err != 0) {
      std::vector<kq::KEvent> undo;
      kq::BuildUndo(receipts_.data(), static_cast<int>(receipts_.size()), fd, from, &undo);
      // Best effort: with receipts, every undo change is tried even if one fails.
      Submit(undo, &receipts_);
      return Fail(err, "kevent");
    }
    if (static_cast<size_t>(fd) >= regs_.size()) regs_.resize(static_cast<size_t>(fd) + 1);
    regs_[fd] = to;
    return Ok();
  }

  // Applies `changes` and collects one receipt per change into `receipts`.
  // Every change is sent with EV_RECEIPT and the event list has room for
  // all their receipts: kevent(2) then reports each change's outcome as an
  // EV_ERROR record (data 0 on success) and goes on after a failure, where
  // without room it would stop at the first failing change and return -1,
  // leaving the rest of the list unapplied. The list is exactly as long as
  // the changes, so it holds receipts only, never a pending event.
  int Submit(const std::vector<kq::KEvent>& changes, std::vector<kq::KEvent>* receipts) {
    receipts->clear();
    native_changes_.clear();
    for (const kq::KEvent& k : changes) {
      struct kevent ev;
      // Never happens: Change() refuses kPriority where there is no
      // EVFILT_EXCEPT, so no registration names a filter the platform lacks.
      if (!ToNative(k, &ev)) {
        errno = EINVAL;
        return -1;
      }
      ev.flags |= EV_RECEIPT;
      native_changes_.push_back(ev);
    }
    if (native_results_.size() < changes.size()) native_results_.resize(changes.size());
    timespec zero{};
    int n = RetryOnEintr([&] {
      return kevent(kq_, native_changes_.data(), static_cast<int>(native_changes_.size()), native_results_.data(),
                    static_cast<int>(changes.size()), &zero);
    });
    for (int i = 0; i < n; i++) receipts->push_back(FromNative(native_results_[static_cast<size_t>(i)]));
    return n;
  }

  int kq_;
  std::vector<kq::Registration> regs_;  // by fd: what the kernel has now
  std::vector<kq::KEvent> changes_;
  std::vector<struct kevent> records_;
  std::vector<kq::KEvent> neutral_;
  std::vector<kq::KEvent> disarm_;
  std::vector<kq::KEvent> receipts_;
  std::vector<struct kevent> native_changes_;
  std::vector<struct kevent> native_results_;
  kq::EventMerger merger_;
};

std::unique_ptr<Backend> Create(SysError* error) {
  const char* syscall = nullptr;
  int kq = platform::Kqueue(&syscall);
  if (kq < 0) {
    *error = Fail(errno, syscall);
    return nullptr;
  }
  return std::make_unique<KqueueBackend>(kq);
}

BackendRegistrar registrar("kqueue", 30, &Create);

}  // namespace
}  // namespace selectors
