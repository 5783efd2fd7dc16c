// L1 raw layer (behavior.md §2): every file op goes to the plugin's raw ops
// table with its request fields, answered through a call handle; unset ops
// get the raw defaults.
//
// Owned by its Device; loop thread only.
#pragma once

#include <memory>
#include <string_view>

#include "device/driver_context.h"
#include "device/pattern_driver.h"

namespace bentos::device {

class RawDriver : public PatternDriver {
 public:
  explicit RawDriver(const DriverContext& ctx);

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

 private:
  // A call whose answer becomes the reply to `op` on `r`.
  bentos_call* start_call(uint64_t link_id, wire::OpKind op, uint64_t read_size, Responder r);
  // Runs `callback` (a plugin op taking `call`, returning int32_t) on the
  // session's strand; its return value then answers the call if negative.
  template <typename Callback>
  void run(const Session* strand, bentos_call* call, const char* name, Callback callback);
  // The same for an op that reads the request's bytes:
  // callback(const uint8_t*, uint64_t). On the loop it gets the frame's
  // bytes where they were read; a worker gets one copy.
  template <typename Callback>
  void run_with_bytes(const Session* strand, bentos_call* call, const char* name, std::string_view bytes,
                      Callback callback);
  // Calls the plugin's release for a session nobody is waiting on.
  void release_detached(const std::shared_ptr<Session>& s);

  DriverContext ctx_;
  const bentos_raw_ops& ops_;
};

}  // namespace bentos::device
