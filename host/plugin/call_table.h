// Requests handed to a plugin (bentos_call handles), process-wide: the
// plugin completes from any thread (complete_call, call_tracker.h); the
// answer travels through the device's LoopInbox to its CallTracker, which
// runs the call's `deliver` on the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "patterns/completion.h"
#include "loop/loop_inbox.h"
#include "util/inline_function.h"

namespace bentos::plugin {

class CallTracker;

// What every call of one device shares: where its answer is delivered and
// the name its log lines carry. One per CallTracker, so a call costs a
// reference count, not a copy of the name.
//
// `tracker` is read and cleared on the loop thread only; the rest is
// immutable after construction.
struct CallRoute {
  std::shared_ptr<loop::LoopInbox> inbox;
  std::string device;
  CallTracker* tracker = nullptr;  // null once the tracker closed
};

// One call awaiting its answer. Built on the loop thread; moved into the
// CallTable, out of it by whichever thread answers first (take() decides),
// and delivered on the loop thread.
struct PendingCall {
  using Deliver = util::InlineFunction<void(patterns::Completion&&), 80>;
  std::shared_ptr<const CallRoute> route;
  uint64_t link_id = 0;      // 0: no connection waits for it
  uint64_t deadline_ms = 0;  // uv_now() time of the request timeout; 0 = none
  Deliver deliver;           // loop thread only
};

// Every call in flight, process-wide (the C services get nothing but the
// handle). Calls live in reusable slots, so a request costs no allocation
// once the table has grown to the host's concurrency; a handle is the
// slot's index and its generation, which changes each time the slot is
// freed, so a completion for a call already answered, timed out or
// forgotten finds nothing and is reported instead of touching another
// call. A slot whose 32-bit generation is spent is retired, never reused:
// no handle ever names two calls.
//
// Thread-safe: every method may be called from any thread.
class CallTable {
 public:
  uint64_t add(PendingCall call);
  // Removes and returns the call (empty if absent): exactly one caller
  // wins, which is what makes completion exactly-once.
  std::optional<PendingCall> take(uint64_t id);
  // Removes every call `route` owns whose link_id is `link_id` (any link
  // when `link_id` is 0), or whose deadline is at or before `due_ms` when
  // that is non-zero, and returns them (ids included) for the caller to
  // answer or drop outside the lock.
  struct Taken {
    uint64_t id;
    PendingCall call;
  };
  std::vector<Taken> take_matching(const CallRoute* route, uint64_t link_id, uint64_t due_ms);
  size_t size() const;

 private:
  struct Slot {
    uint32_t generation = 1;
    bool live = false;
    PendingCall call;
  };
  static uint64_t id_of(uint32_t index, uint32_t generation) {
    return (uint64_t{generation} << 32) | (uint64_t{index} + 1);
  }
  void free_slot(uint32_t index);  // mutex_ held

  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // indices of reusable slots
  size_t live_ = 0;
};

CallTable& call_table();

}  // namespace bentos::plugin
