// --check for an isolated device: its plugin is loaded, created and
// destroyed in a child process, as it will be when served, so a plugin
// that crashes while loading fails the check instead of taking it down.
//
// A blocking call; run on the thread that runs the check.
#pragma once

#include <string>

#include "isolation/isolated_device.h"

namespace bentos::isolation {

struct CheckOutcome {
  bool ok = false;
  std::string error;    // why not, naming the device
  std::string pattern;  // the plugin's pattern name, when ok
};

CheckOutcome check_in_child(const config::DeviceSpec& spec, const std::string& plugin_path,
                            const ChildLaunch& launch);

}  // namespace bentos::isolation
