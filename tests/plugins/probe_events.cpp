// probe_events: an event-stream (P3) plugin for host tests, through the C++
// authoring layer (driver.hpp). P3 has no input channel (writes are
// EACCES), so the device config says what each activation does:
//
//   "threads": T         emitter threads started by on_activate (default 1)
//   "burst": N           events each thread emits (default 0)
//   "start_delay_ms": D  each thread waits D ms first, so a test can open
//                        more listeners before the burst (default 0)
//   "interval_ms": I     pause between one thread's events (default 0)
//   "event_bytes": B     pad every event with '.' to B bytes, '\n' last
//                        (default 0: no padding)
//   "announce": true     on_activate itself emits "activate <a>\n" (a =
//                        activations so far) from the loop thread
//   "fail_activate": true  on_activate throws (the open answers EIO)
//
// Thread i (from 0) emits "t<i>-<k>\n", k = 1..N, in order. Deactivation
// stops and joins the threads (an unfinished burst is cut short); so does
// destroy.

#include <bentos/driver.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// One device instance. Owned by the host through the adapter, from create
// to destroy. on_activate / on_deactivate / the destructor run on the
// loop thread and alone start and join the threads; the threads read the
// immutable settings and wait on `wake_` under `mutex_` for `stopping_`.
class ProbeEvents {
 public:
  ProbeEvents(const bentos::device_config& config, bentos::host_handle host) : host_(host) {
    threads_n_ = config.int_or("threads", 1);
    burst_ = config.int_or("burst", 0);
    start_delay_ms_ = config.int_or("start_delay_ms", 0);
    interval_ms_ = config.int_or("interval_ms", 0);
    event_bytes_ = config.int_or("event_bytes", 0);
    announce_ = config.bool_or("announce", false);
    fail_activate_ = config.bool_or("fail_activate", false);
    if (threads_n_ < 0 || threads_n_ > 256 || burst_ < 0 || start_delay_ms_ < 0 || interval_ms_ < 0 ||
        event_bytes_ < 0) {
      throw bentos::error::invalid_argument("probe_events: a config value is out of range");
    }
  }
  ProbeEvents(const ProbeEvents&) = delete;
  ProbeEvents& operator=(const ProbeEvents&) = delete;
  ~ProbeEvents() { stop(); }

  void on_activate() {
    ++activations_;
    if (fail_activate_) throw bentos::error::io("probe_events: fail_activate is set");
    if (announce_) host_.emit("activate " + std::to_string(activations_) + "\n");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = false;
    }
    for (int64_t i = 0; i < threads_n_; ++i) threads_.emplace_back([this, i] { emit_burst(i); });
  }

  void on_deactivate() { stop(); }

 private:
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  // Sleeps ms unless stopped meanwhile; false once stopping.
  bool pause(int64_t ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
    return !stopping_;
  }

  void emit_burst(int64_t thread) {
    if (!pause(start_delay_ms_)) return;
    for (int64_t k = 1; k <= burst_; ++k) {
      if (k > 1 && interval_ms_ > 0 && !pause(interval_ms_)) return;
      std::string event = "t" + std::to_string(thread) + "-" + std::to_string(k);
      if (event_bytes_ > static_cast<int64_t>(event.size()) + 1) {
        event.resize(static_cast<size_t>(event_bytes_) - 1, '.');
      }
      host_.emit(event + "\n");
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
  }

  bentos::host_handle host_;
  int64_t threads_n_, burst_, start_delay_ms_, interval_ms_, event_bytes_;
  bool announce_, fail_activate_;
  uint64_t activations_ = 0;          // loop thread only
  std::vector<std::thread> threads_;  // loop thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace

BENTOS_EVENT_STREAM_DRIVER(ProbeEvents, "probe_events", "0.0.0", "test plugin: event-stream probe (threaded bursts)");
