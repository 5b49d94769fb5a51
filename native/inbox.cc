#include "inbox.h"

#include <stdint.h>
#include <string.h>

#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "errors.h"
#include "platform.h"

namespace selectors {

// One inbox's state, shared by its owner (NativeInbox) and, for the length
// of a post, by the poster that found it in the table.
struct InboxQueue {
  std::mutex lock;
  // Everything below is guarded by `lock`.
  std::deque<std::vector<uint8_t>> messages;
  size_t bytes = 0;
  size_t max_bytes = 0;
  bool open = false;
  int read_fd = -1;
  int write_fd = -1;  // the same fd as read_fd for an eventfd
  uint64_t handle = 0;
};

namespace {

// The handle table, process-wide by design since handles exist to cross
// threads. Function-local statics, so it exists before any use.
struct InboxTable {
  std::mutex lock;
  std::unordered_map<uint64_t, std::shared_ptr<InboxQueue>> inboxes;
  // Handles are never reused; 2^53 of them (JavaScript's exact integers)
  // will not run out.
  uint64_t next_handle = 1;
};

InboxTable& Table() {
  static InboxTable table;
  return table;
}

// Closes `queue` (its owner's thread): out of the table first, so no new
// poster finds it, then under its own lock, so a poster that found it before
// either finished signalling the channel or sees it closed. Returns the
// number of messages dropped.
size_t CloseQueue(InboxQueue& queue) {
  {
    InboxTable& table = Table();
    std::lock_guard<std::mutex> guard(table.lock);
    table.inboxes.erase(queue.handle);
  }
  std::lock_guard<std::mutex> guard(queue.lock);
  if (!queue.open) return 0;
  queue.open = false;
  size_t dropped = queue.messages.size();
  queue.messages.clear();
  queue.bytes = 0;
  platform::CloseWakeChannel(queue.read_fd, queue.write_fd);
  queue.read_fd = queue.write_fd = -1;
  return dropped;
}

enum class PostResult { kQueued, kClosed, kUnknown, kFull };

}  // namespace

Napi::Function NativeInbox::Define(Napi::Env env) {
  return DefineClass(env, "Inbox",
                     {
                         InstanceMethod<&NativeInbox::Handle>("handle"),
                         InstanceMethod<&NativeInbox::Fd>("fd"),
                         InstanceMethod<&NativeInbox::Take>("take"),
                         InstanceMethod<&NativeInbox::Close>("close"),
                     });
}

NativeInbox::NativeInbox(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeInbox>(info) {
  Napi::Env env = info.Env();
  double max_bytes = info[0].As<Napi::Number>().DoubleValue();
  auto queue = std::make_shared<InboxQueue>();
  queue->max_bytes = static_cast<size_t>(max_bytes);
  ThrowIf(env, platform::OpenWakeChannel(&queue->read_fd, &queue->write_fd));
  queue->open = true;
  InboxTable& table = Table();
  std::lock_guard<std::mutex> guard(table.lock);
  queue->handle = table.next_handle++;
  table.inboxes.emplace(queue->handle, queue);
  queue_ = std::move(queue);
}

NativeInbox::~NativeInbox() {
  if (queue_) CloseQueue(*queue_);
}

Napi::Value NativeInbox::Handle(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(queue_->handle));
}

Napi::Value NativeInbox::Fd(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> guard(queue_->lock);
  return Napi::Number::New(info.Env(), queue_->read_fd);
}

Napi::Value NativeInbox::Take(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t max = static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue());
  std::vector<std::vector<uint8_t>> taken;
  {
    std::lock_guard<std::mutex> guard(queue_->lock);
    if (!queue_->open) ThrowCodeError(env, "ERR_INBOX_CLOSED", "the inbox is closed");
    // Drained before taking, and signalled again if some are left, all
    // under the lock posters signal under: the channel is readable exactly
    // while messages are queued.
    platform::DrainWakeChannel(queue_->read_fd);
    size_t n = queue_->messages.size() < max ? queue_->messages.size() : max;
    taken.reserve(n);
    for (size_t i = 0; i < n; i++) {
      queue_->bytes -= queue_->messages.front().size();
      taken.push_back(std::move(queue_->messages.front()));
      queue_->messages.pop_front();
    }
    if (!queue_->messages.empty()) platform::SignalWakeChannel(queue_->write_fd);
  }
  // Each message gets its own buffer: v8.deserialize makes typed arrays
  // that view the buffer they came from, so one message must not keep
  // another's bytes alive (or show them).
  Napi::Array out = Napi::Array::New(env, taken.size());
  for (size_t i = 0; i < taken.size(); i++) {
    out.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, taken[i].data(), taken[i].size()));
  }
  return out;
}

Napi::Value NativeInbox::Close(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(CloseQueue(*queue_)));
}

Napi::Value NativeInbox::Post(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t handle = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  std::shared_ptr<InboxQueue> queue;
  PostResult result = PostResult::kQueued;
  {
    InboxTable& table = Table();
    std::lock_guard<std::mutex> guard(table.lock);
    auto it = table.inboxes.find(handle);
    if (it != table.inboxes.end()) queue = it->second;
    else result = handle < table.next_handle ? PostResult::kClosed : PostResult::kUnknown;
  }
  if (queue) {
    // Copied before taking the lock, so that posters hold it only to link
    // the message in.
    std::vector<uint8_t> message(bytes.Data(), bytes.Data() + bytes.ByteLength());
    std::lock_guard<std::mutex> guard(queue->lock);
    if (!queue->open) {
      result = PostResult::kClosed;
    } else if (message.size() > queue->max_bytes - queue->bytes) {
      result = PostResult::kFull;
    } else {
      bool was_empty = queue->messages.empty();
      queue->bytes += message.size();
      queue->messages.push_back(std::move(message));
      // The channel is readable while messages are queued: only the first
      // one needs to signal it. Under the lock, so the fd is still open.
      if (was_empty) platform::SignalWakeChannel(queue->write_fd);
    }
  }
  switch (result) {
    case PostResult::kQueued:
      return env.Undefined();
    case PostResult::kClosed:
      ThrowCodeError(env, "ERR_INBOX_CLOSED", "the inbox this handle names is closed");
    case PostResult::kFull:
      ThrowCodeError(env, "ERR_INBOX_FULL", "the inbox holds as many bytes as its maxQueuedBytes allows; retry once it has drained");
    case PostResult::kUnknown:
      break;
  }
  ThrowRangeError(env, "ERR_INVALID_ARG_VALUE", "no inbox has this handle");
}

}  // namespace selectors
