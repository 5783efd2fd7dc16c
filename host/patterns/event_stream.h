// P3 event stream, one device (behavior.md §5, every [fix] row).
//
// A pure state machine over the device's listeners (one per open session):
// per-listener bounded queues (max_events, drop-oldest, drops counted),
// events encoded once and shared by every listener (no copy per listener),
// whole-event delivery with the split rule, parked reads when
// `read_when_empty` is block. Activation/deactivation are reported as
// results; the session layer calls on_activate/on_deactivate.
//
// Owned by the device's session driver; loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "patterns/parked_reads.h"
#include "wire/ops.h"

namespace bentos::patterns {

using Event = std::shared_ptr<const std::string>;
using ListenerId = uint64_t;

// The P3 ops whose answer never depends on the listener (§5): write ->
// EACCES (always); flush, fsync -> success; ioctl -> ENOSYS. Unset for
// every other op (open, release, read, poll).
std::optional<wire::Reply> event_stream_fixed_reply(wire::OpKind op);

class EventHub {
 public:
  // `when_empty` defaults to block for P3 [fix]; eof reproduces the SDK.
  EventHub(bool block_when_empty, uint64_t max_events);

  // Adds a listener with an empty queue. It sees only events whose
  // sequence number is above `after_sequence` (events emitted before it
  // opened). Returns true if it is the first listener (activate now).
  // An id already listening is left as it is (returns false).
  bool add(ListenerId id, bool nonblocking, uint64_t after_sequence);

  struct RemoveResult {
    bool was_listener = false;
    bool last = false;        // no listeners remain: deactivate now
    ParkedAnswers answers;    // its parked reads, answered EIO
  };
  RemoveResult remove(ListenerId id);

  // Delivers one event to every listener that opened before it was
  // emitted: straight into a parked read, else into the queue (dropping
  // the oldest event beyond max_events, counted). Returns the answers for
  // parked reads it served. A partially read head event is never the one
  // dropped: losing its rest would glue the next event onto half of it, so
  // the oldest event not yet started goes instead. Null or empty events
  // are ignored (an empty read would look like EOF).
  ParkedAnswers emit(const Event& event, uint64_t sequence);

  struct ReadResult {
    bool parked = false;
    wire::Reply reply;
  };
  // Queue non-empty: whole events, as many as fit in `size`; an event
  // longer than `size` with nothing collected yet gives its first `size`
  // bytes and keeps the rest at the head [fix]. Empty: eof -> buf{}; block
  // -> EAGAIN when non-blocking, else park. Unknown listener: EIO. A read of
  // size 0 answers buf{} at once and never parks.
  ReadResult read(ListenerId id, uint64_t size, ReadToken token);

  // POLLIN when the listener's queue is non-empty, else 0; never POLLOUT.
  uint32_t poll(ListenerId id) const;

  size_t listeners() const { return listeners_.size(); }
  bool active() const { return !listeners_.empty(); }
  uint64_t dropped() const { return dropped_; }
  size_t queued(ListenerId id) const;

 private:
  struct Listener {
    bool nonblocking = false;
    uint64_t after_sequence = 0;
    std::deque<Event> queue;
    size_t head_offset = 0;  // bytes of queue.front() already delivered
    std::deque<ParkedRead> parked;
  };
  // Collects whole events up to `size` (or the split head) from `l`.
  static std::string collect(Listener& l, uint64_t size);
  // Answers `l`'s parked reads, oldest first, while it has events queued.
  static void serve_parked(Listener& l, ParkedAnswers& answers);
  // Drops events beyond max_events from `l` (see emit), counting them.
  void enforce_bound(Listener& l);

  bool block_when_empty_;
  uint64_t max_events_;
  std::unordered_map<ListenerId, Listener> listeners_;
  uint64_t dropped_ = 0;
};

}  // namespace bentos::patterns
