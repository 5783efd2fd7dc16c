#include "plugin/handle_table.h"

#include <atomic>

namespace bentos::plugin {

uint64_t next_handle_id() {
  // Starts at 1 so no handle is ever NULL; 64 bits never wrap in practice.
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace bentos::plugin
