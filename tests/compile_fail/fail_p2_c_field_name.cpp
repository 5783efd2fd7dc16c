// The C ABI's field name instead of the C++ hook.
// expect: session_start is a C ABI ops-table field (C++: on_session_start)
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct Kv {
  struct session_type {};
  void session_start(session_type&, const bentos::session_info&) {}
  std::string on_request(std::string_view request) { return std::string(request); }
};

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "C name");
