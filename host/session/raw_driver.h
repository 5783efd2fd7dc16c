// L1 raw layer (behavior.md §2): every file op goes to the plugin's raw ops
// table with its request fields, answered through a call handle; unset ops
// get the raw defaults.
//
// Owned by its Device; loop thread only.
#pragma once

#include <memory>

#include "plugin/instance.h"
#include "session/call_tracker.h"
#include "session/pattern_driver.h"

namespace bentos::session {

class RawDriver : public PatternDriver {
 public:
  RawDriver(plugin::PluginInstance& instance, std::shared_ptr<CallTracker> calls);

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

 private:
  // A call whose answer becomes the reply to `op` on `r`.
  bentos_call* start_call(uint64_t link_id, wire::OpKind op, uint64_t read_size, Responder r);

  plugin::PluginInstance& instance_;
  const bentos_raw_ops& ops_;
  std::shared_ptr<CallTracker> calls_;
};

}  // namespace bentos::session
