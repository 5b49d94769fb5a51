// Terminals, pseudo-terminals and serial lines: openpty, isatty, ttyname,
// termios, window sizes.
#include "sys.h"

namespace selectors {

void AddTtyExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  (void)env;
  (void)sys;
  (void)supported;
}

}  // namespace selectors
