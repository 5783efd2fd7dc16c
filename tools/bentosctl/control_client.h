// The client side of the daemon's control socket: one request line out,
// one answer line back (host/daemon/control_commands.h has the protocol).
//
// Plain blocking functions; main's thread only.
#pragma once

#include <string>

namespace bentos::ctl {

// The control socket bentosctl asks when none is given: $BENTOS_CONTROL_SOCKET,
// else the daemon's default, /run/bentos/driver-host.sock.
std::string default_control_socket();

// Connects to the control socket at `path` (a path or unix:// URI), sends
// `request` as one line and returns the answer line without its newline.
// False with `error` saying what went wrong in words an operator can act on
// (no socket there, permission denied, no daemon listening, no answer
// within timeout_ms).
bool ask_control(const std::string& path, const std::string& request, int timeout_ms, std::string& answer,
                 std::string& error);

}  // namespace bentos::ctl
