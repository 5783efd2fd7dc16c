// P1 pure stream (behavior.md §3): writes go to the plugin's on_data; the
// plugin pushes output from any thread into the session's
// patterns::StreamMachine (guarded by a mutex, since pushes come from any
// thread); reads coalesce it, or park (read_when_empty "block"); a refused
// push is followed by on_writable once the queue drains.
//
// Owned by its Device; loop thread only (push targets: any thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "device/driver_context.h"
#include "device/pattern_driver.h"

namespace bentos::device {

class StreamDriver : public PatternDriver {
 public:
  explicit StreamDriver(const DriverContext& ctx);

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

 private:
  // `data` is a view of the frame: valid only during this call.
  void write(const std::shared_ptr<Session>& s, std::string_view data, Responder r);
  void answer_write(const Responder& r, int64_t consumed, size_t len) const;
  void read(const std::shared_ptr<Session>& s, uint64_t size, Responder r);
  void finish(const std::shared_ptr<Session>& s);

  DriverContext ctx_;
  const bentos_stream_ops& ops_;
};

}  // namespace bentos::device
