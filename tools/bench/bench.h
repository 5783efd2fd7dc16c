// bentos-bench: drives device sockets with pipelined requests and measures
// throughput and per-request round-trip latency, next to an in-process raw
// framed-echo baseline (architecture.md, "Tools").
//
// run_target() spawns its own client threads and joins them before
// returning; BaselineServer owns one server thread. Nothing here is shared
// between targets.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

namespace bentos::bench {

// What a target's client threads do, one request at a time, pipelined.
enum class Workload {
  kv,        // P2 cycle per session: write "k<i>=v", read "OK\n"
  echo,      // P1: write N bytes, read the N bytes back
  hello,     // raw: open, read "Hello from BentOS!\n", release (a new fh each cycle)
  baseline,  // kv's requests against BaselineServer
};

const char* workload_name(Workload w);

struct Options {
  double seconds = 3.0;
  int connections = 2;
  int depth = 8;  // requests in flight per connection, over ceil(depth / cycle) sessions
  uint64_t size = 4096;  // echo payload bytes
};

struct Target {
  Workload workload = Workload::kv;
  std::string endpoint;  // unix:///path, /abs/path or tcp://loopback:port
  std::string label;     // as given on the command line, for errors
};

struct Result {
  uint64_t ops = 0;     // request round trips answered as expected
  uint64_t errors = 0;  // wrong answers, missing answers, failed connections
  uint64_t bytes = 0;   // payload bytes written plus read back, answered ops only
  double elapsed_s = 0;
  // Per-request round trip, microseconds; -1 when nothing was measured.
  double p50_us = -1, p90_us = -1, p99_us = -1, max_us = -1;
  std::string first_error;  // the first problem seen, for stderr
};

// Runs `opt.connections` client threads against the target for
// `opt.seconds`, then lets every request in flight finish (each reply waits
// at most a few seconds; a missing one counts as an error).
Result run_target(const Target& target, const Options& opt);

// A raw framed-echo server: one thread, one Unix socket in a fresh temp
// directory. Each request frame is decoded with the wire codec and answered
// with a canned reply of the right shape (open -> opened, write -> count,
// read -> "OK\n", anything else -> empty success); no plugin, no sessions.
class BaselineServer {
 public:
  BaselineServer() = default;
  ~BaselineServer();  // stops the thread, removes the socket and directory
  BaselineServer(const BaselineServer&) = delete;
  BaselineServer& operator=(const BaselineServer&) = delete;

  // Binds and starts serving; false with `error` set on failure.
  bool start(std::string& error);
  const std::string& path() const { return path_; }

 private:
  void serve();

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: writing to it stops serve()
  std::thread thread_;
};

}  // namespace bentos::bench
