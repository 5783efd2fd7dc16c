// sessions: K idle P2 sessions (kv) opened on one connection, pipelined,
// and the host's resident memory (VmRSS) before and after: bytes per idle
// session. Needs the host's pid (the bench's own host, or --host-pid).
#include "frame_socket.h"
#include "frames.h"
#include "host_process.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {
constexpr int kReplyTimeoutMs = 10000;
constexpr uint64_t kOpensInFlight = 4096;
}  // namespace

bool run_sessions(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  if (t.host_pid <= 0) {
    error = "needs the host's pid to read its memory (run without --socket-dir, or give --host-pid)";
    return false;
  }
  std::unique_ptr<FrameSocket> sock = FrameSocket::connect(t.kv, error);
  if (!sock) return false;
  // One request first, so the connection's own buffers are not counted.
  append_open(sock->out(), 1, 1, 2);
  uint64_t answered = 0, sent = 1;
  auto answers = [&](const uint8_t* p, size_t len) {
    FrameView v;
    if (!read_frame(p, len, v) || v.member != kReplyOpen) {
      error = "open answered err " + std::to_string(v.err) + " after " + std::to_string(answered) + " sessions";
    }
    ++answered;
  };
  while (answered < sent) {
    if (!sock->pump(answers, kReplyTimeoutMs)) break;
  }
  const int64_t before = resident_bytes(t.host_pid);
  const int64_t start = monotonic_ns();
  const uint64_t total = opt.idle_sessions + 1;
  while (error.empty() && answered < total) {
    while (sent < total && sent - answered < kOpensInFlight) {
      ++sent;
      append_open(sock->out(), sent, sent, 2 /* O_RDWR */);
    }
    if (!sock->pump(answers, kReplyTimeoutMs)) {
      error = "open: " + sock->error();
      break;
    }
  }
  if (!error.empty()) return false;
  const double elapsed = static_cast<double>(monotonic_ns() - start) / 1e9;
  const int64_t after = resident_bytes(t.host_pid);
  if (before < 0 || after < 0) {
    error = "cannot read /proc/" + std::to_string(t.host_pid) + "/status";
    return false;
  }
  const auto k = static_cast<double>(opt.idle_sessions);
  out.push_back({"sessions", "rss_per_session", "bytes", static_cast<double>(after - before) / k, std::nullopt});
  out.push_back({"sessions", "host_rss", "MiB", static_cast<double>(after) / (1 << 20), std::nullopt});
  out.push_back({"sessions", "opens", "opens/s", k / elapsed, std::nullopt});
  return true;  // closing the connection ends every session
}

}  // namespace bentos::bench
