// Wakes a JavaScript reactor from Node's own event loop (libuv) when its
// selector has events, so the reactor can run beside node:net, timers and
// Promises (Reactor.attach()). Two ways, chosen by what the selector offers:
//
//  - A selector whose kernel object (epoll, kqueue) is readable whenever a
//    wait would report events is itself a pollable fd: a uv_poll_t watches it on the loop of the calling thread
//    (napi_get_uv_event_loop, so workers use their own loop).
//  - Others (poll, select, and io_uring, which arms lazily):
//    a helper thread waits in the same kind of backend on a mirror of the
//    reactor's interest plus a wake-up pipe (so an interest change never
//    waits for a timeout), and wakes the loop thread through a uv_async_t.
//    It then pauses until the JavaScript pass is over, so a level-triggered
//    fd is not reported again before the reactor had a chance to consume it.
//
// In both cases JavaScript then calls selectRaw(0) on its own selector and
// dispatches: the watcher only says "look now". A uv_timer_t wakes the
// reactor for its next timer. No backend-specific code lives here: the mirror
// is created through the backend registry by name.
#pragma once

#include <napi.h>
#include <uv.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backend.h"

namespace selectors {

class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Watcher(backendName, kernelFd, callback): kernelFd >= 0 selects the
  // uv_poll_t way, -1 the helper thread; callback() runs a reactor pass.
  explicit Watcher(const Napi::CallbackInfo& info);
  ~Watcher() override;

  struct Core;  // libuv handles and the helper thread; outlives the wrapper until closed

 private:
  Napi::Value Interest(const Napi::CallbackInfo& info);
  Napi::Value SetTimer(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Shutdown();

  Core* core_ = nullptr;
};

}  // namespace selectors
