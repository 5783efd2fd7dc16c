// p2-rtt and p2-load: kv (P2) requests, one write ("k<session>_<n>=v",
// answered with its count) then one read (answered "OK\n") each, the read
// sent when the write's answer arrived (as an application's write(2) then
// read(2) would). p2-rtt runs one session; p2-load N sessions on one
// connection, each with one request in flight. A request's latency is from
// sending its write to receiving its read's answer, so against the
// baseline (which echoes each frame) it is two round trips.
//
// p2-rtt-isolated and p2-load-isolated (issue 14) run the same clients on
// an isolated kv (a child process serving its socket directly) and on the
// in-process kv of the same host, taking turns: the ratio is what
// isolation costs a request.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "frame_socket.h"
#include "frames.h"
#include "host_process.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {

constexpr int kReplyTimeoutMs = 5000;
// Keys wrap, so kv's store stays small (64 sessions x 16 keys): the bench
// measures the host, not the plugin's map growing (at 4096 keys a session,
// kv's lookups were a tenth of the host's profile).
constexpr uint64_t kKeySpace = 16;

struct Lane {
  uint64_t fh = 0;
  uint64_t n = 0;          // requests started
  int64_t started_ns = 0;  // the current request's write
  bool done = false;
};

// Ids say which lane and which half: ((lane + 1) << 1) | is_read.
uint64_t make_id(size_t lane, bool is_read) { return ((uint64_t{lane} + 1) << 1) | (is_read ? 1 : 0); }

void send_write(FrameSocket& sock, size_t index, Lane& lane) {
  char key[48];
  const int len = std::snprintf(key, sizeof key, "k%05zu_%04llu=v", index,
                                static_cast<unsigned long long>(lane.n % kKeySpace));
  ++lane.n;
  lane.started_ns = monotonic_ns();
  append_write(sock.out(), make_id(index, false), lane.fh, key, static_cast<size_t>(len));
}

// Opens `lanes` sessions (fh 1..N) and waits for every answer.
bool open_lanes(FrameSocket& sock, std::vector<Lane>& lanes, bool baseline, std::string& error) {
  for (size_t i = 0; i < lanes.size(); ++i) {
    lanes[i].fh = i + 1;
    append_open(sock.out(), make_id(i, false), lanes[i].fh, 2 /* O_RDWR */);
  }
  size_t answered = 0;
  bool ok = true;
  while (ok && answered < lanes.size()) {
    ok = sock.pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!baseline && (!read_frame(p, len, v) || v.member != kReplyOpen)) {
            error = "open: unexpected answer (err " + std::to_string(v.err) + ")";
          }
          ++answered;
        },
        kReplyTimeoutMs);
    if (!error.empty()) return false;
  }
  if (!ok) error = "open: " + sock.error();
  return ok;
}

bool run_p2(const std::string& path, size_t sessions, double seconds, bool baseline, P2Run& result,
            std::string& error) {
  std::unique_ptr<FrameSocket> sock = FrameSocket::connect(path, error);
  if (!sock) return false;
  std::vector<Lane> lanes(sessions);
  if (!open_lanes(*sock, lanes, baseline, error)) return false;

  const int64_t start = monotonic_ns();
  const int64_t deadline = start + static_cast<int64_t>(seconds * 1e9);
  for (size_t i = 0; i < lanes.size(); ++i) send_write(*sock, i, lanes[i]);
  size_t running = lanes.size();
  while (running > 0) {
    const bool ok = sock->pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!read_frame(p, len, v)) {
            error = "a malformed frame";
            return;
          }
          const size_t index = static_cast<size_t>((v.id >> 1) - 1);
          const bool is_read = (v.id & 1) != 0;
          if (index >= lanes.size() || lanes[index].done) {
            error = "an answer with unknown id " + std::to_string(v.id);
            return;
          }
          Lane& lane = lanes[index];
          if (!baseline) {
            const bool good = is_read ? v.member == kReplyBuf && v.data_len == 3 && std::equal(v.data, v.data + 3, "OK\n")
                                      : v.member == kReplyWrite && v.count > 0;
            if (!good) {
              error = std::string(is_read ? "read" : "write") + " answered err " + std::to_string(v.err) +
                      ", member " + std::to_string(v.member);
              return;
            }
          }
          if (!is_read) {
            append_read(sock->out(), make_id(index, true), lane.fh, 65536);
            return;
          }
          const int64_t now = monotonic_ns();
          result.latency_ns.push_back(now - lane.started_ns);
          ++result.requests;
          if (now < deadline) {
            send_write(*sock, index, lane);
          } else {
            lane.done = true;
            --running;
          }
        },
        kReplyTimeoutMs);
    if (!error.empty()) return false;
    if (!ok) {
      error = sock->error();
      return false;
    }
  }
  result.elapsed_s += static_cast<double>(monotonic_ns() - start) / 1e9;
  return true;
}

