// P2 write-then-read (behavior.md §4): each session is a
// patterns::WriteReadMachine; a submit calls the plugin's on_request, and
// its answer (or the timeout) completes the triggering flush or read, even
// when the session was released meanwhile.
//
// Owned by its Device; loop thread only.
#pragma once

#include <memory>

#include "device/driver_context.h"
#include "device/pattern_driver.h"

namespace bentos::device {

class WriteReadDriver : public PatternDriver {
 public:
  explicit WriteReadDriver(const DriverContext& ctx);

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

 private:
  void end_plugin_session(const std::shared_ptr<Session>& s);

  DriverContext ctx_;
  const bentos_write_read_ops& ops_;
};

}  // namespace bentos::device
