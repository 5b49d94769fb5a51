#include "backend.h"

#include <errno.h>
#include <limits.h>

#include <algorithm>

namespace selectors {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kNsPerMs = 1000000;

int64_t MonotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * kNsPerSec + now.tv_nsec;
}

std::vector<BackendInfo>& Registry() {
  // Function-local so that registrars in other translation units never run
  // before the vector exists.
  static std::vector<BackendInfo> registry;
  return registry;
}

}  // namespace

Deadline::Deadline(const Timeout& timeout) : infinite_(timeout.infinite), ns_(timeout.ns) {
  if (!infinite_ && ns_ > 0) deadline_ns_ = MonotonicNs() + ns_;
}

const timespec* Deadline::Remaining() {
  if (infinite_) return nullptr;
  int64_t left = 0;
  if (ns_ > 0) left = std::max<int64_t>(0, deadline_ns_ - MonotonicNs());
  left_.tv_sec = static_cast<time_t>(left / kNsPerSec);
  left_.tv_nsec = static_cast<long>(left % kNsPerSec);
  return &left_;
}

int Deadline::RemainingMillisRoundedUp() {
  const timespec* left = Remaining();
  if (left == nullptr) return -1;
  int64_t ns = static_cast<int64_t>(left->tv_sec) * kNsPerSec + left->tv_nsec;
  int64_t ms = (ns + kNsPerMs - 1) / kNsPerMs;
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

BackendRegistrar::BackendRegistrar(const char* name, int rank, BackendFactory create) {
  auto& registry = Registry();
  registry.push_back(BackendInfo{name, rank, create});
  std::stable_sort(registry.begin(), registry.end(),
                   [](const BackendInfo& a, const BackendInfo& b) { return a.rank > b.rank; });
}

const std::vector<BackendInfo>& RegisteredBackends() { return Registry(); }

std::unique_ptr<Backend> CreateBackend(Napi::Env env, const std::string& name) {
  for (const BackendInfo& b : Registry()) {
    if (name != b.name) continue;
    SysError error;
    std::unique_ptr<Backend> backend = b.create(&error);
    if (backend) return backend;
    // Out of fds or memory: the backend exists, the process is at a limit.
    if (error.err == EMFILE || error.err == ENFILE || error.err == ENOMEM) ThrowIf(env, error);
    Napi::Error cause = ErrnoError(env, error.err, error.syscall);
    std::string message = "backend '" + name + "' is not available on this system: " +
                          cause.Get("message").As<Napi::String>().Utf8Value();
    Napi::Error unavailable = Napi::Error::New(env, message);
    unavailable.Set("code", Napi::String::New(env, "ERR_BACKEND_UNAVAILABLE"));
    unavailable.Set("cause", cause.Value());
    throw unavailable;
  }
  ThrowCodeError(env, "ERR_BACKEND_UNAVAILABLE", ("backend '" + name + "' is not compiled into this build").c_str());
}

}  // namespace selectors
