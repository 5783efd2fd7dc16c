// p3-fanout: M listeners (sessions of the bench's fanout device, one
// connection) each keep one 64 KiB read in flight while the device emits
// numbered 16-byte events as fast as the host takes them. Counts events
// delivered (summed over listeners) and drops: gaps in a listener's event
// numbers, i.e. events its bounded queue (max_events) dropped. No
// baseline: an echo server has no fan-out to compare with.
#include <cstdlib>

#include "frame_socket.h"
#include "frames.h"
#include "host_process.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {

constexpr int kReplyTimeoutMs = 5000;
constexpr size_t kEventBytes = 16;
constexpr uint64_t kReadSize = 65536;

uint64_t event_number(const uint8_t* event) {
  uint64_t n = 0;
  for (size_t i = 0; i + 1 < kEventBytes; ++i) n = n * 10 + static_cast<uint64_t>(event[i] - '0');
  return n;
}

}  // namespace

bool run_p3_fanout(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  std::unique_ptr<FrameSocket> sock = FrameSocket::connect(t.fanout, error);
  if (!sock) return false;
  const size_t m = static_cast<size_t>(opt.listeners);
  for (size_t i = 0; i < m; ++i) append_open(sock->out(), i + 1, i + 1, 0 /* O_RDONLY */);
  std::vector<uint64_t> last(m + 1, 0);  // per listener (fh): the last event number seen
  size_t opened = 0;
  while (opened < m) {
    const bool ok = sock->pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!read_frame(p, len, v) || v.member != kReplyOpen) error = "open answered err " + std::to_string(v.err);
          ++opened;
        },
        kReplyTimeoutMs);
    if (!error.empty()) return false;
    if (!ok) {
      error = "open: " + sock->error();
      return false;
    }
  }
  // Warm up for a tenth of the run, then count.
  uint64_t events = 0, drops = 0;
  bool counting = false;
  int64_t start = monotonic_ns();
  const int64_t warm_until = start + static_cast<int64_t>(opt.seconds * 1e8);
  const int64_t deadline = warm_until + static_cast<int64_t>(opt.seconds * 1e9);
  for (size_t fh = 1; fh <= m; ++fh) append_read(sock->out(), fh, fh, kReadSize);
  for (;;) {
    const int64_t now = monotonic_ns();
    if (now >= deadline) break;
    if (!counting && now >= warm_until) {
      counting = true;
      events = drops = 0;
      start = now;
    }
    const bool ok = sock->pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!read_frame(p, len, v) || v.member != kReplyBuf || v.fh == 0 || v.fh > m ||
              v.data_len % kEventBytes != 0 || v.data_len == 0) {
            error = "read answered err " + std::to_string(v.err) + " with " + std::to_string(v.data_len) + " bytes";
            return;
          }
          const uint64_t n = v.data_len / kEventBytes;
          const uint64_t first = event_number(v.data);
          const uint64_t last_n = event_number(v.data + v.data_len - kEventBytes);
          uint64_t& seen = last[v.fh];
          // Gaps before this answer and inside it are events dropped for this listener.
          if (seen != 0 && first > seen + 1) drops += first - seen - 1;
          if (last_n >= first && last_n - first + 1 > n) drops += last_n - first + 1 - n;
          seen = last_n;
          events += n;
          append_read(sock->out(), v.fh, v.fh, kReadSize);
        },
        kReplyTimeoutMs);
    if (!error.empty()) return false;
    if (!ok) {
      error = sock->error();
      return false;
    }
  }
  const double elapsed = static_cast<double>(monotonic_ns() - start) / 1e9;
  out.push_back({"p3-fanout", "delivered", "events/s", static_cast<double>(events) / elapsed, std::nullopt});
  out.push_back({"p3-fanout", "dropped", "events/s", static_cast<double>(drops) / elapsed, std::nullopt});
  return true;  // closing the connection ends the listeners
}

}  // namespace bentos::bench
