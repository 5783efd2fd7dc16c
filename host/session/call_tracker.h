// Calls handed to one device's plugin: creates their handles, applies the
// request timeout (behavior.md §1.10), turns a callback's negative return
// into its answer, and forgets the calls of a connection that closed, so a
// late completion is reported instead of answered.
//
// The calls themselves live in the process-wide plugin::CallTable; this
// class keeps no per-call state of its own (a count), so a request costs
// no allocation here. Forgetting a connection's calls and timing calls out
// scan the table, which holds only the calls in flight.
//
// Owned by its Device (through a shared_ptr, as the drivers' context holds
// it too). Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "bentos/driver.h"
#include "patterns/completion.h"
#include "plugin/calls.h"
#include "plugin/loop_inbox.h"

namespace bentos::session {

class CallTracker : public plugin::CallSink {
 public:
  using Deliver = plugin::PendingCall::Deliver;

  CallTracker(uv_loop_t* loop, std::shared_ptr<plugin::LoopInbox> inbox, std::string device, uint64_t timeout_ms);
  ~CallTracker() override;
  CallTracker(const CallTracker&) = delete;
  CallTracker& operator=(const CallTracker&) = delete;

  // A new call. `deliver` runs at most once, on the loop thread: with the
  // plugin's answer, or ETIMEDOUT when the timeout passes first. It never
  // runs after close(), nor for a call that forget_link(link_id) found
  // unanswered. link_id 0 = no connection (a call whose answer nobody
  // waits for).
  bentos_call* start(uint64_t link_id, Deliver deliver);

  // The plugin callback that received `call` returned `rc`: a negative
  // value answers the call with that errno, unless it was already answered.
  void returned(bentos_call* call, int64_t rc, const char* callback);

  void forget_link(uint64_t link_id);
  void close();

  uint64_t timeouts() const { return timeouts_; }
  size_t outstanding() const { return outstanding_; }

  // plugin::CallSink: a call of ours was answered (taken from the table).
  void deliver(plugin::PendingCall& call, patterns::Completion&& answer) override;

 private:
  void arm_timer();
  static void on_timer(uv_timer_t* t);

  std::shared_ptr<plugin::CallRoute> route_;
  uint64_t timeout_ms_;
  uv_loop_t* loop_;
  uv_timer_t* timer_ = nullptr;  // heap: freed in its close callback
  size_t outstanding_ = 0;       // started, not yet delivered, forgotten or closed
  uint64_t timeouts_ = 0;
};

}  // namespace bentos::session
