// The daemon's command line (architecture.md, "Configuration").
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <string>
#include <vector>

#include "util/log.h"

namespace bentos::config {

struct Options {
  std::vector<std::string> config_paths;  // --config, or the defaults
  std::vector<std::string> plugin_dirs;   // --plugin-dir first, then the defaults
  std::string socket_dir = "/run/bentos/drivers";
  std::string control_socket;             // empty = none
  log::Level log_level = log::Level::info;
  bool check = false;
  bool show_version = false;
  bool show_help = false;
};

struct ParseOutcome {
  Options options;
  std::string error;  // non-empty: print it with a hint to --help, exit 2
};

// `sysconfdir` (e.g. /etc) and `packaged_plugin_dir` give the defaults:
// config <sysconfdir>/bentos/devices.json and <sysconfdir>/bentos/devices.d
// (when they exist), plugin dirs <sysconfdir>/bentos/drivers.d then
// `packaged_plugin_dir`.
ParseOutcome parse_command_line(int argc, const char* const* argv,
                                const std::string& sysconfdir,
                                const std::string& packaged_plugin_dir);

std::string usage_text(const std::string& program);

}  // namespace bentos::config
