// Linux's event fds: eventfd, timerfd, inotify, pidfd. Each exists only where
// its feature test passed (native/configure.mjs); elsewhere it is absent and
// marked unsupported.
#include "sys.h"

namespace selectors {

void AddLinuxExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  (void)env;
  (void)sys;
  (void)supported;
}

}  // namespace selectors
