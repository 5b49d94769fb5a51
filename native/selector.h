// The JavaScript face of a backend: one class, `Selector(name)`, whose
// instances own one Backend. It converts arguments, turns SysErrors into
// Node-style system errors and hands ready events to JavaScript through a
// shared Int32Array of (fd, events) pairs, so a wait allocates nothing.
#pragma once

#include <napi.h>

#include <memory>

#include "backend.h"
#include "wakeup.h"

namespace selectors {

class NativeSelector : public Napi::ObjectWrap<NativeSelector> {
 public:
  static Napi::Function Define(Napi::Env env);
  // wakeup(handle) for any thread; see wakeup.h.
  static Napi::Value WakeHandle(const Napi::CallbackInfo& info);

  explicit NativeSelector(const Napi::CallbackInfo& info);
  ~NativeSelector() override;

 private:
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value Modify(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value SetBuffer(const Napi::CallbackInfo& info);
  Napi::Value Supports(const Napi::CallbackInfo& info);
  Napi::Value Fileno(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Wakeup(const Napi::CallbackInfo& info);
  Napi::Value WakeupHandle(const Napi::CallbackInfo& info);

  Backend& Open(Napi::Env env);
  WakeupChannel& Channel(Napi::Env env);
  // Takes the wakeup channel's pair out of the first `count` results.
  int DropWakeup(int count);
  void Release();

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<WakeupChannel> wakeup_;  // made by the first wakeup call
  Napi::Reference<Napi::Int32Array> buffer_ref_;
  int32_t* buffer_ = nullptr;
  int capacity_ = 0;  // in (fd, events) pairs
};

}  // namespace selectors
