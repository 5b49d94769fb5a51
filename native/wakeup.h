// Waking a blocked wait from anywhere: another thread, a timer, a signal
// handler. Each selector that is asked for it gets a wakeup channel (an
// eventfd where there is one, else a pipe: native/platform.h) that its
// backend watches like any fd;
// the selector drains it and takes it out of the results, so users never see
// it. Repeated wakeups before a wait coalesce into one early return.
//
// Other threads cannot hold the selector (a JavaScript object of one thread),
// so they hold a handle: a number that names the channel in a process-wide,
// locked table. A handle used after its selector closed finds nothing, where
// a raw fd number could by then name some other file and be written into.
#pragma once

#include <stdint.h>

#include "errors.h"

namespace selectors {

class WakeupChannel {
 public:
  WakeupChannel() = default;
  WakeupChannel(const WakeupChannel&) = delete;
  WakeupChannel& operator=(const WakeupChannel&) = delete;
  ~WakeupChannel() { Close(); }

  // Creates the fds.
  SysError Open();
  // The fd the backend watches for readability.
  int fd() const { return read_fd_; }
  // The channel's handle, entering it into the handle table on first use
  // (a channel only its owner signals never needs one).
  uint64_t Publish();
  // Makes fd() readable. One write(2): async-signal-safe and thread-safe.
  void Signal() const;
  // Empties the channel after a wait reported it.
  void Drain() const;
  // Leaves the handle table, then closes the fds: a concurrent Wake either
  // finished writing before, or finds the handle gone.
  void Close();

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;  // the same fd as read_fd_ for an eventfd
  uint64_t handle_ = 0;
};

// Signals the channel a handle names, from any thread. False when the handle
// names no open channel (its selector was closed).
bool WakeByHandle(uint64_t handle);

}  // namespace selectors