// One side of a comparison: a socket, and whether it is the raw baseline
// (which echoes the frames, so its answers are not checked as kv's).
struct Side {
  std::string path;
  bool raw_baseline;
  const char* name;  // for errors
};

// `sessions` lanes on `a` and on `b`, taking turns for opt.rounds rounds;
// appends req/s and latency percentiles with `a` in the host column and `b`
// in the baseline column (Metric::baseline_is = `baseline_is`).
bool compare_p2(const char* name, size_t sessions, const Options& opt, const Side& a, const Side& b,
                const std::string& baseline_is, std::vector<Metric>& out, std::string& error) {
  P2Run host, base;
  host.latency_ns.reserve(1 << 20);
  base.latency_ns.reserve(1 << 20);
  const double each = opt.seconds / static_cast<double>(opt.rounds);
  for (uint64_t round = 0; round < opt.rounds; ++round) {
    for (auto [side, result] : {std::pair{&a, &host}, std::pair{&b, &base}}) {
      if (!run_p2(side->path, sessions, each, side->raw_baseline, *result, error)) {
        error = std::string(side->name) + ": " + error;
        return false;
      }
    }
  }
  std::sort(host.latency_ns.begin(), host.latency_ns.end());
  std::sort(base.latency_ns.begin(), base.latency_ns.end());
  auto us = [](const P2Run& r, double q) { return static_cast<double>(percentile(r.latency_ns, q)) / 1e3; };
  auto rate = [](const P2Run& r) { return static_cast<double>(r.requests) / r.elapsed_s; };
  out.push_back({name, "requests", "req/s", rate(host), rate(base), baseline_is});
  out.push_back({name, "p50", "us", us(host, 0.50), us(base, 0.50), baseline_is});
  out.push_back({name, "p99", "us", us(host, 0.99), us(base, 0.99), baseline_is});
  out.push_back({name, "p99.9", "us", us(host, 0.999), us(base, 0.999), baseline_is});
  return true;
}

bool p2_scenario(const char* name, size_t sessions, const Options& opt, const Target& t, std::vector<Metric>& out,
                 std::string& error) {
  return compare_p2(name, sessions, opt, {t.kv, false, "host"}, {t.baseline, true, "baseline"}, "", out, error);
}

// The isolated kv against the in-process one, in the same host and run.
// A host given with --socket-dir may have no isolated kv: skipped.
bool p2_isolated_scenario(const char* name, size_t sessions, const Options& opt, const Target& t,
                          std::vector<Metric>& out, std::string& error) {
  std::error_code ec;
  if (t.kv_isolated.empty() || !std::filesystem::exists(t.kv_isolated, ec)) {
    error = "no isolated kv socket at '" + t.kv_isolated +
            "' (with --socket-dir: a kv device named kviso with \"isolation\": \"process\")";
    return true;
  }
  return compare_p2(name, sessions, opt, {t.kv_isolated, false, "isolated kv"}, {t.kv, false, "in-process kv"},
                    "in-process", out, error);
}

}  // namespace

bool measure_p2(const std::string& kv_socket, size_t sessions, double seconds, P2Run& run, std::string& error) {
  return run_p2(kv_socket, sessions, seconds, false, run, error);
}

bool measure_p2_latency(const std::string& kv_socket, double seconds, std::vector<int64_t>& latency_ns,
                        std::string& error) {
  P2Run result;
  if (!run_p2(kv_socket, 1, seconds, false, result, error)) return false;
  latency_ns.insert(latency_ns.end(), result.latency_ns.begin(), result.latency_ns.end());
  return true;
}

bool run_p2_rtt(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  return p2_scenario("p2-rtt", 1, opt, t, out, error);
}

bool run_p2_load(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  return p2_scenario("p2-load", static_cast<size_t>(opt.load_sessions), opt, t, out, error);
}

bool run_p2_rtt_isolated(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  return p2_isolated_scenario("p2-rtt-isolated", 1, opt, t, out, error);
}

bool run_p2_load_isolated(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  return p2_isolated_scenario("p2-load-isolated", static_cast<size_t>(opt.load_sessions), opt, t, out, error);
}

}  // namespace bentos::bench
