// The two ways llm-stream reads the mock provider's streams: through the
// host (the bench's framed client -> the `llm` device's socket -> the llm
// plugin -> the mock) and directly (SseStream: an HTTP client on the mock's
// TCP port, the baseline). Both drive many streams from one thread with
// one wait per wake-up (poll on the one host socket, epoll over the direct
// connections), so the client costs about the same on each side.
//
// Stateless functions; any thread (each call uses only its own sockets).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace bentos::bench {

// What one run of streams saw.
struct StreamRun {
  uint64_t chunks = 0;    // records (host) or content deltas (direct) received
  uint64_t finished = 0;  // streams read to their end
  double elapsed_s = 0;   // first request sent -> every stream ended, or the stop time
  // stamped runs: for every chunk, receipt time minus the mock's send
  // time (the chunk's text is the mock's {t}: CLOCK_MONOTONIC ns).
  std::vector<int64_t> latency_ns;
};

// Reads `streams` answers at once from the llm device at `socket`, one
// session each on one connection: open, write "go", then one read parked
// at a time until EOF (the first read submits). At `stop_ns`
// (CLOCK_MONOTONIC; 0: none) the connection is closed, which cancels what
// still streams; another thread may move it while the run goes on (it is
// seen at the next chunk). Adds to `out`.
bool host_streams(const std::string& socket, size_t streams, bool stamped, const std::atomic<int64_t>& stop_ns,
                  StreamRun& out, std::string& error);
bool host_streams(const std::string& socket, size_t streams, bool stamped, int64_t stop_ns, StreamRun& out,
                  std::string& error);

// The same streams straight from the mock on 127.0.0.1:port, one TCP
// connection each, with the request the llm plugin sends (stream, usage).
bool direct_streams(int port, size_t streams, bool stamped, int64_t stop_ns, StreamRun& out, std::string& error);

}  // namespace bentos::bench
