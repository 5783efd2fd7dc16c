// What the parent tells a new child before anything else: one line of JSON
// on the channel (fd 4) with the device's spec exactly as the parent
// checked it (config/spec_json.h), its plugin file, whether it only checks
// (--check), and the parent's pid (a child whose parent is gone exits).
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "config/manifest.h"

namespace bentos::isolation {

struct ChildSetup {
  config::DeviceSpec spec;
  std::string plugin_path;
  bool check = false;  // load, create, destroy, report, exit: no socket
  pid_t parent_pid = 0;
  uint64_t max_connections = 1024;  // the host-wide limit, applied per child
};

std::string setup_line(const ChildSetup& setup);
bool parse_setup(const std::string& line, ChildSetup& setup, std::string& error);

// Blocking helpers for the setup and hello lines, before either side's
// loop runs. write_line appends the newline.
bool write_line(int fd, const std::string& line);
// Reads up to a newline (not included) within `timeout_ms` (-1: no limit);
// false on EOF, error or timeout.
bool read_line(int fd, std::string& line, int timeout_ms);

}  // namespace bentos::isolation
