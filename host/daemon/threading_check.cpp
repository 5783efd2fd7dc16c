#include "daemon/threading_check.h"

namespace bentos::daemon {

bool wants_workers(const config::DeviceSpec& spec) { return spec.threads > 0 || spec.executor == "worker"; }

bool threading_allowed(const config::DeviceSpec& spec, const std::string& plugin_path,
                       const bentos_driver& descriptor, std::string& error) {
  if (descriptor.threading != BENTOS_THREADING_LOOP_ONLY || !wants_workers(spec)) return true;
  const std::string asked = spec.threads > 0 ? "\"threads\": " + std::to_string(spec.threads)
                                             : std::string("\"executor\": \"worker\"");
  const std::string driver = descriptor.name ? descriptor.name : "?";
  error = "device '" + spec.name + "': plugin " + plugin_path + " (driver '" + driver +
          "') must run on the loop thread (BENTOS_THREADING_LOOP_ONLY), but its manifest entry asks for " +
          "worker threads (" + asked + "); remove " + (spec.threads > 0 ? "\"threads\"" : "\"executor\"") +
          " from the device's entry";
  return false;
}

}  // namespace bentos::daemon
