// p1-stream: echo (P1) on one session, `stream_window` pairs of a write of
// `stream_bytes` and a read of `stream_bytes` in flight, pipelined. MB/s
// each way: bytes the host took (write counts) and bytes it returned
// (reads). Against the baseline, which echoes each frame, a write's echo
// carries the same bytes back.
#include "frame_socket.h"
#include "frames.h"
#include "host_process.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {

constexpr int kReplyTimeoutMs = 5000;
constexpr uint64_t kFh = 1;

// Summed over a side's rounds.
struct StreamResult {
  uint64_t bytes_in = 0;   // written by the client and taken
  uint64_t bytes_out = 0;  // read back
  double elapsed_s = 0;
};

// Ids: pair number * 2, + 1 for the read; id 1 is the open.
bool run_stream(const std::string& path, const Options& opt, double seconds, bool baseline, StreamResult& result,
                std::string& error) {
  std::unique_ptr<FrameSocket> sock = FrameSocket::connect(path, error);
  if (!sock) return false;
  const std::string payload(opt.stream_bytes, 'e');
  append_open(sock->out(), 1, kFh, 2 /* O_RDWR */);
  bool opened = false;
  while (!opened) {
    if (!sock->pump([&](const uint8_t*, size_t) { opened = true; }, kReplyTimeoutMs)) {
      error = "open: " + sock->error();
      return false;
    }
  }
  uint64_t next_pair = 1, in_flight = 0;
  auto send_pair = [&] {
    append_write(sock->out(), next_pair * 2, kFh, payload.data(), payload.size());
    append_read(sock->out(), next_pair * 2 + 1, kFh, opt.stream_bytes);
    ++next_pair;
    ++in_flight;
  };
  const int64_t start = monotonic_ns();
  const int64_t deadline = start + static_cast<int64_t>(seconds * 1e9);
  for (uint64_t i = 0; i < opt.stream_window; ++i) send_pair();
  bool stopping = false;
  while (in_flight > 0) {
    const bool ok = sock->pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!read_frame(p, len, v)) {
            error = "a malformed frame";
            return;
          }
          const bool is_read = (v.id & 1) != 0;
          if (baseline) {
            if (!is_read) {  // the write's echo: its bytes come back
              result.bytes_in += payload.size();
              result.bytes_out += payload.size();
            }
          } else if (is_read && v.member == kReplyBuf) {
            result.bytes_out += v.data_len;
          } else if (!is_read && v.member == kReplyWrite) {
            result.bytes_in += v.count;
          } else {
            error = std::string(is_read ? "read" : "write") + " answered err " + std::to_string(v.err);
            return;
          }
          if (!is_read) return;
          --in_flight;
          if (!stopping && monotonic_ns() >= deadline) stopping = true;
          if (!stopping) send_pair();
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

}  // namespace

bool run_p1_stream(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  StreamResult host, base;
  const double each = opt.seconds / static_cast<double>(opt.rounds);
  for (uint64_t round = 0; round < opt.rounds; ++round) {
    if (!run_stream(t.echo, opt, each, false, host, error)) return false;
    if (!run_stream(t.baseline, opt, each, true, base, error)) {
      error = "baseline: " + error;
      return false;
    }
  }
  auto mbps = [](uint64_t bytes, double s) { return static_cast<double>(bytes) / s / 1e6; };
  out.push_back({"p1-stream", "write", "MB/s", mbps(host.bytes_in, host.elapsed_s), mbps(base.bytes_in, base.elapsed_s)});
  out.push_back({"p1-stream", "read", "MB/s", mbps(host.bytes_out, host.elapsed_s), mbps(base.bytes_out, base.elapsed_s)});
  return true;
}

}  // namespace bentos::bench
