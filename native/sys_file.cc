// Files and devices: open (always O_NONBLOCK | O_CLOEXEC), readv and sendfile.
#include "sys.h"

namespace selectors {

void AddFileExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  (void)env;
  (void)sys;
  (void)supported;
}

}  // namespace selectors
