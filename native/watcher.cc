#include "watcher.h"

#include <math.h>

#include <string>
#include <unordered_map>

#include "wakeup.h"

namespace selectors {

namespace {

struct Change {
  int fd;
  uint32_t events;  // 0: removed
};

}  // namespace

struct Watcher::Core {
  Watcher* owner;
  napi_env env;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  uv_loop_t* loop = nullptr;
  bool use_poll = false;
  bool closing = false;
  int open_handles = 0;
  uv_poll_t poll{};
  uv_async_t async{};
  uv_timer_t timer{};

  // The helper thread (selectors without a kernel object). Everything below
  // `mu` is shared with it and guarded by `mu`, except `mirror`, which only
  // the helper touches once it started.
  std::unique_ptr<Backend> mirror;
  WakeupChannel wake;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Change> changes;
  bool paused = false;
  bool stopping = false;

  uv_handle_t* io_handle() {
    return use_poll ? reinterpret_cast<uv_handle_t*>(&poll) : reinterpret_cast<uv_handle_t*>(&async);
  }

  // Runs one reactor pass in JavaScript. MakeCallback, not a plain call, so
  // that process.nextTick callbacks and Promise jobs queued by handlers run
  // right after it, as after any Node callback.
  // kind: 0 for IO, 1 for the timer.
  void Fire(int kind) {
    if (closing) return;
    Napi::Env e(env);
    Napi::HandleScope scope(e);
    try {
      callback.MakeCallback(e.Global(), {Napi::Number::New(e, kind)}, *context);
    } catch (const Napi::Error& err) {
      // The reactor reports handler errors itself; anything reaching here
      // is a bug in the pass and is raised like any uncaught exception.
      napi_fatal_exception(env, err.Value());
    }
  }

  void HelperMain();
  void Close();
  static void OnClosed(uv_handle_t* handle);
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg);
};

// The helper thread: applies interest changes to the mirror, waits in the
// mirror's syscall, and on readiness wakes the loop thread and pauses until
// the pass is over (Fire, then resume in OnAsync).
void Watcher::Core::HelperMain() {
  std::unordered_map<int, uint32_t> interest;
  std::vector<Change> batch;
  std::vector<int32_t> out;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return !paused || stopping; });
      if (stopping) return;
      batch.swap(changes);
    }
    for (const Change& c : batch) {
      auto it = interest.find(c.fd);
      // A failed mirror change is ignored on purpose: the reactor's own
      // selector accepted the fd, so the only failure left is an fd closed
      // since, which no longer needs watching.
      if (c.events == 0) {
        if (it != interest.end()) {
          mirror->Remove(c.fd);
          interest.erase(it);
        }
      } else if (it == interest.end()) {
        if (!mirror->Add(c.fd, c.events, Trigger::kLevel)) interest.emplace(c.fd, c.events);
      } else if (it->second != c.events) {
        mirror->Modify(c.fd, c.events, Trigger::kLevel);
        it->second = c.events;
      }
    }
    batch.clear();
    out.resize(2 * (interest.size() + 1));
    int count = 0;
    SysError error = mirror->Wait(Timeout{}, out.data(), static_cast<int>(out.size() / 2), &count);
    // A failed wait is handed to JavaScript too: its own selectRaw() will
    // meet the same condition and raise it with the proper error.
    bool ready = static_cast<bool>(error);
    for (int i = 0; i < count; i++) {
      if (out[2 * i] == wake.fd()) wake.Drain();
      else ready = true;
    }
    if (!ready) continue;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;
      paused = true;
    }
    uv_async_send(&async);
  }
}

void Watcher::Core::Close() {
  if (closing) return;
  closing = true;
  if (owner != nullptr) owner->core_ = nullptr;
  owner = nullptr;
  if (thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_one();
    wake.Signal();
    thread.join();
  }
  if (mirror) mirror->Close();
  wake.Close();
  // Memory goes once libuv is done with every handle (OnClosed).
  uv_close(io_handle(), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), OnClosed);
}

void Watcher::Core::OnClosed(uv_handle_t* handle) {
  Core* core = static_cast<Core*>(handle->data);
  if (--core->open_handles > 0) return;
  core->callback.Reset();
  core->context.reset();
  if (core->cleanup != nullptr) napi_remove_async_cleanup_hook(core->cleanup);
  delete core;
}

// The environment (the process, or a worker thread) is going away while
// attached: stop the thread and close the handles; OnClosed tells Node when
// that is done.
void Watcher::Core::OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  Core* core = static_cast<Core*>(arg);
  core->cleanup = handle;
  core->Close();
}

Napi::Function Watcher::Define(Napi::Env env) {
  return DefineClass(env, "Watcher",
                     {
                         InstanceMethod<&Watcher::Interest>("interest"),
                         InstanceMethod<&Watcher::SetTimer>("setTimer"),
                         InstanceMethod<&Watcher::SetRef>("setRef"),
                         InstanceMethod<&Watcher::Close>("close"),
                     });
}

