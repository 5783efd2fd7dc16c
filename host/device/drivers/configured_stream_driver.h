// P4 configured stream (behavior.md §6): each session is a
// patterns::ConfiguredStreamMachine. Submits call the plugin's process()
// with a fresh bentos_cycle handle per cycle; yields and the end arrive
// from any thread through that handle and are fed to the machine on the
// loop, where a cancelled cycle's late output is recognised and dropped.
// Config values belong to the host: created by config_default, replaced by
// what config_apply returns, freed by config_free, always on the session's
// strand (so a worker never sees one freed under it).
//
// Owned by its Device; loop thread only (cycle targets: any thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "patterns/configured_stream.h"
#include "device/driver_context.h"
#include "device/pattern_driver.h"

namespace bentos::device {

struct ConfiguredSession;

class ConfiguredStreamDriver : public PatternDriver {
 public:
  explicit ConfiguredStreamDriver(const DriverContext& ctx);
  ~ConfiguredStreamDriver() override;

  void open(Link& link, const wire::Request& req, Responder r) override;
  void op(Link& link, const std::shared_ptr<Session>& s, wire::Request&& req, Responder r) override;
  void release(Link& link, std::shared_ptr<Session> s, const wire::Request& req, Responder r) override;
  void end(std::shared_ptr<Session> s) override;

  // A cycle's output, on the loop thread (from the cycle target).
  void on_yield(const std::shared_ptr<ConfiguredSession>& s, uint64_t cycle, std::string record);
  void on_end(const std::shared_ptr<ConfiguredSession>& s, uint64_t cycle, int32_t error);

 private:
  // Carries out what a machine step asks for; `trigger` gets step.reply
  // (for a submitting flush/fsync: process()'s result, later).
  void apply(const std::shared_ptr<ConfiguredSession>& s, patterns::P4Step&& step, const Responder* trigger,
             bool trigger_is_flush);
  void start_process(const std::shared_ptr<ConfiguredSession>& s, std::vector<std::string>&& records, uint64_t cycle,
                     const Responder* flush_trigger);
  void cancel_cycle(const std::shared_ptr<ConfiguredSession>& s);
  // Calls on_writable (ABI 1.1) when a refused yield's output has drained.
  void notify_writable(const std::shared_ptr<ConfiguredSession>& s);
  void reset_config(const std::shared_ptr<ConfiguredSession>& s);
  void config_ioctl(Link& link, const std::shared_ptr<ConfiguredSession>& s, wire::Request&& req, Responder r);
  void query(uint64_t link_id, const std::shared_ptr<ConfiguredSession>& s, std::shared_ptr<std::string> in,
             uint32_t cmd, uint64_t out_size, Responder r);
  void finish(const std::shared_ptr<Session>& s);
  // Runs a plugin callback on the session's strand.
  void on_strand(const std::shared_ptr<ConfiguredSession>& s, const char* op, loop::Work work, loop::Done done = nullptr);

  DriverContext ctx_;
  const bentos_configured_stream_ops& ops_;
  // Cycle targets reach the driver through this, so output arriving after
  // the device is gone finds nothing.
  std::shared_ptr<ConfiguredStreamDriver*> self_;
};

}  // namespace bentos::device
