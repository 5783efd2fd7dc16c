#include "loop/slow_callbacks.h"

namespace bentos::loop {

namespace {

std::string ms_text(SlowCallbackLog::Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

std::string SlowCallbackLog::note(const char* op, Clock::duration took, Clock::time_point now) {
  if (took <= kThreshold) return {};
  if (logged_once_ && now - last_line_ < kQuietPeriod) {
    ++unreported_;
    if (took > slowest_) {
      slowest_ = took;
      slowest_op_ = op;
    }
    return {};
  }
  std::string line = std::string("plugin callback ") + op + " took " + ms_text(took) +
                     " on the loop thread, blocking every device (callbacks must not block: answer later "
                     "through the call handle, or give the device \"threads\": N)";
  if (unreported_ > 0) {
    line += "; " + std::to_string(unreported_) + " more slow callback(s) since the last report, the slowest " +
            slowest_op_ + " at " + ms_text(slowest_);
  }
  logged_once_ = true;
  last_line_ = now;
  unreported_ = 0;
  slowest_ = {};
  slowest_op_.clear();
  return line;
}

}  // namespace bentos::loop