Watcher::Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
  Napi::Env env = info.Env();
  std::string backend = info[0].As<Napi::String>().Utf8Value();
  int kernel_fd = info[1].As<Napi::Number>().Int32Value();
  Napi::Function callback = info[2].As<Napi::Function>();

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ThrowCodeError(env, "ERR_INVALID_STATE", "no event loop for this thread");
  }

  std::unique_ptr<Core> core(new Core());
  core->owner = this;
  core->env = env;
  core->loop = loop;
  core->use_poll = kernel_fd >= 0;

  if (!core->use_poll) {
    core->mirror = CreateBackend(env, backend);
    SysError error = core->wake.Open();
    if (!error) error = core->mirror->Add(core->wake.fd(), kRead, Trigger::kLevel);
    if (error) {
      core->mirror->Close();
      core->wake.Close();
      ThrowIf(env, error);
    }
  }

  // From here on nothing throws: the handles are initialised and owned by
  // the loop until Close().
  int r = core->use_poll ? uv_poll_init(loop, &core->poll, kernel_fd)
                         : uv_async_init(loop, &core->async, [](uv_async_t* h) {
                             Core* c = static_cast<Core*>(h->data);
                             c->Fire(0);
                             if (c->closing) return;
                             {
                               std::lock_guard<std::mutex> lock(c->mu);
                               c->paused = false;
                             }
                             c->cv.notify_one();
                           });
  if (r != 0) {
    if (core->mirror) core->mirror->Close();
    core->wake.Close();
    ThrowErrno(env, -r, core->use_poll ? "uv_poll_init" : "uv_async_init");
  }
  core->io_handle()->data = core.get();
  uv_timer_init(loop, &core->timer);
  core->timer.data = core.get();
  core->open_handles = 2;
  core->callback = Napi::Persistent(callback);
  core->context.reset(new Napi::AsyncContext(env, "node-selectors:Reactor"));
  napi_add_async_cleanup_hook(env, &Core::OnCleanup, core.get(), &core->cleanup);

  if (core->use_poll) {
    uv_poll_start(&core->poll, UV_READABLE, [](uv_poll_t* h, int, int) { static_cast<Core*>(h->data)->Fire(0); });
  } else {
    Core* c = core.get();
    c->thread = std::thread([c] { c->HelperMain(); });
  }
  core_ = core.release();
}

Watcher::~Watcher() { Shutdown(); }

void Watcher::Shutdown() {
  if (core_ != nullptr) core_->Close();
}

// interest(fd, events): the reactor's interest in fd changed (0: removed).
// Only the helper thread's mirror needs it; a kernel object knows already.
Napi::Value Watcher::Interest(const Napi::CallbackInfo& info) {
  Core* c = core_;
  if (c == nullptr || c->use_poll) return info.Env().Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t events = info[1].As<Napi::Number>().Uint32Value() & kAllEvents;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(c->mu);
    c->changes.push_back(Change{fd, events});
    // While paused (a pass is running, the usual time for changes), the
    // helper applies the changes when it resumes; no need to interrupt it.
    wake = !c->paused;
  }
  if (wake) c->wake.Signal();
  return info.Env().Undefined();
}

// setTimer(ms): run a pass after ms milliseconds (rounded up: a timer never
// fires before its time); a negative ms cancels.
Napi::Value Watcher::SetTimer(const Napi::CallbackInfo& info) {
  Core* c = core_;
  if (c == nullptr) return info.Env().Undefined();
  double ms = info[0].As<Napi::Number>().DoubleValue();
  if (ms < 0) {
    uv_timer_stop(&c->timer);
  } else {
    double rounded = ceil(ms);
    uint64_t timeout = rounded < 1e15 ? static_cast<uint64_t>(rounded) : static_cast<uint64_t>(1e15);
    uv_timer_start(&c->timer, [](uv_timer_t* h) { static_cast<Core*>(h->data)->Fire(1); }, timeout, 0);
  }
  return info.Env().Undefined();
}

// setRef(io, timer): whether each handle keeps the event loop alive.
Napi::Value Watcher::SetRef(const Napi::CallbackInfo& info) {
  Core* c = core_;
  if (c == nullptr) return info.Env().Undefined();
  bool io = info[0].ToBoolean().Value();
  bool timer = info[1].ToBoolean().Value();
  if (io) uv_ref(c->io_handle());
  else uv_unref(c->io_handle());
  if (timer) uv_ref(reinterpret_cast<uv_handle_t*>(&c->timer));
  else uv_unref(reinterpret_cast<uv_handle_t*>(&c->timer));
  return info.Env().Undefined();
}

Napi::Value Watcher::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

}  // namespace selectors
