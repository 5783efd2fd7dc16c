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
#include "plugin/call_table.h"
#include "loop/loop_inbox.h"

namespace bentos::plugin {

class CallTracker {
 public:
  using Deliver = plugin::PendingCall::Deliver;

  CallTracker(uv_loop_t* loop, std::shared_ptr<loop::LoopInbox> inbox, std::string device, uint64_t timeout_ms);
  ~CallTracker();
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

  // A call of ours was answered (complete_call took it from the table).
  void deliver(plugin::PendingCall& call, patterns::Completion&& answer);

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

// Any thread: what every complete_* service does. Takes the call out of
// the table and posts `answer` to its tracker's deliver(); returns 0, or
// -ESTALE (logged) when the call was already answered, timed out or was
// forgotten because its connection closed. A non-empty `plugin_bug` (what
// was wrong with the completion, already corrected in `answer`) is logged
// as a warning naming the call's device.
int32_t complete_call(bentos_call* call, patterns::Completion&& answer, const std::string& plugin_bug = {});

}  // namespace bentos::plugin
