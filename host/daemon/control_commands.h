// The control socket's protocol, without the socket: one request line in,
// one JSON answer line out (architecture.md, "Tools"; docs/architecture.md,
// "The control socket").
//
// A request is a JSON object, {"command": "list"}, optionally with
// "device": NAME (list and stats: that device only) and "id" (any JSON,
// echoed in the answer). A bare command word (`list`) is accepted too, for
// people typing at `nc -U`. Every answer is {"ok": true, ...} or
// {"ok": false, "error": "..."}:
//
//   list    devices: name, pattern, plugin file, driver and its version,
//           socket, device_path (what bentosd attaches)
//   status  version, pid, uptime, device, connection and session counts
//   stats   per device: requests by op, errors by errno, bytes, latency
//           percentiles per op, one counter per limit
//   metrics the same counters and status' figures, latency as histograms,
//           in the Prometheus text format ("text"; daemon/metrics_text.h)
//   reload  re-read the manifests: added, removed, restarted, unchanged;
//           answered when the reload finished (the plugins' create() and
//           destroy() run off the loop, each within lifecycle_timeout_ms)
//   help    the commands
//
// Owned by the ControlServer; loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/host.h"

namespace bentos::daemon {

// What a reload did (main.cpp's reload; Host::ReloadReport plus whether the
// manifests were rejected before anything changed).
struct ReloadOutcome {
  std::vector<std::string> added, removed, restarted, unchanged;
  std::vector<std::string> errors;  // every problem, one sentence each
  bool rejected = false;            // the manifests had errors: nothing changed
};
// Starts a reload; calls its argument with the outcome, on the loop thread,
// once the reload finished (possibly before returning).
using ReloadFn = std::function<void(std::function<void(const ReloadOutcome&)>)>;

class ControlCommands {
 public:
  ControlCommands(Host& host, ReloadFn reload);

  // Gets the answer to one request line (without its newline), as one line
  // of JSON ending in '\n': called before answer() returns for every
  // command but reload, whose answer comes when the reload finished. It
  // must not refer to this object (the server may be gone by then).
  using Reply = std::function<void(std::string)>;
  // Never throws.
  void answer(const std::string& line, Reply reply);

  // The answer for a request that could not be read as a line at all (too
  // long): {"ok": false, "error": message}.
  static std::string error_answer(const std::string& message);

 private:
  Host& host_;
  ReloadFn reload_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace bentos::daemon
