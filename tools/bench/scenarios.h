// The bentos-bench scenarios (issue 7; docs/performance.md): each runs
// against a host's sockets, and where it makes sense once more against the
// raw baseline with the same frames and concurrency, and appends Metrics.
//
// Each scenario runs on the calling thread (the baseline server has its
// own) and returns false with `error` set when the run went wrong.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "report.h"

namespace bentos::bench {

struct Options {
  double seconds = 3.0;          // p2-rtt, p2-load, p1-stream, p3-fanout: each side (host, baseline)
  // p2-rtt, p2-load, p1-stream: each side's time is cut into this many
  // runs, host and baseline taking turns, so both see the same machine
  // (other load comes and goes) and the ratio holds on a noisy machine.
  uint64_t rounds = 5;
  uint64_t load_sessions = 64;   // p2-load: N sessions, one request in flight each
  uint64_t stream_bytes = 65536; // p1-stream: bytes per write and per read
  uint64_t stream_window = 4;    // p1-stream: write+read pairs in flight
  uint64_t listeners = 100;      // p3-fanout: M listeners
  uint64_t idle_sessions = 100000;  // sessions: K idle P2 sessions
  uint64_t startup_runs = 5;     // startup: host starts measured (median reported)
  uint64_t llm_streams = 64;     // llm-stream: streams at once (chunks/s, kv under load)
  uint64_t scale_devices = 0;    // p2-scale: kv devices of each kind; 0 = the CPUs, at least 2
};

// Where the scenarios find things.
struct Target {
  std::string kv, echo, fanout;  // device sockets (kv: P2, echo: P1, fanout: the bench's P3 plugin)
  std::string kv_isolated;       // kv with "isolation": "process", configured as `kv` otherwise
  pid_t host_pid = -1;           // for RSS; -1 when the host is not ours to read
  std::string host_binary;       // startup spawns it
  std::string plugin_dir;        // the example plugins
  std::string baseline;          // the raw baseline's socket
  std::string mock_llm;          // llm-stream: the mock provider, tests/support/mock_llm/mock_llm.py
  std::string llm_plugin;        // llm-stream: llm.so, "" when it was not built
};

// A scenario that cannot run on this machine (llm-stream without python3
// or without the llm plugin) returns true with `error` saying why and no
// metrics: it is reported as skipped, not as a failure.
using Scenario = bool (*)(const Options&, const Target&, std::vector<Metric>&, std::string& error);

bool run_p2_rtt(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_p2_load(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_p1_stream(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_p3_fanout(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_sessions(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_startup(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_llm_stream(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
// Issue 14: p2-rtt and p2-load on `kv_isolated` against `kv` (baseline
// column: in-process), and p2-scale (scenario_scale.cpp).
bool run_p2_rtt_isolated(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_p2_load_isolated(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);
bool run_p2_scale(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error);

// p2-load's client on its own: `sessions` kv sessions on one connection to
// `kv_socket`, one request (write, then read) in flight each, for
// `seconds`; adds to `run`. Any thread (each call has its own socket).
struct P2Run {
  uint64_t requests = 0;
  double elapsed_s = 0;
  std::vector<int64_t> latency_ns;  // unsorted
};
bool measure_p2(const std::string& kv_socket, size_t sessions, double seconds, P2Run& run, std::string& error);

// p2-rtt's measurement on its own: one kv session at `kv_socket`,
// sequential requests (write, then read) for `seconds`; appends each
// request's latency. llm-stream uses it for kv next to the streams.
bool measure_p2_latency(const std::string& kv_socket, double seconds, std::vector<int64_t>& latency_ns,
                        std::string& error);

// The seven example devices of config/devices.json, as a manifest.
std::string example_manifest(const std::string& extra_devices = {});
std::vector<std::string> example_device_names();

}  // namespace bentos::bench
