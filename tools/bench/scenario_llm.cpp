// llm-stream (issue 13): the llm device reading the mock provider, next to
// a direct HTTP client reading the same mock stream (llm_streams.h), on a
// host of its own (llm_rig.h). Three parts:
//
//   chunk_p50/p99  one stream at a time, a chunk every kLatencyPaceMs, each
//                  chunk's text the mock's CLOCK_MONOTONIC send time: the
//                  reader's receipt time minus it (same clock, same machine)
//   chunks         `llm_streams` (64) streams at once, the mock sending as
//                  fast as it can, for S/R seconds a round: chunks/s
//   kv_p50/p99     sequential kv round trips (write + read) on the same
//                  host, first idle, then while `llm_streams` streams run
//                  at one chunk per kLoadPaceMs (a model's pace): the
//                  streams must not slow the host's other devices
//
// Skipped (not failed) when python3, the mock script or llm.so is missing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "host_process.h"
#include "llm_rig.h"
#include "llm_streams.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {

constexpr int kLatencyPaceMs = 5;
constexpr int kLoadPaceMs = 20;

// A mock response of `pieces` text pieces, `times` requests' worth.
nlohmann::json spec(size_t pieces, const char* text, int pace_ms, bool stamp, size_t times) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < pieces; ++i) list.push_back({{"text", text}});
  return {{"pieces", std::move(list)}, {"pace_ms", pace_ms}, {"stamp", stamp}, {"times", times}};
}

double us(const std::vector<int64_t>& sorted, double q) { return static_cast<double>(percentile(sorted, q)) / 1e3; }

double rate(const StreamRun& r) { return r.elapsed_s > 0 ? static_cast<double>(r.chunks) / r.elapsed_s : 0; }

// Scripts the mock, then runs one side. The mock's queue and log are
// emptied first, so a cancelled run leaves nothing behind for the next.
template <class Run>
bool side(const LlmRig& rig, const nlohmann::json& response, const char* name, Run&& run, std::string& error) {
  try {
    rig.mock().reset();
    rig.mock().script(response);
  } catch (const std::exception& e) {
    error = std::string("scripting the mock: ") + e.what();
    return false;
  }
  if (run()) return true;
  error = std::string(name) + ": " + error;
  return false;
}

bool latency_part(const Options& opt, const LlmRig& rig, StreamRun& host, StreamRun& base, std::string& error) {
  const double each = opt.seconds / static_cast<double>(opt.rounds);
  const auto pieces = static_cast<size_t>(std::max(10.0, each * 1000 / kLatencyPaceMs));
  const nlohmann::json response = spec(pieces, "{t}", kLatencyPaceMs, true, 1);
  const int port = rig.mock().port();
  for (uint64_t round = 0; round < opt.rounds; ++round) {
    if (!side(rig, response, "host", [&] { return host_streams(rig.llm_socket(), 1, true, 0, host, error); }, error) ||
        !side(rig, response, "direct", [&] { return direct_streams(port, 1, true, 0, base, error); }, error)) {
      return false;
    }
  }
  std::sort(host.latency_ns.begin(), host.latency_ns.end());
  std::sort(base.latency_ns.begin(), base.latency_ns.end());
  return true;
}

bool throughput_part(const Options& opt, const LlmRig& rig, StreamRun& host, StreamRun& base, std::string& error) {
  const double each = opt.seconds / static_cast<double>(opt.rounds);
  const auto streams = static_cast<size_t>(opt.llm_streams);
  // More than any stream gets through in a round: each round ends at its
  // stop time, not when the pieces run out.
  const nlohmann::json response = spec(20000, "x", 0, false, streams);
  const int port = rig.mock().port();
  auto stop = [&] { return monotonic_ns() + static_cast<int64_t>(each * 1e9); };
  for (uint64_t round = 0; round < opt.rounds; ++round) {
    if (!side(rig, response, "host",
              [&] { return host_streams(rig.llm_socket(), streams, false, stop(), host, error); }, error) ||
        !side(rig, response, "direct", [&] { return direct_streams(port, streams, false, stop(), base, error); },
              error)) {
      return false;
    }
  }
  return true;
}

