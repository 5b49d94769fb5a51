// The JavaScript face of a backend: one class, `Selector(name)`, whose
// instances own one Backend. It converts arguments, turns SysErrors into
// Node-style system errors and hands ready events to JavaScript through a
// shared Int32Array of (fd, events) pairs, so a wait allocates nothing.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "backend.h"
#include "wakeup.h"

namespace selectors {

class NativeSelector;

// The live selectors of one Node environment (the main thread or a worker),
// by slot number. wait(slot, ms) is the hot call of every event loop: it
// finds its selector by index, where a method call would pay napi_unwrap's
// property lookup on every wait. Shared by the environment and by each of
// its selectors, so whichever is finalized last frees it.
class SelectorTable {
 public:
  // Who closes a selector: the user, or the reactor that made it.
  enum Owner { kUser = 0, kReactor = 1 };

  int Add(NativeSelector* selector);
  void Remove(int slot);
  // A selector was finalized while still open: its owner forgot close().
  void CountCollectedOpen(Owner owner) { collected_open_[owner]++; }
  double CollectedOpen(Owner owner) const { return collected_open_[owner]; }
  NativeSelector* Get(int32_t slot) const {
    return slot >= 0 && static_cast<size_t>(slot) < slots_.size() ? slots_[static_cast<size_t>(slot)] : nullptr;
  }

 private:
  std::vector<NativeSelector*> slots_;
  std::vector<int> free_;
  double collected_open_[2] = {0, 0};
};

class NativeSelector : public Napi::ObjectWrap<NativeSelector> {
 public:
  static Napi::Function Define(Napi::Env env);
  // wakeup(handle) for any thread; see wakeup.h.
  static Napi::Value WakeHandle(const Napi::CallbackInfo& info);
  // The calls of every event loop pass, module functions that name their
  // selector by slot (see SelectorTable):
  //   add(slot, fd, events, trigger) and modify(slot, fd, events, trigger):
  //     InterestInSlot<&Backend::Add> and InterestInSlot<&Backend::Modify>,
  //   remove(slot, fd) and
  //   wait(slot, timeoutMs): a negative timeout blocks until an event.
  //   Returns the number of (fd, events) pairs written to the buffer given
  //   to setBuffer().
  using InterestCall = SysError (Backend::*)(int fd, uint32_t events, Trigger trigger);
  template <InterestCall Call>
  static napi_value InterestInSlot(napi_env env, const napi_value (&args)[4], size_t argc);
  static napi_value RemoveInSlot(napi_env env, const napi_value (&args)[2], size_t argc);
  static napi_value WaitInSlot(napi_env env, const napi_value (&args)[2], size_t argc);
  // collectedOpen(): [by users, by reactors], the selectors of this
  // environment finalized without close() so far (lib/resources.ts).
  static Napi::Value CollectedOpen(const Napi::CallbackInfo& info);

  explicit NativeSelector(const Napi::CallbackInfo& info);
  ~NativeSelector() override;

 private:
  Napi::Value Slot(const Napi::CallbackInfo& info);
  Napi::Value Wait(Napi::Env env, double ms);
  Napi::Value SetBuffer(const Napi::CallbackInfo& info);
  Napi::Value Supports(const Napi::CallbackInfo& info);
  Napi::Value SupportedEvents(const Napi::CallbackInfo& info);
  Napi::Value Fileno(const Napi::CallbackInfo& info);
  Napi::Value PollableFd(const Napi::CallbackInfo& info);
  Napi::Value TimeoutResolutionNs(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetOwner(const Napi::CallbackInfo& info);
  Napi::Value Wakeup(const Napi::CallbackInfo& info);
  Napi::Value WakeupHandle(const Napi::CallbackInfo& info);

  static NativeSelector& InSlot(napi_env env, napi_value slot);
  Backend& Open(Napi::Env env);
  WakeupChannel& Channel(Napi::Env env);
  // Takes the wakeup channel's pair out of the first `count` results.
  int DropWakeup(int count);
  void Release();

  std::shared_ptr<SelectorTable> table_;
  int slot_ = -1;
  SelectorTable::Owner owner_ = SelectorTable::kUser;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<WakeupChannel> wakeup_;  // made by the first wakeup call
  Napi::Reference<Napi::Int32Array> buffer_ref_;
  int32_t* buffer_ = nullptr;
  int capacity_ = 0;  // in (fd, events) pairs
};

}  // namespace selectors
