// A Host in the test's own process: its own libuv loop, devices from a
// manifest's "devices" array served on Unix sockets in a temporary folder,
// and non-blocking clients that speak the wire while the test turns the
// loop. A test drives requests and loop turns one by one, with no daemon
// to start, so each runs in milliseconds and sees the host's real devices,
// drivers and state machines (the same objects the daemon runs).
//
// Used by the device-layer unit tests (tests/unit/test_device_*.cpp) and
// fuzz/fuzz_host.cpp. Everything here is touched by the test's thread only
// (which is the host's loop thread).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/host.h"
#include "device/device.h"
#include "wire/ops.h"

namespace bentos::test {

using namespace std::chrono_literals;

class InProcessHost {
 public:
  // `devices_json`: a manifest's "devices" array. Each device's "plugin" is
  // looked up in the build tree's plugins/ and then tests/plugins/ (from
  // BENTOS_BUILD_DIR, or `plugin_dirs` when given). Throws
  // std::runtime_error naming what failed (a manifest error, a device that
  // did not start).
  explicit InProcessHost(const std::string& devices_json, std::vector<std::string> plugin_dirs = {},
                         daemon::Host::Settings settings = trusting());
  ~InProcessHost();
  InProcessHost(const InProcessHost&) = delete;
  InProcessHost& operator=(const InProcessHost&) = delete;

  // Settings for plugins built in the test's tree (they live wherever the
  // checkout does, so the trust check is not what these tests test).
  static daemon::Host::Settings trusting() {
    daemon::Host::Settings s;
    s.allow_insecure_plugins = true;
    return s;
  }

  daemon::Host& host() { return *host_; }
  uv_loop_t* loop() { return &loop_; }
  device::Device& device(const std::string& name);
  std::string socket_path(const std::string& name);

  // One loop iteration that does not wait.
  void turn() { uv_run(&loop_, UV_RUN_NOWAIT); }
  // Turns the loop until `done()` or `timeout` passed; returns done(). The
  // loop waits at most a millisecond at a time, so timers and completions
  // from other threads are seen promptly.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 2s);
  // Turns the loop for `span` (timers due within it fire).
  void run_for(std::chrono::milliseconds span);

 private:
  void shutdown();  // stops the host, closes the loop, removes the folder

  uv_loop_t loop_{};
  std::string socket_dir_;
  std::unique_ptr<daemon::Host> host_;
  bool stopped_ = false;
};

// One connection to a device of an InProcessHost, non-blocking: requests
// are queued, and bytes move both ways whenever the client runs the host
// (await, settle) or exchange() is called. Every reply is checked as it
// arrives: a reply for an id never sent, or a second reply to one request,
// is recorded in violations().
class LoopClient {
 public:
  LoopClient(InProcessHost& host, const std::string& device);
  // Connects to a socket path directly (the fuzzer's devices).
  LoopClient(InProcessHost& host, const std::string& socket_path, bool /*by_path*/);
  ~LoopClient();
  LoopClient(const LoopClient&) = delete;
  LoopClient& operator=(const LoopClient&) = delete;

  // Queues `request` with a fresh id (returned) and sends what it can.
  uint64_t send(wire::Request request);
  // Queues bytes that are not a well-formed request (a stray or mangled
  // frame): replies with ids not ours are then allowed.
  void send_raw(const std::string& bytes);

  // Runs the host until the reply to `id` arrived; nullopt after `timeout`.
  std::optional<wire::Reply> await(uint64_t id, std::chrono::milliseconds timeout = 2s);
  // send() then await(); throws std::runtime_error on timeout.
  wire::Reply call(wire::Request request, std::chrono::milliseconds timeout = 2s);
  // The reply to `id` if it arrived (exchange() first to look again).
  std::optional<wire::Reply> reply(uint64_t id);

  // Shorthands for call() of one op.
  wire::Reply open(uint64_t fh, int32_t flags = 2 /* O_RDWR */);
  wire::Reply read(uint64_t fh, uint64_t size);
  wire::Reply write(uint64_t fh, const std::string& data);
  wire::Reply release(uint64_t fh);
  wire::Reply ioctl(uint64_t fh, uint32_t cmd, const std::string& in = {}, uint64_t out_bufsz = 0);
  wire::Reply poll(uint64_t fh, uint32_t events);

  // Moves bytes both ways without blocking; true if any moved.
  bool exchange();
  // Runs the host and the client until nothing moves for a few turns.
  void settle();
  // The host closed the connection (EOF seen).
  bool closed_by_host() const { return eof_; }
  void close();

  const std::vector<std::string>& violations() const { return violations_; }

 private:
  void connect_to(const std::string& path);
  void take_replies();

  InProcessHost& host_;
  int fd_ = -1;
  bool eof_ = false;
  bool stray_ = false;
  std::string out_, in_;
  uint64_t next_id_;
  std::map<uint64_t, wire::Reply> replies_;
  std::map<uint64_t, bool> answered_;
  std::vector<std::string> violations_;
};

wire::Request make_request(wire::OpKind kind, uint64_t fh);

}  // namespace bentos::test
