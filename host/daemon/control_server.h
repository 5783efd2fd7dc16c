// The operator's control socket (--control-socket): a Unix socket that
// answers one command per line with one line of JSON.
//
//   list     -> {"devices":[{"name":..,"socket":..,"plugin":..,"pattern":..}]}
//   status   -> list + per-device counters, connections, sessions, timeouts
//   reload   -> re-read the manifests: {"added":[..],"removed":[..],
//               "restarted":[..],"unchanged":[..],"errors":[..]}
//   help     -> the commands
//
// Owned by main(); loop thread only.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>
#include <string>

#include "daemon/host.h"
#include "net/listener.h"

namespace bentos::daemon {

class ControlServer {
 public:
  struct ReloadOutcome {
    std::vector<std::string> added, removed, restarted, unchanged, errors;
  };
  using ReloadFn = std::function<ReloadOutcome()>;

  static std::unique_ptr<ControlServer> open(Host& host, const std::string& path, std::string& error,
                                             ReloadFn reload = {});
  ~ControlServer();

  // The JSON answer to one command line.
  std::string answer(const std::string& command);

 private:
  struct Client;
  explicit ControlServer(Host& host) : host_(host) {}
  void accept(net::StreamStorage* client);

  Host& host_;
  ReloadFn reload_;
  std::unordered_set<Client*> clients_;  // open control connections
  std::unique_ptr<net::Listener> listener_;
};

}  // namespace bentos::daemon
