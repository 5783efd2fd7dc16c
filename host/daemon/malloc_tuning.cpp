#include "daemon/malloc_tuning.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bentos::daemon {

namespace {
constexpr int kTrimThreshold = 16 << 20;  // freed heap kept before giving it back
constexpr int kMmapThreshold = 8 << 20;   // smaller blocks come from the heap
}  // namespace

void keep_freed_heap_for_reuse() {
#if defined(__GLIBC__)
  if (const char* tunables = std::getenv("GLIBC_TUNABLES"); tunables && std::strstr(tunables, "malloc.")) return;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
#endif
}

}  // namespace bentos::daemon
