// Whether a device's manifest entry may run its driver the way it asks:
// a driver whose descriptor says BENTOS_THREADING_LOOP_ONLY refuses host
// workers ("threads": N or "executor": "worker"), and the device is then
// refused at --check, at startup and at reload (driver.h, "Threading").
//
// A free function over values: no state, any thread.
#pragma once

#include <string>

#include "bentos/driver.h"
#include "config/manifest.h"

namespace bentos::daemon {

// True when `spec` asks for worker threads (the same rule Device applies).
bool wants_workers(const config::DeviceSpec& spec);

// False, with `error` a sentence naming the device, the plugin and the
// manifest key to remove, when `descriptor` pins its callbacks to the loop
// and `spec` asks for workers.
bool threading_allowed(const config::DeviceSpec& spec, const std::string& plugin_path,
                       const bentos_driver& descriptor, std::string& error);

}  // namespace bentos::daemon
