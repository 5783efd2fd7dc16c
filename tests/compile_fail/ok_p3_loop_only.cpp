// Must compile: an event-stream driver with a host timer, pinned to the
// loop thread (the descriptor says BENTOS_THREADING_LOOP_ONLY).
#include <bentos/driver.hpp>

#include <string>

class Clock {
 public:
  static constexpr bool loop_only = true;
  Clock(const bentos::device_config&, bentos::host_handle host) : host_(host) {}
  void on_activate() {
    ticks_ = bentos::timer(host_, 100, 100, [this] { host_.emit("tick " + std::to_string(++count_) + "\n"); });
  }
  void on_deactivate() { ticks_.stop(); }

 private:
  bentos::host_handle host_;
  bentos::timer ticks_;
  int count_ = 0;
};

BENTOS_EVENT_STREAM_DRIVER(Clock, "clock", "1.0.0", "P3");
static_assert(::bentos::detail::event_stream_adapter<Clock>::threading == BENTOS_THREADING_LOOP_ONLY);
