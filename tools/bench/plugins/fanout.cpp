// fanout: a bench-only event-stream (P3) driver that emits as fast as the
// host takes events, for bentos-bench's p3-fanout scenario. Not installed.
//
// While at least one listener is open, a host timer (1 ms period) emits
// `burst` events per firing (config, default 256: one listener queue's
// max_events, so a turn's events fit in every queue). A firing runs on the
// loop between I/O turns, and the host delivers one firing's events before
// the timer can fire again; so when delivery takes longer than a period the
// timer fires on every loop turn and the emitter runs at the host's speed.
// Each event is 16 bytes: the event's number as 15 decimal digits and
// '\n', so a reader can count events (bytes / 16) and see drops (gaps).
//
// Loop thread only: on_activate, on_deactivate and the timer's function
// all run there, so the driver owns no thread and needs no lock.

#include <bentos/driver.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

class Fanout {
 public:
  Fanout(const bentos::device_config& config, bentos::host_handle host) : host_(host) {
    for (const std::string& key : config.keys()) {
      if (key != "burst") throw bentos::error::invalid_argument("fanout: unknown config key '" + key + "'; known: burst");
    }
    burst_ = config.int_or("burst", 256);
    if (burst_ < 1) throw bentos::error::invalid_argument("fanout: config key 'burst' must be >= 1");
  }

  void on_activate() {
    ticks_ = bentos::timer(host_, 1, 1, [this] { emit_burst(); });
  }

  void on_deactivate() { ticks_.stop(); }

 private:
  void emit_burst() {
    char event[17];
    for (int64_t i = 0; i < burst_; ++i) {
      std::snprintf(event, sizeof event, "%015llu\n", static_cast<unsigned long long>(++count_ % 1000000000000000ull));
      host_.emit(std::string_view(event, 16));
    }
  }

  bentos::host_handle host_;
  int64_t burst_ = 256;
  uint64_t count_ = 0;   // the last event's number, over the device's life
  bentos::timer ticks_;  // running while active
};

}  // namespace

BENTOS_EVENT_STREAM_DRIVER(Fanout, "fanout", "1.0.0", "bench-only event stream: numbered 16-byte events at full speed");
