// on_session_start belongs to P1, P2 and P4; the raw layer has on_open.
// expect: on_session_start is a hook of P1 (BENTOS_STREAM_DRIVER) and P2 (BENTOS_WRITE_READ_DRIVER) and P4 (BENTOS_CONFIGURED_STREAM_DRIVER), not of BENTOS_RAW_DRIVER
#include <bentos/driver.hpp>

#include <string>

struct Hello {
  struct session_type {
    bool greeted = false;
  };
  void on_session_start(session_type& s, const bentos::session_info&) { s.greeted = false; }
  std::string on_read(session_type& s, const bentos::read_request&) {
    if (s.greeted) return {};
    s.greeted = true;
    return "hello\n";
  }
};

BENTOS_RAW_DRIVER(Hello, "hello", "1.0.0", "session hook of another pattern");
