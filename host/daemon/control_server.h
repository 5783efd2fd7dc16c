// The operator's control socket (--control-socket): a Unix socket, mode
// 0660, where each line a client sends is one request and gets one line of
// JSON back (the protocol is control_commands.h). A client may send many
// requests on one connection; it is served until it closes. Answers keep
// the order of their requests: a reload is answered when it is done, and
// the lines a client sent after it wait until then (reading pauses beyond
// 256 KiB of them). Blank lines are ignored; a line longer than
// kMaxLineBytes is answered with an error and skipped. Limits bounds how many clients it serves and how long an
// idle one may stay.
//
// Owned by main(); loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_set>

#include "daemon/control_commands.h"
#include "daemon/host.h"
#include "net/listener.h"

namespace bentos::daemon {

// What one peer (or a crashed tool's leftovers) can hold. A connection
// beyond max_clients gets one error line and is closed; a client that
// sends nothing and waits for no answer for idle_timeout_ms is closed.
struct ControlLimits {
  size_t max_clients = 64;
  uint64_t idle_timeout_ms = 120000;  // 0 = never
};

class ControlServer {
 public:
  // Requests are small; this bounds what one client can make us buffer.
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  // A client that stops reading its answers is closed beyond this much
  // unsent output.
  static constexpr size_t kMaxUnsentBytes = 16u << 20;
  using ReloadOutcome = daemon::ReloadOutcome;
  using ReloadFn = daemon::ReloadFn;

  using Limits = ControlLimits;

  // Listens on `path` (a Unix socket path or unix:// URI). nullptr with
  // `error` set when it cannot.
  static std::unique_ptr<ControlServer> open(Host& host, const std::string& path, std::string& error,
                                             ReloadFn reload = {}, Limits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  class Client;
  ControlServer(Host& host, ReloadFn reload, Limits limits)
      : commands_(host, std::move(reload)), limits_(limits) {}
  void accept(net::StreamStorage* client);
  void start_idle_sweep(uv_loop_t* loop);
  static void on_sweep(uv_timer_t* timer);

  ControlCommands commands_;
  const Limits limits_;
  std::unordered_set<Client*> clients_;  // open control connections
  uint64_t refused_ = 0;                 // connections over max_clients
  uv_timer_t* sweep_ = nullptr;          // heap: freed in its close callback
  std::unique_ptr<net::Listener> listener_;
};

}  // namespace bentos::daemon
