// A cross-thread inbox: a queue of messages (bytes: values serialized by
// v8.serialize in the posting thread) that any thread may append to and one
// reactor drains. Its owner watches a wakeup channel (an eventfd, else a
// pipe: native/platform.h) like any fd; the channel is readable exactly
// while the queue holds messages, so a reactor blocked in select without a
// timeout returns when the first message arrives.
//
// As with selectors' wakeup handles (wakeup.h), posters hold a number, not
// the object: handles name inboxes in a process-wide, locked table and are
// never reused, so a handle used after its inbox closed finds nothing
// (ERR_INBOX_CLOSED) instead of some later inbox, and no poster can write
// into a channel fd that was closed and whose number a new file now has.
#pragma once

#include <napi.h>

#include <memory>

namespace selectors {

struct InboxQueue;

class NativeInbox : public Napi::ObjectWrap<NativeInbox> {
 public:
  static Napi::Function Define(Napi::Env env);
  // inboxPost(handle, bytes), from any thread: copies the bytes to the end
  // of the queue. Throws ERR_INBOX_CLOSED (the inbox was closed),
  // ERR_INVALID_ARG_VALUE (no inbox ever had the handle) or ERR_INBOX_FULL
  // (the queued bytes would pass the inbox's bound).
  static Napi::Value Post(const Napi::CallbackInfo& info);

  // new Inbox(maxQueuedBytes): opens the channel and enters the handle table.
  explicit NativeInbox(const Napi::CallbackInfo& info);
  // An inbox collected (or left in a worker that ends) without close()
  // still leaves the table and closes its channel.
  ~NativeInbox() override;

 private:
  // handle(): the number posters use.
  Napi::Value Handle(const Napi::CallbackInfo& info);
  // fd(): the channel's readable end, to watch for EVENT_READ.
  Napi::Value Fd(const Napi::CallbackInfo& info);
  // take(maxMessages): up to that many messages, oldest first, as an array
  // of Buffers (empty when there are none). Leaves the channel readable if
  // more are queued.
  Napi::Value Take(const Napi::CallbackInfo& info);
  // close(): leaves the table, closes the channel and returns how many
  // queued messages were never taken (they are dropped). Idempotent: 0 then.
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<InboxQueue> queue_;
};

}  // namespace selectors
