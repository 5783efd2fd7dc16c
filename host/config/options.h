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
  // True when no --config was given and config_paths holds the defaults. The
  // daemon then loads them with MissingPaths::ignore (manifest.h): a host
  // without /etc/bentos/devices.json yet starts with no devices, while a
  // missing path the operator named is an error.
  bool config_is_default = false;
  std::vector<std::string> plugin_dirs;   // --plugin-dir first, then the defaults
  std::string socket_dir = "/run/bentos/drivers";
  // The control socket's path; empty when disabled (--control-socket none).
  // The default is served when it can be: a host run without root, where
  // /run/bentos does not exist, goes on without one after a warning, while
  // a path the operator named must work.
  std::string control_socket = "/run/bentos/driver-host.sock";
  bool control_socket_is_default = true;
  // Load plugin files that fail the ownership and permission checks
  // (plugin/trust.h); for development trees only.
  bool allow_insecure_plugins = false;
  log::Level log_level = log::Level::info;
  // --dev: a development run from the current directory. parse_command_line
  // has already applied what it means to the fields above (sockets in
  // ./run, control socket ./run/control.sock, debug log, insecure plugins
  // allowed, ./devices.json by default); the daemon still creates ./run,
  // warns once and prints a readiness line on stdout (ready_line below).
  bool dev = false;
  bool check = false;
  bool dump = false;  // with check: print the effective configuration (--dump)
  bool show_version = false;
  bool show_help = false;
};

struct ParseOutcome {
  Options options;
  std::string error;  // non-empty: print it with a hint to --help, exit 2
};

// `sysconfdir` (e.g. /etc) and `packaged_plugin_dir` give the defaults:
// config <sysconfdir>/bentos/devices.json and <sysconfdir>/bentos/devices.d
// (always listed, with config_is_default set: missing ones are skipped at
// load time), plugin dirs <sysconfdir>/bentos/drivers.d then
// `packaged_plugin_dir`. Options taking a value accept "--opt VALUE" and
// "--opt=VALUE"; in the first form a VALUE starting with '-' is taken for a
// forgotten value. A relative --socket-dir is made absolute (socket paths
// must be). The first problem found is returned in `error`.
ParseOutcome parse_command_line(int argc, const char* const* argv,
                                const std::string& sysconfdir,
                                const std::string& packaged_plugin_dir);

// The readiness line --dev prints on stdout once every device listens:
// "ready: 1 device(s), control ./run/control.sock". `control_socket` is
// shown relative to `cwd` when it lies under it, so the line is the same
// in every checkout (scripts and the guide match it).
std::string ready_line(size_t devices, const std::string& control_socket, const std::string& cwd);

// The --help text: every option with its default, and examples. The
// defaults shown come from the same two values parse_command_line takes.
std::string usage_text(const std::string& program, const std::string& sysconfdir = "/etc",
                       const std::string& packaged_plugin_dir = "<libdir>/bentos/drivers");

}  // namespace bentos::config
