// The operator's control socket (--control-socket): a Unix socket that
// answers one command per line with one line of JSON.
//
//   list     -> {"devices":[{"name":..,"socket":..,"plugin":..,"pattern":..}]}
//   status   -> list + per-device counters, connections, sessions, timeouts
//   help     -> the commands
//
// Owned by main(); loop thread only.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "daemon/host.h"
#include "net/listener.h"

namespace bentos::daemon {

class ControlServer {
 public:
  static std::unique_ptr<ControlServer> open(Host& host, const std::string& path, std::string& error);
  ~ControlServer();

  // The JSON answer to one command line (exposed for tests).
  static std::string answer(Host& host, const std::string& command);

 private:
  struct Client;
  explicit ControlServer(Host& host) : host_(host) {}
  void accept(net::StreamStorage* client);

  Host& host_;
  std::unique_ptr<net::Listener> listener_;
};

}  // namespace bentos::daemon
