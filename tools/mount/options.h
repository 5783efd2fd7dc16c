// bentos-mount's command line and the device list it resolves to: the
// devices of the manifests (--config, sockets defaulting under --socket-dir
// exactly as the daemon does), then --device NAME=SOCKET additions and
// overrides.
//
// Plain functions over value types; no thread affinity, no I/O beyond
// reading manifests.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "net/endpoint.h"

namespace bentos::mount {

struct Options {
  std::vector<std::string> configs;       // --config, in order
  std::string socket_dir;                 // --socket-dir (absolute); default the daemon's
  std::vector<std::string> device_specs;  // --device NAME=SOCKET, as given
  std::string mountpoint;                 // the one positional argument
  bool allow_other = false;               // -o allow_other,default_permissions
  bool debug = false;                     // libfuse's request trace on stderr
  bool help = false;
  bool version = false;
};

// One device to mount: its file name and where its socket is.
struct DeviceEntry {
  std::string name;  // device name; '/' separates folders
  net::Endpoint endpoint;
  // tcp endpoints, resolved once at start (development only).
  sockaddr_storage tcp_address{};
};

// Parses argv (argv[0] is the program). On a usage error returns false and
// sets `error` to one sentence (the caller adds the --help hint, exit 2).
bool parse_options(int argc, const char* const* argv, Options& out, std::string& error);

// The --help text.
std::string usage_text();

// Resolves the devices: every manifest of --config (or, when neither
// --config nor --device was given, the daemon's default manifests, skipped
// when missing), then each --device. On failure returns false with one line
// per problem in `errors`.
bool resolve_devices(const Options& options, std::vector<DeviceEntry>& out,
                     std::vector<std::string>& errors);

}  // namespace bentos::mount
