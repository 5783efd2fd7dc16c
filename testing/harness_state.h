// Inside libbentos-testing (not installed): the state behind the public
// classes of bentos/testing.hpp, shared by the files that implement them.
//
//   host_state.cpp        the host side: the loop, the device under test,
//                         the manual clock, the captured log
//   connection_state.cpp  the client side: the test's end of a socketpair,
//                         frames out, replies in, awaiting an answer
//   file_ops.cpp          pending, file and connection: the file ops
//   payload.cpp           payload helpers, reply decoding and describing
//   host.cpp              bentos::testing::host: start, stop, time, logs
//
// Thread: the test's thread, which is the host's loop thread, for
// everything here except what says otherwise (logs: any thread).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bentos/testing.hpp"
#include "device/device.h"
#include "loop/host_context.h"
#include "plugin/library.h"
#include "plugin/manual_clock.h"
#include "util/log.h"
#include "wire/codec.h"

namespace bentos::testing::detail {

// Everything one bentos::testing::host runs: owned by it (pimpl); the
// test's thread, which is the loop thread, except logs/errors (any thread
// logs, under log_mutex).
struct host_state {
  uv_loop_t loop{};
  std::unique_ptr<loop::HostContext> context;
  plugin::ManualClock clock;  // before the device: its timers cancel entries as they go
  std::shared_ptr<plugin::PluginLibrary> library;
  std::unique_ptr<device::Device> device;
  std::string name;
  mutable std::mutex log_mutex;  // logs and errors: plugin threads log too
  std::vector<std::string> logs;
  std::vector<std::string> errors;  // plugin bugs not taken yet
  std::vector<std::weak_ptr<connection_state>> connections;

  void turn() { uv_run(&loop, UV_RUN_NOWAIT); }
  bool exchange_all();
  // Turns the loop and moves bytes until `done()`; false after `timeout`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  void settle();
  void throw_plugin_errors();
  // Any thread (the process-wide log sink calls it).
  void on_log(log::Level level, const std::string& line);
};

// A new host_state with its loop and context, registered with the log
// sink; shut_down() undoes it.
std::unique_ptr<host_state> new_state();
// The driver behind the one device, built the way the daemon builds one,
// its timers on the manual clock; throws failure when it does not start.
void start_device(host_state& s, std::shared_ptr<plugin::PluginLibrary> library, const options& opts);
// Stops the device (its sessions end, the plugin's destroy() runs), then
// closes the loop. Returns the plugin errors nobody took.
std::vector<std::string> shut_down(host_state& s);

// One harness connection: the test's end of a socketpair, the frames going
// out, the replies come back by id. Shared by its connection, files and
// pendings; its host_state outlives it. The test's thread only.
struct connection_state : std::enable_shared_from_this<connection_state> {
  host_state* host;
  int fd = -1;
  bool eof = false;
  uint64_t next_id = 1;
  uint64_t next_fh = 1;
  std::string out, in;
  std::map<uint64_t, wire::Reply> replies;

  // Sends what is queued and takes in what arrived, without blocking;
  // true when bytes moved.
  bool exchange();
  // Queues `request` with the next id and returns the id.
  uint64_t send(wire::Request request);
  pending start(wire::Request request, std::string what);
  // Runs the host until the answer to `id` came; throws failure after
  // `timeout`, or for a plugin bug the host saw meanwhile.
  reply await(uint64_t id, const std::string& what, std::chrono::milliseconds timeout);
};

// A request of `kind` on `fh`, the other fields to fill.
wire::Request request(wire::OpKind kind, uint64_t fh);

}  // namespace bentos::testing::detail
