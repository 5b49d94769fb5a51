#include "selector.h"

#include <math.h>
#include <string.h>

#include <string>

#include "fast_call.h"

namespace selectors {

namespace {

constexpr double kMaxTimeoutNs = 9.0e18;  // below INT64_MAX: "practically forever"

// The addon's per-environment data.
struct AddonData {
  std::shared_ptr<SelectorTable> selectors = std::make_shared<SelectorTable>();
};

// This environment's data, or nullptr before its first selector.
AddonData* DataOf(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<AddonData*>(data);
}

std::shared_ptr<SelectorTable> Table(Napi::Env env) {
  AddonData* data = DataOf(env);
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData(data);
  }
  return data->selectors;
}

Trigger ToTrigger(int32_t t) {
  return t == 1 ? Trigger::kEdge : t == 2 ? Trigger::kOneshot : Trigger::kLevel;
}

}  // namespace

int SelectorTable::Add(NativeSelector* selector) {
  if (free_.empty()) {
    slots_.push_back(selector);
    return static_cast<int>(slots_.size() - 1);
  }
  int slot = free_.back();
  free_.pop_back();
  slots_[static_cast<size_t>(slot)] = selector;
  return slot;
}

void SelectorTable::Remove(int slot) {
  slots_[static_cast<size_t>(slot)] = nullptr;
  free_.push_back(slot);
}

Napi::Function NativeSelector::Define(Napi::Env env) {
  return DefineClass(env, "NativeSelector",
                     {
                         InstanceMethod<&NativeSelector::Slot>("slot"),
                         InstanceMethod<&NativeSelector::SetBuffer>("setBuffer"),
                         InstanceMethod<&NativeSelector::Supports>("supports"),
                         InstanceMethod<&NativeSelector::SupportedEvents>("supportedEvents"),
                         InstanceMethod<&NativeSelector::Fileno>("fileno"),
                         InstanceMethod<&NativeSelector::PollableFd>("pollableFd"),
                         InstanceMethod<&NativeSelector::TimeoutResolutionNs>("timeoutResolutionNs"),
                         InstanceMethod<&NativeSelector::Close>("close"),
                         InstanceMethod<&NativeSelector::SetOwner>("setOwner"),
                         InstanceMethod<&NativeSelector::Wakeup>("wakeup"),
                         InstanceMethod<&NativeSelector::WakeupHandle>("wakeupHandle"),
                     });
}

NativeSelector::NativeSelector(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSelector>(info) {
  Napi::Env env = info.Env();
  backend_ = CreateBackend(env, info[0].As<Napi::String>().Utf8Value());
  table_ = Table(env);
  slot_ = table_->Add(this);
}

NativeSelector::~NativeSelector() {
  // A selector collected without close() (or left open in a worker that
  // ends) still releases its kernel object and wakeup channel, and is
  // counted, so that JavaScript can warn of it.
  if (backend_ && table_) table_->CountCollectedOpen(owner_);
  Release();
  if (table_) table_->Remove(slot_);
}

// setOwner(reactor): whether a reactor made this selector (and so a missed
// close() is the reactor's).
Napi::Value NativeSelector::SetOwner(const Napi::CallbackInfo& info) {
  owner_ = info[0].ToBoolean().Value() ? SelectorTable::kReactor : SelectorTable::kUser;
  return info.Env().Undefined();
}

Napi::Value NativeSelector::CollectedOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<SelectorTable> table = Table(env);
  Napi::Array counts = Napi::Array::New(env, 2);
  counts.Set(0u, Napi::Number::New(env, table->CollectedOpen(SelectorTable::kUser)));
  counts.Set(1u, Napi::Number::New(env, table->CollectedOpen(SelectorTable::kReactor)));
  return counts;
}

void NativeSelector::Release() {
  if (wakeup_) wakeup_->Close();
  wakeup_.reset();
  if (backend_) backend_->Close();
  backend_.reset();
}

Backend& NativeSelector::Open(Napi::Env env) {
  if (!backend_) ThrowCodeError(env, "ERR_SELECTOR_CLOSED", "the selector is closed");
  return *backend_;
}

Napi::Value NativeSelector::Slot(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), slot_);
}

NativeSelector& NativeSelector::InSlot(napi_env env, napi_value slot) {
  AddonData* data = DataOf(env);
  NativeSelector* self = data == nullptr ? nullptr : data->selectors->Get(Int32Arg(env, slot));
  if (self == nullptr) ThrowCodeError(env, "ERR_SELECTOR_CLOSED", "no selector in this slot");
  return *self;
}

template <NativeSelector::InterestCall Call>
napi_value NativeSelector::InterestInSlot(napi_env env, const napi_value (&args)[4], size_t) {
  Backend& b = InSlot(env, args[0]).Open(env);
  uint32_t events = static_cast<uint32_t>(Int32Arg(env, args[2])) & kAllEvents;
  ThrowIf(env, (b.*Call)(Int32Arg(env, args[1]), events, ToTrigger(Int32Arg(env, args[3]))));
  return nullptr;  // undefined
}

