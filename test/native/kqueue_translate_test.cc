// Unit test of kqueue_translate.h on hand-made kevent records: the kqueue
// backend's logic, checked on Linux where kqueue itself does not exist.
// Prints TAP ("ok N - name" / "not ok N - name") and exits 1 on any failure.
// Built and run by test/kqueue-translate.test.ts.
#include <errno.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "kqueue_translate.h"

using namespace selectors;
using namespace selectors::kq;

namespace {

int test_number = 0;
int failures = 0;
bool current_ok = true;
std::string current_detail;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      current_ok = false;                                            \
      current_detail += std::string(" [line ") + std::to_string(__LINE__) + ": " #cond "]"; \
    }                                                                \
  } while (0)

template <typename Body>
void Case(const char* name, Body body) {
  current_ok = true;
  current_detail.clear();
  body();
  ++test_number;
  if (!current_ok) failures++;
  printf("%s %d - %s%s\n", current_ok ? "ok" : "not ok", test_number, name, current_detail.c_str());
}

KEvent Record(int fd, int16_t filter, uint16_t flags, Registration r, uint32_t fflags = 0, int64_t data = 0) {
  KEvent k;
  k.fd = fd;
  k.filter = filter;
  k.flags = flags;
  k.fflags = fflags;
  k.data = data;
  k.udata = PackUdata(r);
  return k;
}

// A receipt as kevent returns it for a change: the change's flags plus
// EV_ERROR, with data the errno (0 for success).
KEvent Receipt(const KEvent& change, int err) {
  KEvent r = change;
  r.flags |= kError;
  r.data = err;
  return r;
}

const Registration kNone{};
const Registration kReadLevel{kRead, Trigger::kLevel};
const Registration kReadWriteLevel{kRead | kWrite, Trigger::kLevel};

}  // namespace

