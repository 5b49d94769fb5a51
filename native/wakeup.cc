#include "wakeup.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <mutex>
#include <unordered_map>

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

SysError MakeFds(int* read_fd, int* write_fd) {
#ifdef __linux__
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Fail(errno, "eventfd");
  *read_fd = *write_fd = fd;
#else
  int fds[2];
  if (pipe(fds) < 0) return Fail(errno, "pipe");
  for (int fd : fds) {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
      int err = errno;
      close(fds[0]);
      close(fds[1]);
      return Fail(err, "fcntl");
    }
  }
  *read_fd = fds[0];
  *write_fd = fds[1];
#endif
  return Ok();
}

// One 8-byte write: what an eventfd takes, and one wakeup in a pipe.
// EAGAIN: the eventfd counter or the pipe is full, so the channel is already
// readable; the wakeup is delivered either way.
void WriteOne(int fd) {
  uint64_t one = 1;
  ssize_t r;
  do {
    r = write(fd, &one, sizeof one);
  } while (r < 0 && errno == EINTR);
}

}  // namespace

SysError WakeupChannel::Open() {
  SysError e = MakeFds(&read_fd_, &write_fd_);
  if (e) return e;
  std::lock_guard<std::mutex> guard(TableLock());
  handle_ = next_handle++;
  Table().emplace(handle_, write_fd_);
  return Ok();
}

void WakeupChannel::Signal() const { WriteOne(write_fd_); }

void WakeupChannel::Drain() const {
  uint64_t buf[8];
  ssize_t r;
  // An eventfd empties in one read; a pipe may hold several wakeups.
  do {
    r = read(read_fd_, buf, sizeof buf);
  } while (r > 0 || (r < 0 && errno == EINTR));
}

void WakeupChannel::Close() {
  if (handle_ != 0) {
    std::lock_guard<std::mutex> guard(TableLock());
    Table().erase(handle_);
    handle_ = 0;
  }
  if (write_fd_ >= 0 && write_fd_ != read_fd_) close(write_fd_);
  if (read_fd_ >= 0) close(read_fd_);
  read_fd_ = write_fd_ = -1;
}

bool WakeByHandle(uint64_t handle) {
  // The write happens under the lock, so Close cannot close the fd (and the
  // number be reused) in between.
  std::lock_guard<std::mutex> guard(TableLock());
  auto it = Table().find(handle);
  if (it == Table().end()) return false;
  WriteOne(it->second);
  return true;
}

}  // namespace selectors
