// `bentosctl host CONTROL_SOCKET [COMMAND]`: the operator's view over the
// daemon's control socket (--control-socket).
#pragma once

#include <string>
#include <vector>

namespace bentos::ctl {

// Returns the process exit status (0 ok, 2 usage or connection error).
int control_command(const std::vector<std::string>& args);

}  // namespace bentos::ctl
