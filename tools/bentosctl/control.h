// bentosctl's operator commands, over the daemon's control socket:
// `list`, `status`, `stats`, `metrics` and `reload` (and `host CONTROL_SOCKET
// [COMMAND]`, the older spelling of the same).
#pragma once

#include <string>
#include <vector>

namespace bentos::ctl {

// True for list, status, stats, metrics and reload.
bool is_control_command(const std::string& command);

// Runs `command` with the arguments that follow it; returns the exit
// status (0 ok, 1 the daemon answered ok:false, 2 usage or connection
// error).
int control_command(const std::string& command, const std::vector<std::string>& args);

// `host CONTROL_SOCKET [COMMAND] [OPTIONS]`: COMMAND (default status) with
// --control-socket CONTROL_SOCKET.
int host_command(const std::vector<std::string>& args);

// `bentosctl COMMAND --help` for the control commands; nullptr otherwise.
const char* control_usage(const std::string& command);

}  // namespace bentos::ctl