// kv round trips idle, then while the paced streams run (on a thread of
// their own: the kv client must not wait for them).
bool kv_part(const Options& opt, const LlmRig& rig, std::vector<int64_t>& idle, std::vector<int64_t>& loaded,
             std::string& error) {
  rig.mock_to_last_cpu();  // idle and loaded alike: the mock elsewhere (llm_rig.h)
  if (!measure_p2_latency(rig.kv_socket(), opt.seconds, idle, error)) {
    error = "kv idle: " + error;
    return false;
  }
  const auto streams = static_cast<size_t>(opt.llm_streams);
  // Far longer than the measurement: the streams are stopped when it
  // ends (below), however long they took to start.
  constexpr double kSpareSeconds = 60;
  const auto pieces = static_cast<size_t>((opt.seconds + kSpareSeconds) * 1000 / kLoadPaceMs);
  try {
    rig.mock().reset();
    rig.mock().script(spec(pieces, "x", kLoadPaceMs, false, streams));
  } catch (const std::exception& e) {
    error = std::string("scripting the mock: ") + e.what();
    return false;
  }
  StreamRun load;
  std::string load_error;
  std::atomic<int64_t> stop{monotonic_ns() + static_cast<int64_t>((opt.seconds + kSpareSeconds) * 1e9)};
  std::thread streaming([&] { host_streams(rig.llm_socket(), streams, false, stop, load, load_error); });
  // Measure once every stream has reached the mock (its request log).
  bool all_streaming = false;
  try {
    all_streaming = rig.mock().wait_requests([&](const nlohmann::json& log) { return log.size() >= streams; },
                                             std::chrono::seconds(10));
  } catch (const std::exception& e) {
    error = std::string("reading the mock's log: ") + e.what();
  }
  const bool measured = all_streaming && measure_p2_latency(rig.kv_socket(), opt.seconds, loaded, error);
  stop = monotonic_ns();
  streaming.join();
  if (!all_streaming && error.empty()) error = "the streams did not all reach the mock within 10 s";
  if (error.empty() && !load_error.empty()) error = "the streams: " + load_error;
  if (!measured || !error.empty()) {
    error = "kv under load: " + error;
    return false;
  }
  std::sort(idle.begin(), idle.end());
  std::sort(loaded.begin(), loaded.end());
  return true;
}

}  // namespace

bool run_llm_stream(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  if (const std::string why = LlmRig::missing(t); !why.empty()) {
    error = why;
    return true;  // skipped: see scenarios.h
  }
  LlmRig rig;
  if (!rig.start(t, opt.llm_streams, error)) return false;
  StreamRun lat_host, lat_base, tp_host, tp_base;
  std::vector<int64_t> kv_idle, kv_loaded;
  const bool ok = latency_part(opt, rig, lat_host, lat_base, error) &&
                  throughput_part(opt, rig, tp_host, tp_base, error) && kv_part(opt, rig, kv_idle, kv_loaded, error);
  if (!ok) {
    error += "\nthe llm host's log:\n" + rig.host_log();
    return false;
  }
  if (!rig.stop()) {
    error = "the llm host did not exit 0 on SIGTERM; its log:\n" + rig.host_log();
    return false;
  }
  out.push_back({"llm-stream", "chunk_p50", "us", us(lat_host.latency_ns, 0.50), us(lat_base.latency_ns, 0.50)});
  out.push_back({"llm-stream", "chunk_p99", "us", us(lat_host.latency_ns, 0.99), us(lat_base.latency_ns, 0.99)});
  out.push_back({"llm-stream", "chunks", "chunks/s", rate(tp_host), rate(tp_base)});
  out.push_back({"llm-stream", "kv_p50_idle", "us", us(kv_idle, 0.50), std::nullopt});
  out.push_back({"llm-stream", "kv_p50_streams", "us", us(kv_loaded, 0.50), std::nullopt});
  out.push_back({"llm-stream", "kv_p99_idle", "us", us(kv_idle, 0.99), std::nullopt});
  out.push_back({"llm-stream", "kv_p99_streams", "us", us(kv_loaded, 0.99), std::nullopt});
  return true;
}

}  // namespace bentos::bench
