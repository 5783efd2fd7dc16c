// One served device: its plugin instance, its listening socket, its
// connections and their sessions, its limits and counters. Applies the
// host-wide rules of behavior.md §1 (envelope checks, unknown fh, re-open,
// session limit, disconnect cleanup) and hands everything else to the
// pattern's driver.
//
// Owned by the Host; loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/manifest.h"
#include "net/listener.h"
#include "patterns/pattern.h"
#include "plugin/instance.h"
#include "plugin/call_tracker.h"
#include "device/device_stats.h"
#include "loop/executor.h"
#include "device/link.h"
#include "device/pattern_driver.h"

namespace bentos::loop {
class HostContext;
}

namespace bentos::device {

// Owns its Links and receives their reports (LinkOwner, privately: only
// its Links call those).
class Device : private LinkOwner {
 public:
  Device(loop::HostContext& host, config::DeviceSpec spec, std::shared_ptr<plugin::PluginLibrary> library);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Creates the plugin instance (its create() runs here, on the loop
  // thread: startup and --check); then start_with() it.
  bool start(bool listen, std::string& error);
  // Serves an instance whose create() already ran (off the loop, during a
  // reload): opens it, builds the executor and driver, then, if `listen`,
  // opens the socket.
  bool start_with(std::unique_ptr<plugin::PluginInstance> instance, bool listen, std::string& error);
  // Closes the socket and every connection (ending their sessions), then
  // destroys the plugin instance.
  void stop();
  // Everything stop() does except the plugin's destroy(): the instance is
  // handed back, its host side ended (begin_destroy), for its destroy() to
  // run off the loop. nullptr when there is none.
  std::unique_ptr<plugin::PluginInstance> stop_serving();
  // Serves one already-connected stream socket `fd` (one end of a
  // socketpair) as if the listener had accepted it: the same admission,
  // Link, Connection and dispatch. For hosts that serve without a
  // listening socket (the test harness, bentos/testing.hpp). The Device
  // owns `fd` from here on, also on failure (then closed, false, `error`).
  bool adopt_connection(int fd, std::string peer, std::string& error);

  const config::DeviceSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const plugin::PluginLibrary& library() const { return *library_; }
  std::string endpoint_uri() const;
  DeviceStats& stats() { return stats_; }
  const DeviceStats& stats() const { return stats_; }
  size_t connection_count() const { return links_.size(); }
  size_t session_count() const;
  // Limits counted where they are enforced rather than in stats().
  uint64_t timeouts() const { return calls_ ? calls_->timeouts() : 0; }
  uint64_t dropped_events() const { return driver_ ? driver_->dropped_events() : 0; }
  // C++ exceptions the plugin threw at the host (loop/plugin_guard.h).
  uint64_t plugin_exceptions() const { return instance_ ? instance_->guard()->exceptions() : 0; }

 private:
  // LinkOwner
  void on_frame(Link& link, const uint8_t* payload, size_t len, uint64_t arrived_ns) override;
  void on_oversized_frame(Link& link, uint64_t length) override;
  void on_link_closed(Link& link) override;

  void accept(net::StreamStorage* client, std::string peer);
  bool peer_allowed(net::StreamStorage* client, std::string& why) const;
  void dispatch(Link& link, wire::Request&& req, uint64_t decoded_ns);

  loop::HostContext& host_;
  config::DeviceSpec spec_;
  std::shared_ptr<plugin::PluginLibrary> library_;
  std::unique_ptr<plugin::PluginInstance> instance_;
  std::shared_ptr<plugin::CallTracker> calls_;
  std::unique_ptr<loop::Executor> executor_;
  std::unique_ptr<PatternDriver> driver_;
  std::unique_ptr<net::Listener> listener_;
  std::unordered_map<uint64_t, std::shared_ptr<Link>> links_;
  DeviceStats stats_;
};

}  // namespace bentos::device
