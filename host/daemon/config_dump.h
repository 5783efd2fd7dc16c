// `bentos-driver-host --check --dump`: the effective configuration, as one
// JSON document shaped like a manifest: every manifest merged, every
// default filled in, each device with the plugin file it resolved to, the
// manifest it came from ("from") and, where its plugin loaded, its pattern
// and the read_when_empty that pattern gives; plus the settings that came
// from the command line ("command_line"). Like `nginx -T`, for an operator
// who wants to see what the host will actually run. It is a report, not a
// manifest: the added members would be refused as unknown keys.
//
// A pure function; no thread affinity.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "config/options.h"
#include "daemon/host.h"
#include "patterns/pattern.h"

namespace bentos::daemon {

// `patterns`: device name -> its plugin's pattern, for the devices whose
// plugin loaded (others are dumped without "pattern").
std::string dump_effective_config(const config::Options& options, const config::HostSettings& host,
                                  const std::vector<Host::DeviceConfig>& devices,
                                  const std::map<std::string, patterns::Pattern>& patterns);

}  // namespace bentos::daemon
