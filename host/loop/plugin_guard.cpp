#include "loop/plugin_guard.h"

#include "util/log.h"

namespace bentos::loop {

void PluginGuard::caught(const char* what, const char* detail) noexcept {
  const uint64_t n = exceptions_.fetch_add(1, std::memory_order_relaxed) + 1;
  try {
    std::string line = std::string(what) + " threw a C++ exception";
    line += detail ? std::string(" (") + detail + ")" : std::string(" (not a std::exception)");
    line += "; exceptions never cross the C ABI: it counts as EIO (" + std::to_string(n) + " so far)";
    log::error(device_, line);
  } catch (...) {
    // Out of memory while describing it: the count still says it happened.
  }
}

}  // namespace bentos::loop
