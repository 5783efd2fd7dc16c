#include "llm_streams.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "frame_socket.h"
#include "frames.h"
#include "host_process.h"
#include "sse_client.h"

namespace bentos::bench {
namespace {

// With nothing at all arriving for this long, a run is broken.
constexpr int kQuietLimitMs = 10000;

// The wait for the next event: up to the stop time (rounded up, so a wait
// that times out ends at or after it), never past the quiet limit.
int wait_ms(int64_t stop_ns) {
  if (stop_ns == 0) return kQuietLimitMs;
  const int64_t left = (stop_ns - monotonic_ns() + 999999) / 1000000;
  return static_cast<int>(std::clamp<int64_t>(left, 1, kQuietLimitMs));
}

// A wait that timed out is an error only when it waited the whole quiet
// limit; one cut short by the stop time just ends the run.
bool quiet_too_long(int waited_ms) { return waited_ms >= kQuietLimitMs; }

bool stopped(int64_t stop_ns) { return stop_ns != 0 && monotonic_ns() >= stop_ns; }

// One received chunk: counted, and its latency when stamped.
bool take_chunk(const char* data, size_t len, bool stamped, StreamRun& out, std::string& error) {
  const int64_t now = monotonic_ns();
  ++out.chunks;
  if (!stamped) return true;
  int64_t sent = 0;
  const auto [end, ec] = std::from_chars(data, data + len, sent);
  if (ec != std::errc() || end != data + len) {
    error = "a chunk that is not the mock's time stamp: '" + std::string(data, std::min<size_t>(len, 40)) + "'";
    return false;
  }
  out.latency_ns.push_back(now - sent);
  return true;
}

// Request ids on the host connection: (session + 1) << 2 | step.
enum Step : uint64_t { kOpen = 0, kWrite = 1, kRead = 2 };
uint64_t make_id(size_t session, Step step) { return ((uint64_t{session} + 1) << 2) | step; }

}  // namespace

bool host_streams(const std::string& socket, size_t streams, bool stamped, int64_t stop_ns, StreamRun& out,
                  std::string& error) {
  const std::atomic<int64_t> fixed{stop_ns};
  return host_streams(socket, streams, stamped, fixed, out, error);
}

bool host_streams(const std::string& socket, size_t streams, bool stamped, const std::atomic<int64_t>& stop,
                  StreamRun& out, std::string& error) {
  std::unique_ptr<FrameSocket> sock = FrameSocket::connect(socket, error);
  if (!sock) return false;
  const int64_t start = monotonic_ns();
  // Each session's steps one after the other (open, then write, then
  // reads), as a program's open(2), write(2), read(2) would come.
  for (size_t i = 0; i < streams; ++i) append_open(sock->out(), make_id(i, kOpen), i + 1, 2 /* O_RDWR */);
  size_t running = streams;
  while (running > 0 && !stopped(stop.load())) {
    const int wait = wait_ms(stop.load());
    const bool ok = sock->pump(
        [&](const uint8_t* p, size_t len) {
          FrameView v;
          if (!error.empty()) return;
          if (!read_frame(p, len, v) || v.id < 4) {
            error = "a malformed answer";
            return;
          }
          const size_t i = static_cast<size_t>((v.id >> 2) - 1);
          const auto step = static_cast<Step>(v.id & 3);
          const uint32_t expected = step == kOpen ? kReplyOpen : step == kWrite ? kReplyWrite : kReplyBuf;
          if (v.member != expected) {
            error = "session " + std::to_string(i) + ": step " + std::to_string(step) + " answered err " +
                    std::to_string(v.err);
            return;
          }
          if (step == kOpen) {
            append_write(sock->out(), make_id(i, kWrite), i + 1, "go", 2);
          } else if (step == kWrite || v.data_len > 0) {
            if (step == kRead && !take_chunk(reinterpret_cast<const char*>(v.data), v.data_len, stamped, out, error)) {
              return;
            }
            append_read(sock->out(), make_id(i, kRead), i + 1, 65536);
          } else {  // EOF: this stream is over
            ++out.finished;
            --running;
          }
        },
        wait);
    if (!error.empty()) return false;
    const bool timed_out = sock->error().rfind("no answer within", 0) == 0;
    if (!ok && (!timed_out || quiet_too_long(wait))) {
      error = "host: " + sock->error();
      return false;
    }
  }
  out.elapsed_s += static_cast<double>(monotonic_ns() - start) / 1e9;
  return true;  // the socket closes here: the host cancels what still streams
}

bool direct_streams(int port, size_t streams, bool stamped, int64_t stop_ns, StreamRun& out, std::string& error) {
  // The body the llm plugin sends for one user message "go".
  const std::string body =
      R"({"model":"m","max_tokens":4096,"stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"go"}]})";
  // epoll, as curl's multi handle in the plugin uses: a poll() over 64
  // descriptors on every wake-up would cost this side more than the
  // streams themselves.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    error = "epoll_create1 failed";
    return false;
  }
  struct EpollFd {
    int fd;
    ~EpollFd() { ::close(fd); }
  } ep_guard{ep};
  const int64_t start = monotonic_ns();
  std::vector<std::unique_ptr<SseStream>> open(streams);
  for (size_t i = 0; i < streams; ++i) {
    open[i] = SseStream::open(port, body, error);
    if (!open[i]) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, open[i]->fd(), &ev);
  }
  size_t running = streams;
  epoll_event ready[64];
  std::vector<std::string> texts;
  while (running > 0 && !stopped(stop_ns)) {
    const int wait = wait_ms(stop_ns);
    const int n = ::epoll_wait(ep, ready, 64, wait);
    if (n == 0 && quiet_too_long(wait)) {
      error = "direct: no chunk within " + std::to_string(kQuietLimitMs) + " ms";
      return false;
    }
    for (int k = 0; k < n; ++k) {
      std::unique_ptr<SseStream>& s = open[ready[k].data.u64];
      if (!s) continue;
      texts.clear();
      if (!s->receive(texts, error)) {
        error = "direct: " + error;
        return false;
      }
      for (const std::string& t : texts) {
        if (!take_chunk(t.data(), t.size(), stamped, out, error)) return false;
      }
      if (s->done()) {  // closing the descriptor removes it from the epoll set
        ++out.finished;
        --running;
        s.reset();
      }
    }
  }
  out.elapsed_s += static_cast<double>(monotonic_ns() - start) / 1e9;
  return true;
}

}  // namespace bentos::bench
