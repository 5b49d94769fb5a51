// The public event bits, trigger modes and how kernel readiness folds into
// them: shared by every backend, and free of Node headers so that pure
// translation code (kqueue_translate.h) compiles and is unit-tested alone.
#pragma once

#include <stdint.h>

namespace selectors {

// The public event bits (EVENT_READ, EVENT_WRITE, EVENT_PRIORITY).
constexpr uint32_t kRead = 1;
constexpr uint32_t kWrite = 2;
constexpr uint32_t kPriority = 4;
constexpr uint32_t kAllEvents = kRead | kWrite | kPriority;

enum class Trigger : int32_t { kLevel = 0, kEdge = 1, kOneshot = 2 };

// Translates kernel readiness into public events. Error and hang-up conditions
// are reported as every condition the owner asked for, so that whichever of
// read, write or recv(MSG_OOB) it does next sees the error; the result is
// masked by the interest, so reported events are always a subset of it.
inline uint32_t FoldEvents(bool in, bool out, bool pri, bool err_or_hup, uint32_t interest) {
  uint32_t events = (in ? kRead : 0) | (out ? kWrite : 0) | (pri ? kPriority : 0);
  if (err_or_hup) events = kAllEvents;
  return events & interest;
}

}  // namespace selectors
