// The kqueue backend's logic, as pure functions over a neutral kevent-like
// record, so that it compiles and is unit-tested on Linux, where there is no
// <sys/event.h> (test/native/kqueue_translate_test.cc). kqueue.cc only maps
// these records to and from the platform's struct kevent and makes the calls.
//
// kqueue watches (fd, filter) pairs, not fds: one registration becomes one
// filter per event (EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT for priority),
// and a wait returns one record per filter that fired. Hence:
//  - BuildChanges turns a registration change into filter additions and
//    deletions, each with EV_RECEIPT so that every change reports its own
//    outcome (EV_ERROR with data = errno, or 0);
//  - ReceiptError reads those outcomes, tolerating the deletions that fail
//    because the fd was closed (closing an fd drops its filters already);
//  - BuildUndo restores the previous registration after a partial failure;
//  - EventMerger folds per-filter records into one (fd, events) pair per fd.
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "events.h"

namespace selectors {
namespace kq {

// Filters and flags named after kqueue's, with values of our own; kqueue.cc
// maps them to the platform's.
enum Filter : int16_t { kFilterRead = 1, kFilterWrite = 2, kFilterExcept = 3 };

enum Flag : uint16_t {
  kAdd = 1 << 0,       // EV_ADD
  kDelete = 1 << 1,    // EV_DELETE
  kEnable = 1 << 2,    // EV_ENABLE
  kDisable = 1 << 3,   // EV_DISABLE
  kClear = 1 << 4,     // EV_CLEAR: edge-triggered
  kDispatch = 1 << 5,  // EV_DISPATCH: disabled after it fires, until enabled
  kReceipt = 1 << 6,   // EV_RECEIPT: report this change's outcome
  kEof = 1 << 7,       // EV_EOF
  kError = 1 << 8,     // EV_ERROR
};

// fflags of the except filter: out-of-band (TCP urgent) data (NOTE_OOB).
constexpr uint32_t kNoteOob = 1;

// One kevent. udata carries the registration (interest and trigger, see
// PackUdata), as epoll's event data does in epoll.cc, so that results are
// masked and oneshot fds disarmed without a lookup.
struct KEvent {
  int fd = -1;
  int16_t filter = 0;
  uint16_t flags = 0;
  uint32_t fflags = 0;
  int64_t data = 0;
  uint32_t udata = 0;
};

struct Registration {
  uint32_t events = 0;  // 0: not registered
  Trigger trigger = Trigger::kLevel;
  bool operator==(const Registration& o) const { return events == o.events && trigger == o.trigger; }
};

inline uint32_t PackUdata(const Registration& r) {
  return r.events | (static_cast<uint32_t>(r.trigger) << 8);
}

inline Registration UnpackUdata(uint32_t udata) {
  return Registration{udata & kAllEvents, static_cast<Trigger>((udata >> 8) & 0xff)};
}

// The filters that watch `events`, in a fixed order; returns how many.
inline int FiltersOf(uint32_t events, int16_t out[3]) {
  int n = 0;
  if (events & kRead) out[n++] = kFilterRead;
  if (events & kWrite) out[n++] = kFilterWrite;
  if (events & kPriority) out[n++] = kFilterExcept;
  return n;
}

inline KEvent Change(int fd, int16_t filter, uint16_t flags, const Registration& r) {
  KEvent k;
  k.fd = fd;
  k.filter = filter;
  k.flags = flags;
  k.fflags = filter == kFilterExcept ? kNoteOob : 0;
  k.udata = PackUdata(r);
  return k;
}

// Appends the changes that take `fd` from registration `from` to `to`
// (events 0: not registered). A filter kept is added again, which updates
// its udata and re-enables it (re-arming a oneshot fd that fired). A trigger
// change deletes every filter first: kqueue keeps EV_CLEAR from the first
// EV_ADD of a filter.
inline void BuildChanges(int fd, const Registration& from, const Registration& to, std::vector<KEvent>* changes) {
  int16_t filters[3];
  bool retrigger = from.events != 0 && to.events != 0 && from.trigger != to.trigger;
  int n = FiltersOf(from.events, filters);
  for (int i = 0; i < n; i++) {
    int16_t f = filters[i];
    bool kept = (to.events & (f == kFilterRead ? kRead : f == kFilterWrite ? kWrite : kPriority)) != 0;
    if (!kept || retrigger) changes->push_back(Change(fd, f, kDelete | kReceipt, from));
  }
  uint16_t mode = to.trigger == Trigger::kEdge ? kClear : to.trigger == Trigger::kOneshot ? kDispatch : 0;
  n = FiltersOf(to.events, filters);
  for (int i = 0; i < n; i++) changes->push_back(Change(fd, filters[i], kAdd | kEnable | kReceipt | mode, to));
}

// The first error among the receipts of changes made with kReceipt, or 0.
// A deletion that fails with ENOENT or EBADF is not an error: the fd was
// closed since it was registered, which removed its filters already.
inline int ReceiptError(const KEvent* receipts, int n) {
  for (int i = 0; i < n; i++) {
    const KEvent& r = receipts[i];
    if (!(r.flags & kError) || r.data == 0) continue;
    int err = static_cast<int>(r.data);
    if ((r.flags & kDelete) && (err == ENOENT || err == EBADF)) continue;
    return err;
  }
  return 0;
}

// After changes towards a registration failed in part: deletes the filters
// that were added, then adds back those of `from` (none for a new fd), so
// that the kernel is left as it was. Errors of the undo itself are ignored:
// there is nothing left to fall back to.
inline void BuildUndo(const KEvent* receipts, int n, int fd, const Registration& from, std::vector<KEvent>* changes) {
  for (int i = 0; i < n; i++) {
    const KEvent& r = receipts[i];
    if ((r.flags & kAdd) && (!(r.flags & kError) || r.data == 0)) {
      changes->push_back(Change(fd, r.filter, kDelete, from));
    }
  }
  Registration none;
  size_t first = changes->size();
  BuildChanges(fd, none, from, changes);
  for (size_t i = first; i < changes->size(); i++) (*changes)[i].flags &= static_cast<uint16_t>(~kReceipt);
}

// The public events one record stands for, masked by the registration.
// EV_EOF on the read filter is the peer's end of stream: readable (read
// returns 0), unless fflags carries a socket error. EV_EOF on the write
// filter means nothing more can be written: a hang-up. Both error cases fold
// into every event asked for, as POLLERR/POLLHUP do in the other backends.
inline uint32_t RecordEvents(const KEvent& k) {
  uint32_t interest = UnpackUdata(k.udata).events;
  bool eof = (k.flags & kEof) != 0;
  bool in = k.filter == kFilterRead;
  bool out = k.filter == kFilterWrite;
  bool pri = k.filter == kFilterExcept;
  bool err = eof && (out || k.fflags != 0);
  return FoldEvents(in, out, pri, err, interest);
}

// Folds a wait's records into (fd, events) pairs, one per fd, in the order
// the fds first appear. Keeps per-fd scratch across waits (a stamp per fd
// number), so merging costs O(records) with no allocation once warmed up.
class EventMerger {
 public:
  // Writes at most `capacity` pairs to `out` and returns how many. Records
  // with EV_ERROR (failed changes submitted along with the wait) carry no
  // readiness and are skipped. For each oneshot fd reported, appends to
  // `disarm` the changes that disable its other filters: EV_DISPATCH only
  // disables the filter that fired, while a oneshot key is silent as a whole
  // until modify re-arms it.
  int Merge(const KEvent* records, int n, int32_t* out, int capacity, std::vector<KEvent>* disarm) {
    ++round_;
    int count = 0;
    for (int i = 0; i < n; i++) {
      const KEvent& k = records[i];
      if (k.flags & kError) continue;
      if (k.fd < 0) continue;
      uint32_t events = RecordEvents(k);
      if (events == 0) continue;
      size_t fd = static_cast<size_t>(k.fd);
      if (fd >= stamp_.size()) {
        stamp_.resize(fd + 1, 0);
        index_.resize(fd + 1, 0);
      }
      if (stamp_[fd] == round_) {
        out[2 * index_[fd] + 1] |= static_cast<int32_t>(events);
        continue;
      }
      if (count >= capacity) continue;
      stamp_[fd] = round_;
      index_[fd] = count;
      out[2 * count] = k.fd;
      out[2 * count + 1] = static_cast<int32_t>(events);
      count++;
      Registration r = UnpackUdata(k.udata);
      if (r.trigger == Trigger::kOneshot) {
        int16_t filters[3];
        int m = FiltersOf(r.events, filters);
        for (int j = 0; j < m; j++) {
          if (filters[j] != k.filter) disarm->push_back(Change(k.fd, filters[j], kDisable, r));
        }
      }
    }
    return count;
  }

 private:
  uint64_t round_ = 0;
  std::vector<uint64_t> stamp_;  // by fd: the round that last reported it
  std::vector<int> index_;       // by fd: its pair in that round's output
};

}  // namespace kq
}  // namespace selectors
