// P3 event stream (behavior.md §5): one patterns::EventHub per device; each
// open session is a listener. The plugin's emit() (any thread) stamps the
// event with a sequence number and hands it to the loop, where the hub
// delivers it to every listener that opened before it. The first open
// activates the plugin; the last release or disconnect deactivates it.
//
// Owned by its Device; loop thread only (its emit target: any thread).
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "patterns/event_stream.h"
#include "device/driver_context.h"
#include "device/parked_responders.h"
#include "device/pattern_driver.h"

namespace bentos::device {

class EventStreamDriver : public PatternDriver {
 public:
  explicit EventStreamDriver(const DriverContext& ctx);
  ~EventStreamDriver() override;

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

  uint64_t dropped_events() const override { return core_->hub.dropped(); }

  // State shared with the emit target (which outlives nothing: it holds a
  // weak reference). Loop thread only, except `sequence`.
  struct Core {
    Core(bool block, uint64_t max_events) : hub(block, max_events) {}
    patterns::EventHub hub;
    ParkedResponders parked;
    std::atomic<uint64_t> sequence{0};  // the last sequence number handed out
  };

 private:
  void remove_listener(const std::shared_ptr<Session>& s);
  // Answers every open that waited for on_activate with its outcome `rc`.
  void activated(int64_t rc);
  // Submits on_deactivate (the last listener is gone).
  void deactivate();

  // An open waiting for on_activate: the first listener's, and any that
  // arrive while it runs (on a worker), which must not be answered before
  // the device is active, nor succeed when activation fails.
  struct WaitingOpen {
    std::shared_ptr<Session> session;
    Responder responder;
  };

  DriverContext ctx_;
  const bentos_event_stream_ops& ops_;
  std::shared_ptr<Core> core_;
  uint64_t next_listener_ = 1;
  bool activating_ = false;  // on_activate submitted, its outcome not yet in
  std::vector<WaitingOpen> waiting_opens_;
};

}  // namespace bentos::device
