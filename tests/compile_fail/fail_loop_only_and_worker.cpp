// Asking for workers and pinning to the loop at once.
// expect: loop_only = true contradicts threading = BENTOS_THREADING_WORKER: keep one
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct Kv {
  static constexpr bool loop_only = true;
  static constexpr bentos_threading threading = BENTOS_THREADING_WORKER;
  std::string on_request(std::string_view request) { return std::string(request); }
};

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "contradiction");
