// Calls handed to one device's plugin: creates their handles, applies the
// request timeout (behavior.md §1.10), turns a callback's negative return
// into its answer, and forgets the calls of a connection that closed, so a
// late completion is reported instead of answered.
//
// Owned by its Device through a shared_ptr (answers in flight hold weak
// references). Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "bentos/driver.h"
#include "patterns/completion.h"
#include "plugin/loop_inbox.h"

namespace bentos::session {

class CallTracker : public std::enable_shared_from_this<CallTracker> {
 public:
  using Deliver = std::function<void(patterns::Completion&&)>;

  CallTracker(uv_loop_t* loop, std::shared_ptr<plugin::LoopInbox> inbox, std::string device, uint64_t timeout_ms);
  ~CallTracker();
  CallTracker(const CallTracker&) = delete;
  CallTracker& operator=(const CallTracker&) = delete;

  // A new call. `deliver` runs at most once, on the loop thread: with the
  // plugin's answer, or ETIMEDOUT when the timeout passes first. It never
  // runs after forget_link(link_id) or close(). link_id 0 = no connection
  // (a call whose answer nobody waits for).
  bentos_call* start(uint64_t link_id, Deliver deliver);

  // The plugin callback that received `call` returned `rc`: a negative
  // value answers the call with that errno, unless it was already answered.
  void returned(bentos_call* call, int64_t rc, const char* callback);

  void forget_link(uint64_t link_id);
  void close();

  uint64_t timeouts() const { return timeouts_; }
  size_t outstanding() const { return all_.size(); }

 private:
  void finished(uint64_t link_id, uint64_t call_id);
  void arm_timer();
  static void on_timer(uv_timer_t* t);

  std::shared_ptr<plugin::LoopInbox> inbox_;
  std::string device_;
  uint64_t timeout_ms_;
  uv_loop_t* loop_;
  uv_timer_t* timer_ = nullptr;  // heap: freed in its close callback
  // Same timeout for every call, so deadlines arrive in order: a FIFO.
  std::deque<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline ms, call id)
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> by_link_;
  std::unordered_map<uint64_t, uint64_t> all_;  // call id -> link id
  uint64_t timeouts_ = 0;
};

}  // namespace bentos::session
