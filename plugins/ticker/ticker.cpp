// ticker: an event-stream (P3) driver through the C++ authoring layer.
//
// While at least one listener is open, the device emits "tick <n>\n" every
// `interval_ms` milliseconds (config, default 1000), n = 1, 2, ... The
// first listener's open (activation) restarts the count; the last one's
// release (deactivation) stops the ticks. Listeners that join later see
// the ticks from then on, numbered as the device counts them.
//
// The ticks come from a host timer on the loop thread, so the driver owns
// no thread and needs no lock. Host timers are loop-thread services: run
// the device on the loop executor (the default), not on workers.

#include <bentos/driver.hpp>

#include <cstdint>
#include <string>

namespace {

// One tick event, encoded as text by encode_event.
struct tick {
  uint64_t n;
};

// One device instance. Owned by the host through the adapter, from create
// to destroy. Loop thread only: on_activate, on_deactivate and the timer's
// function all run there.
class Ticker {
 public:
  // The timer's function and the hooks share count_ and ticks_ unlocked:
  // the host refuses "threads" / "executor": "worker" for this driver.
  static constexpr bool loop_only = true;

  Ticker(const bentos::device_config& config, bentos::host_handle host)
      : host_(host), events_(host, &Ticker::encode_event) {
    try {
      for (const std::string& key : config.keys()) {
        if (key != "interval_ms") {
          throw bentos::error::invalid_argument("unknown config key '" + key + "'; known: interval_ms");
        }
      }
      interval_ms_ = config.int_or("interval_ms", 1000);
    } catch (const bentos::error::driver_error& e) {
      throw bentos::error::invalid_argument(std::string("ticker: ") + e.what());
    }
    if (interval_ms_ < 1) throw bentos::error::invalid_argument("ticker: config key 'interval_ms' must be >= 1");
  }

  static std::string encode_event(const tick& t) { return "tick " + std::to_string(t.n) + "\n"; }

  void on_activate() {
    count_ = 0;
    auto every = static_cast<uint64_t>(interval_ms_);
    ticks_ = bentos::timer(host_, every, every, [this] { events_.emit(tick{++count_}); });
  }

  void on_deactivate() { ticks_.stop(); }

 private:
  bentos::host_handle host_;
  bentos::event_emitter<tick> events_;
  int64_t interval_ms_ = 1000;
  uint64_t count_ = 0;   // the last tick's number
  bentos::timer ticks_;  // running while active
};

}  // namespace

BENTOS_EVENT_STREAM_DRIVER(Ticker, "ticker", "1.0.0", "event-stream example: \"tick <n>\\n\" every interval_ms");
