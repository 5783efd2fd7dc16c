// kv: a key-value store behind the write-then-read (P2) pattern.
//
// Each request is one line of UTF-8 text, surrounding whitespace trimmed:
//   "key=value"  stores value under key (split at the first '='), "OK\n"
//   "key"        answers "<value>\n", or "(not found)\n"
// With config {"strict": true}: an empty request or an empty key is EINVAL
// and a missing key is ENOENT. Text that is not valid UTF-8 is EINVAL in
// either mode. One store per device instance, shared by all its sessions.

#include <bentos/driver.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Decodes the UTF-8 sequence starting at s[i] into cp and returns its
// length, or 0 when the bytes there are not valid UTF-8 (bad lead byte,
// truncated, overlong, a surrogate, or above U+10FFFF).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  static constexpr uint32_t lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  static constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  cp = b & lead_mask[n];
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
  return n;
}

// The code points Dart's String.trim() removes: the reference SDK's kv
// trims with it, so "surrounding whitespace" means the same here.
bool is_trimmed_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

// Validates the request as UTF-8 and returns it without surrounding
// whitespace (a view into the request).
std::string_view trimmed_text(std::string_view request) {
  uint32_t cp = 0;
  for (size_t i = 0; i < request.size();) {
    size_t n = decode_utf8(request, i, cp);
    if (n == 0) throw bentos::error::invalid_argument("kv: the request is not valid UTF-8");
    i += n;
  }
  size_t begin = 0;
  while (begin < request.size()) {
    size_t n = decode_utf8(request, begin, cp);
    if (!is_trimmed_space(cp)) break;
    begin += n;
  }
  size_t end = request.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(request[start]) & 0xC0) == 0x80) --start;
    decode_utf8(request, start, cp);
    if (!is_trimmed_space(cp)) break;
    end = start;
  }
  return request.substr(begin, end - begin);
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
  // Accepted and validated so manifests can already carry it; a later
  // change delays responses by it. Unused for now.
  int64_t delay_ms_ = 0;
  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> store_;  // less<> finds by string_view
};

}  // namespace

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "a key-value store: write key=value or key, read the answer");
