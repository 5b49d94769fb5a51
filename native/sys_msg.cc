// Datagrams (sendto/recvfrom), multicast membership, messages that carry
// fds (sendmsg/recvmsg with SCM_RIGHTS) and peer credentials.
#include "sys.h"

namespace selectors {

void AddMsgExports(Napi::Env env, Napi::Object sys, Napi::Object supported) {
  (void)env;
  (void)sys;
  (void)supported;
}

}  // namespace selectors
