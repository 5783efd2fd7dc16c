// A DeviceSpec as JSON and back, exactly: how the host hands an isolated
// device's configuration to its child process (isolation/), which must
// serve the very spec the parent checked, not re-read manifests that may
// have changed on disk since.
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <string>

#include "config/manifest.h"

namespace bentos::config {

std::string spec_to_json(const DeviceSpec& spec);
// False with `error` set when `text` is not a document spec_to_json wrote.
bool spec_from_json(const std::string& text, DeviceSpec& spec, std::string& error);

}  // namespace bentos::config