int main() {
  Case("register READ|WRITE: one EV_ADD|EV_ENABLE|EV_RECEIPT per filter, interest in udata", [] {
    std::vector<KEvent> c;
    BuildChanges(5, kNone, kReadWriteLevel, &c);
    CHECK(c.size() == 2);
    CHECK(c[0].fd == 5 && c[0].filter == kFilterRead && c[0].flags == (kAdd | kEnable | kReceipt));
    CHECK(c[1].fd == 5 && c[1].filter == kFilterWrite && c[1].flags == (kAdd | kEnable | kReceipt));
    CHECK(UnpackUdata(c[1].udata) == kReadWriteLevel);
  });

  Case("edge is EV_CLEAR, oneshot EV_DISPATCH, priority the except filter with NOTE_OOB", [] {
    std::vector<KEvent> c;
    BuildChanges(3, kNone, Registration{kRead, Trigger::kEdge}, &c);
    CHECK(c.size() == 1 && (c[0].flags & kClear) && !(c[0].flags & kDispatch));
    c.clear();
    BuildChanges(3, kNone, Registration{kWrite | kPriority, Trigger::kOneshot}, &c);
    CHECK(c.size() == 2);
    CHECK(c[0].filter == kFilterWrite && (c[0].flags & kDispatch) && !(c[0].flags & kClear));
    CHECK(c[1].filter == kFilterExcept && c[1].fflags == kNoteOob && (c[1].flags & kDispatch));
  });

  Case("modify READ|WRITE -> READ: deletes the write filter, re-adds read with the new udata", [] {
    std::vector<KEvent> c;
    BuildChanges(9, kReadWriteLevel, kReadLevel, &c);
    CHECK(c.size() == 2);
    CHECK(c[0].filter == kFilterWrite && c[0].flags == (kDelete | kReceipt));
    CHECK(c[1].filter == kFilterRead && (c[1].flags & kAdd) && UnpackUdata(c[1].udata) == kReadLevel);
  });

  Case("a trigger change deletes every filter before adding them back", [] {
    std::vector<KEvent> c;
    BuildChanges(4, kReadLevel, Registration{kRead, Trigger::kEdge}, &c);
    CHECK(c.size() == 2);
    CHECK(c[0].filter == kFilterRead && c[0].flags == (kDelete | kReceipt));
    CHECK(c[1].filter == kFilterRead && c[1].flags == (kAdd | kEnable | kReceipt | kClear));
  });

  Case("unregister deletes each filter", [] {
    std::vector<KEvent> c;
    BuildChanges(4, Registration{kRead | kWrite | kPriority, Trigger::kLevel}, kNone, &c);
    CHECK(c.size() == 3);
    for (const KEvent& k : c) CHECK(k.flags == (kDelete | kReceipt));
  });

  Case("receipts: success is EV_ERROR with data 0; a failed add is the error", [] {
    std::vector<KEvent> c;
    BuildChanges(7, kNone, kReadWriteLevel, &c);
    KEvent ok[] = {Receipt(c[0], 0), Receipt(c[1], 0)};
    CHECK(ReceiptError(ok, 2) == 0);
    KEvent bad[] = {Receipt(c[0], 0), Receipt(c[1], EPERM)};
    CHECK(ReceiptError(bad, 2) == EPERM);
    KEvent badfd[] = {Receipt(c[0], EBADF), Receipt(c[1], EBADF)};
    CHECK(ReceiptError(badfd, 2) == EBADF);
  });

  Case("receipts: deleting the filters of a closed fd (ENOENT, EBADF) is no error", [] {
    std::vector<KEvent> c;
    BuildChanges(7, kReadWriteLevel, kNone, &c);
    KEvent r[] = {Receipt(c[0], ENOENT), Receipt(c[1], EBADF)};
    CHECK(ReceiptError(r, 2) == 0);
  });

  Case("undo after a partly failed register deletes the filter that was added", [] {
    std::vector<KEvent> c;
    BuildChanges(8, kNone, kReadWriteLevel, &c);
    KEvent r[] = {Receipt(c[0], 0), Receipt(c[1], EPERM)};
    std::vector<KEvent> undo;
    BuildUndo(r, 2, 8, kNone, &undo);
    CHECK(undo.size() == 1);
    CHECK(undo[0].fd == 8 && undo[0].filter == kFilterRead && undo[0].flags == kDelete);
  });

  Case("undo after a partly failed modify restores the old registration", [] {
    std::vector<KEvent> c;
    BuildChanges(8, kReadLevel, kReadWriteLevel, &c);
    KEvent r[] = {Receipt(c[0], 0), Receipt(c[1], EPERM)};
    std::vector<KEvent> undo;
    BuildUndo(r, 2, 8, kReadLevel, &undo);
    CHECK(undo.size() == 2);
    CHECK(undo[0].filter == kFilterRead && undo[0].flags == kDelete);
    CHECK(undo[1].filter == kFilterRead && (undo[1].flags & kAdd) && !(undo[1].flags & kReceipt));
    CHECK(UnpackUdata(undo[1].udata) == kReadLevel);
  });

  Case("results: per-filter records merge into one entry per fd, in first-seen order", [] {
    KEvent recs[] = {Record(5, kFilterRead, 0, kReadWriteLevel), Record(6, kFilterWrite, 0, kReadWriteLevel),
                     Record(5, kFilterWrite, 0, kReadWriteLevel)};
    EventMerger m;
    int32_t out[8] = {};
    std::vector<KEvent> disarm;
    int n = m.Merge(recs, 3, out, 4, &disarm);
    CHECK(n == 2);
    CHECK(out[0] == 5 && out[1] == static_cast<int32_t>(kRead | kWrite));
    CHECK(out[2] == 6 && out[3] == static_cast<int32_t>(kWrite));
    CHECK(disarm.empty());
    // The next wait starts afresh.
    KEvent again[] = {Record(6, kFilterRead, 0, kReadWriteLevel)};
    n = m.Merge(again, 1, out, 4, &disarm);
    CHECK(n == 1 && out[0] == 6 && out[1] == static_cast<int32_t>(kRead));
  });

  Case("EV_EOF: on read, end of stream (readable); with a socket error or on write, folded into all asked", [] {
    EventMerger m;
    int32_t out[8] = {};
    std::vector<KEvent> disarm;
    KEvent eof_read[] = {Record(5, kFilterRead, kEof, kReadWriteLevel)};
    CHECK(m.Merge(eof_read, 1, out, 4, &disarm) == 1 && out[1] == static_cast<int32_t>(kRead));
    KEvent reset[] = {Record(5, kFilterRead, kEof, kReadWriteLevel, ECONNRESET)};
    CHECK(m.Merge(reset, 1, out, 4, &disarm) == 1 && out[1] == static_cast<int32_t>(kRead | kWrite));
    KEvent eof_write[] = {Record(5, kFilterWrite, kEof, Registration{kWrite, Trigger::kLevel})};
    CHECK(m.Merge(eof_write, 1, out, 4, &disarm) == 1 && out[1] == static_cast<int32_t>(kWrite));
  });

  Case("priority: an except-filter record is EVENT_PRIORITY", [] {
    EventMerger m;
    int32_t out[4] = {};
    std::vector<KEvent> disarm;
    Registration r{kRead | kPriority, Trigger::kLevel};
    KEvent recs[] = {Record(11, kFilterExcept, 0, r, kNoteOob), Record(11, kFilterRead, 0, r)};
    CHECK(m.Merge(recs, 2, out, 2, &disarm) == 1);
    CHECK(out[0] == 11 && out[1] == static_cast<int32_t>(kRead | kPriority));
  });

  Case("EV_ERROR records (changes that failed during a wait) carry no readiness", [] {
    EventMerger m;
    int32_t out[4] = {};
    std::vector<KEvent> disarm;
    KEvent recs[] = {Record(3, kFilterRead, kError, kReadLevel, 0, ENOENT), Record(4, kFilterRead, 0, kReadLevel)};
    CHECK(m.Merge(recs, 2, out, 2, &disarm) == 1 && out[0] == 4);
  });

  Case("oneshot: a reported fd gets its other filters disabled (EV_DISPATCH only disables the one that fired)", [] {
    EventMerger m;
    int32_t out[4] = {};
    std::vector<KEvent> disarm;
    Registration r{kRead | kWrite | kPriority, Trigger::kOneshot};
    KEvent recs[] = {Record(7, kFilterRead, 0, r)};
    CHECK(m.Merge(recs, 1, out, 2, &disarm) == 1);
    CHECK(disarm.size() == 2);
    CHECK(disarm[0].fd == 7 && disarm[0].filter == kFilterWrite && disarm[0].flags == kDisable);
    CHECK(disarm[1].fd == 7 && disarm[1].filter == kFilterExcept && disarm[1].flags == kDisable);
  });

  Case("events outside the interest are never reported", [] {
    EventMerger m;
    int32_t out[4] = {};
    std::vector<KEvent> disarm;
    KEvent recs[] = {Record(2, kFilterWrite, 0, kReadLevel)};
    CHECK(m.Merge(recs, 1, out, 2, &disarm) == 0);
  });

  printf("1..%d\n", test_number);
  return failures == 0 ? 0 : 1;
}
