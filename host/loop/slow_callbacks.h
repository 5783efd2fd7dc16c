// Notices plugin callbacks that hold the loop thread too long. A callback
// on the loop blocks every device and every connection of the host, so one
// that takes more than 10 ms is a plugin bug worth a warning naming the
// device and the op. A plugin that is slow on every call must not flood the
// log either: after a line, further slow callbacks of the device are only
// counted for 10 s, and the next line says how many there were and which
// was the slowest.
//
// Owned by its LoopExecutor; loop thread only. The clock is passed in, so
// tests can drive the rate limit without waiting.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace bentos::loop {

// CLOCK_MONOTONIC_COARSE: the time of the last kernel tick (1 to 10 ms
// resolution, by the kernel's HZ), read without a timestamp-counter read
// and so much cheaper than steady_clock. Timing every loop-thread plugin
// callback with steady_clock cost several percent of the host under load.
// The price: a callback near the 10 ms threshold may be logged or not by
// one tick; one that holds the loop for tens of milliseconds always is.
struct CoarseClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<CoarseClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(duration(int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec));
  }
};

class SlowCallbackLog {
 public:
  using Clock = CoarseClock;
  static constexpr std::chrono::milliseconds kThreshold{10};
  static constexpr std::chrono::seconds kQuietPeriod{10};

  // Notes that callback `op` took `took`, ending at `now`. Returns the line
  // to log now, or "" (fast enough, or counted for a later line).
  std::string note(const char* op, Clock::duration took, Clock::time_point now);

 private:
  bool logged_once_ = false;
  Clock::time_point last_line_{};
  uint64_t unreported_ = 0;          // slow callbacks since the last line
  Clock::duration slowest_{};        // the slowest of them
  std::string slowest_op_;
};

}  // namespace bentos::loop
