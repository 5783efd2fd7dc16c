// kv: a key-value store behind the write-then-read (P2) pattern.
//
// Each request is one line of UTF-8 text, surrounding whitespace trimmed:
//   "key=value"  stores value under key (split at the first '='), "OK\n"
//   "key"        answers "<value>\n", or "(not found)\n"
// With config {"strict": true}: an empty request or an empty key is EINVAL
// and a missing key is ENOENT. Text that is not valid UTF-8 is EINVAL in
// either mode. One store per device instance, shared by all its sessions.
//
// Config "delay_ms": N (default 0) makes every request sleep N ms inside
// on_request before it is answered, to exercise host worker threads and
// request timeouts. The sleep blocks the thread that runs on_request: the
// host's loop thread (every device of the host stalls meanwhile) unless the
// device runs on host workers (manifest "executor": "worker" or "threads").

#include <bentos/driver.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../common/utf8.hpp"

namespace {

namespace utf8 = bentos_examples::utf8;

// Validates the request as UTF-8 and returns it without surrounding
// whitespace (a view into the request).
std::string_view trimmed_text(std::string_view request) {
  if (!utf8::valid(request)) throw bentos::error::invalid_argument("kv: the request is not valid UTF-8");
  return utf8::trim(request);
}

// One store per device instance. Owned by the host through the adapter,
// from create to destroy. on_request runs on the loop thread by default;
// the mutex keeps the store whole if the device is run on host workers,
// where two sessions may be served at the same time.
class Kv {
 public:
  Kv(const bentos::device_config& config, bentos::host_handle host) {
    std::vector<std::string> keys;
    try {
      keys = config.keys();
      strict_ = config.bool_or("strict", false);
      delay_ms_ = config.int_or("delay_ms", 0);
    } catch (const bentos::error::driver_error& e) {
      throw bentos::error::invalid_argument(std::string("kv: ") + e.what());
    }
    for (const std::string& key : keys) {
      if (key != "strict" && key != "delay_ms") {
        throw bentos::error::invalid_argument("kv: unknown config key '" + key + "'; known: strict, delay_ms");
      }
    }
    if (delay_ms_ < 0) throw bentos::error::invalid_argument("kv: config key 'delay_ms' must be >= 0");
    host.log(bentos::log_level::info, strict_ ? "store ready (strict)" : "store ready");
  }

  std::string on_request(std::string_view request) {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    std::string_view text = trimmed_text(request);
    if (strict_ && text.empty()) throw bentos::error::invalid_argument("kv: empty request");

    std::lock_guard<std::mutex> lock(mutex_);
    if (size_t eq = text.find('='); eq != std::string_view::npos) {
      std::string_view key = text.substr(0, eq);
      if (strict_ && key.empty()) throw bentos::error::invalid_argument("kv: empty key");
      store_.insert_or_assign(std::string(key), std::string(text.substr(eq + 1)));
      return "OK\n";
    }
    auto it = store_.find(text);
    if (it != store_.end()) return it->second + "\n";
    if (strict_) throw bentos::error::not_found("kv: no such key");
    return "(not found)\n";
  }

 private:
  bool strict_ = false;
  int64_t delay_ms_ = 0;  // sleep this long in every on_request
  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> store_;  // less<> finds by string_view
};

}  // namespace

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "a key-value store: write key=value or key, read the answer");
