// Addon entry point: exposes the Selector class, the names of the backends
// compiled in (best first), the fd-level syscalls, the reactors' signal
// table and cross-thread inboxes. Its only process-wide state is that table
// (native/signals.h: signal dispositions are process-wide) and the locked
// handle tables of wakeup channels and inboxes (native/wakeup.h,
// native/inbox.h), all made for any number of worker threads.
#include <napi.h>
#include <sys/select.h>

#include "backend.h"
#include "fast_call.h"
#include "inbox.h"
#include "selector.h"
#include "signals.h"
#include "sys.h"
#include "watcher.h"

namespace selectors {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Selector", NativeSelector::Define(env));
  exports.Set("add", NewFastFunction<4, &NativeSelector::InterestInSlot<&Backend::Add>>(env, "add"));
  exports.Set("modify", NewFastFunction<4, &NativeSelector::InterestInSlot<&Backend::Modify>>(env, "modify"));
  exports.Set("remove", NewFastFunction<2, &NativeSelector::RemoveInSlot>(env, "remove"));
  exports.Set("wait", NewFastFunction<2, &NativeSelector::WaitInSlot>(env, "wait"));
  exports.Set("wakeup", Napi::Function::New<&NativeSelector::WakeHandle>(env, "wakeup"));
  exports.Set("collectedOpen", Napi::Function::New<&NativeSelector::CollectedOpen>(env, "collectedOpen"));
  exports.Set("Watcher", Watcher::Define(env));
  exports.Set("Inbox", NativeInbox::Define(env));
  exports.Set("inboxPost", Napi::Function::New<&NativeInbox::Post>(env, "inboxPost"));
  Napi::Array names = Napi::Array::New(env);
  uint32_t i = 0;
  for (const BackendInfo& b : RegisteredBackends()) names.Set(i++, Napi::String::New(env, b.name));
  exports.Set("backends", names);
  exports.Set("FD_SETSIZE", Napi::Number::New(env, FD_SETSIZE));
  // How this build was configured (native/configure.mjs): a portable build
  // compiles no Linux-only call; kqueue may be libkqueue's user-space one.
  Napi::Object build = Napi::Object::New(env);
#ifdef NS_PORTABLE
  build.Set("portable", true);
#else
  build.Set("portable", false);
#endif
#ifdef NS_LIBKQUEUE
  build.Set("libkqueue", true);
#else
  build.Set("libkqueue", false);
#endif
  exports.Set("build", build);
  exports.Set("sys", SysExports(env));
  exports.Set("signals", SignalExports(env));
  return exports;
}

}  // namespace selectors

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return selectors::Init(env, exports);
}

NODE_API_MODULE(selectors, InitAddon)