template napi_value NativeSelector::InterestInSlot<&Backend::Add>(napi_env, const napi_value (&)[4], size_t);
template napi_value NativeSelector::InterestInSlot<&Backend::Modify>(napi_env, const napi_value (&)[4], size_t);

napi_value NativeSelector::RemoveInSlot(napi_env env, const napi_value (&args)[2], size_t) {
  Backend& b = InSlot(env, args[0]).Open(env);
  ThrowIf(env, b.Remove(Int32Arg(env, args[1])));
  return nullptr;
}

napi_value NativeSelector::WaitInSlot(napi_env env, const napi_value (&args)[2], size_t) {
  return InSlot(env, args[0]).Wait(env, DoubleArg(env, args[1]));
}

Napi::Value NativeSelector::Wait(Napi::Env env, double ms) {
  Backend& b = Open(env);
  if (buffer_ == nullptr) ThrowCodeError(env, "ERR_INVALID_STATE", "wait() before setBuffer()");
  Timeout timeout;
  if (ms >= 0) {
    timeout.infinite = false;
    // Round up so that a wait never ends before the timeout has passed.
    double ns = ceil(ms * 1e6);
    timeout.ns = static_cast<int64_t>(ns < kMaxTimeoutNs ? ns : kMaxTimeoutNs);
  }
  int count = 0;
  ThrowIf(env, b.Wait(timeout, buffer_, capacity_, &count));
  return Napi::Value(env, Int32Result(env, DropWakeup(count)));
}

int NativeSelector::DropWakeup(int count) {
  if (!wakeup_) return count;
  for (int i = 0; i < count; i++) {
    if (buffer_[2 * i] != wakeup_->fd()) continue;
    wakeup_->Drain();
    // Keep the kernel's order of the others.
    memmove(&buffer_[2 * i], &buffer_[2 * i + 2], sizeof(int32_t) * 2 * static_cast<size_t>(count - i - 1));
    return count - 1;
  }
  return count;
}

// The wakeup channel, made on first use so that selectors that never need it
// cost no fd. The backend watches it as a level-triggered readable fd; the
// TypeScript side keeps one pair of the ready buffer free for it.
WakeupChannel& NativeSelector::Channel(Napi::Env env) {
  Backend& b = Open(env);
  if (!wakeup_) {
    auto channel = std::make_unique<WakeupChannel>();
    ThrowIf(env, channel->Open());
    ThrowIf(env, b.Add(channel->fd(), kRead, Trigger::kLevel));
    wakeup_ = std::move(channel);
  }
  return *wakeup_;
}

Napi::Value NativeSelector::Wakeup(const Napi::CallbackInfo& info) {
  Channel(info.Env()).Signal();
  return info.Env().Undefined();
}

Napi::Value NativeSelector::WakeupHandle(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Channel(info.Env()).Publish()));
}

Napi::Value NativeSelector::WakeHandle(const Napi::CallbackInfo& info) {
  double handle = info[0].As<Napi::Number>().DoubleValue();
  return Napi::Boolean::New(info.Env(), WakeByHandle(static_cast<uint64_t>(handle)));
}

Napi::Value NativeSelector::SetBuffer(const Napi::CallbackInfo& info) {
  Napi::Int32Array array = info[0].As<Napi::Int32Array>();
  if (array.ElementLength() < 2) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE", "the ready buffer must hold at least one pair");
  }
  buffer_ref_ = Napi::Persistent(array);
  buffer_ = array.Data();
  capacity_ = static_cast<int>(array.ElementLength() / 2);
  return info.Env().Undefined();
}

Napi::Value NativeSelector::Supports(const Napi::CallbackInfo& info) {
  Backend& b = Open(info.Env());
  return Napi::Boolean::New(info.Env(), b.Supports(ToTrigger(Int32Arg(info.Env(), info[0]))));
}

Napi::Value NativeSelector::SupportedEvents(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Open(info.Env()).SupportedEvents());
}

Napi::Value NativeSelector::TimeoutResolutionNs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Open(info.Env()).TimeoutResolutionNs()));
}

Napi::Value NativeSelector::PollableFd(const Napi::CallbackInfo& info) {
  Backend& b = Open(info.Env());
  return Napi::Number::New(info.Env(), b.FilenoIsPollable() ? b.Fileno() : -1);
}

Napi::Value NativeSelector::Fileno(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Open(info.Env()).Fileno());
}

Napi::Value NativeSelector::Close(const Napi::CallbackInfo& info) {
  Release();
  buffer_ref_.Reset();
  buffer_ = nullptr;
  capacity_ = 0;
  return info.Env().Undefined();
}

}  // namespace selectors
