// The clock the host measures durations with (request latency in the
// device stats): the monotonic clock, in nanoseconds. One place, so the
// connection that stamps a read and the stats that subtract from it agree.
//
// Reading it costs a vDSO call (tens of ns), which adds up at a million
// requests a second: callers read it once per batch (a read callback, a
// flush), not once per request.
//
// Stateless; any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace bentos::util {

inline uint64_t monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace bentos::util
