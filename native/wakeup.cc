#include "wakeup.h"

#include <mutex>
#include <unordered_map>

#include "platform.h"

namespace selectors {
namespace {

// The handle table: shared by every thread by design, since handles exist to
// cross threads. Function-local statics, so it exists before any use.
std::mutex& TableLock() {
  static std::mutex lock;
  return lock;
}

std::unordered_map<uint64_t, int>& Table() {
  static std::unordered_map<uint64_t, int> table;
  return table;
}

// Handles are never reused; 2^53 of them (JavaScript's exact integers) will
// not run out.
uint64_t next_handle = 1;

}  // namespace

SysError WakeupChannel::Open() { return platform::OpenWakeChannel(&read_fd_, &write_fd_); }

uint64_t WakeupChannel::Publish() {
  if (handle_ == 0) {
    std::lock_guard<std::mutex> guard(TableLock());
    handle_ = next_handle++;
    Table().emplace(handle_, write_fd_);
  }
  return handle_;
}

void WakeupChannel::Signal() const { platform::SignalWakeChannel(write_fd_); }

void WakeupChannel::Drain() const { platform::DrainWakeChannel(read_fd_); }

void WakeupChannel::Close() {
  if (handle_ != 0) {
    std::lock_guard<std::mutex> guard(TableLock());
    Table().erase(handle_);
    handle_ = 0;
  }
  platform::CloseWakeChannel(read_fd_, write_fd_);
  read_fd_ = write_fd_ = -1;
}

bool WakeByHandle(uint64_t handle) {
  // The write happens under the lock, so Close cannot close the fd (and the
  // number be reused) in between.
  std::lock_guard<std::mutex> guard(TableLock());
  auto it = Table().find(handle);
  if (it == Table().end()) return false;
  platform::SignalWakeChannel(it->second);
  return true;
}

}  // namespace selectors
