// Must compile: a raw driver, sync and async forms, const char* from on_read.
#include <bentos/driver.hpp>

#include <cstdint>

struct Hello {
  struct session_type {
    bool greeted = false;
  };
  void on_open(session_type& s, const bentos::session_info&) { s.greeted = false; }
  const char* on_read(session_type& s, const bentos::read_request&) {
    if (s.greeted) return nullptr;  // EOF
    s.greeted = true;
    return "hello\n";
  }
  void on_write(const bentos::write_request& w, bentos::raw_call call) { call.count(w.data.size()); }
  uint32_t on_poll(uint32_t) { return BENTOS_POLLIN; }
  void on_release(session_type&, int32_t) {}
};

BENTOS_RAW_DRIVER(Hello, "hello", "1.0.0", "raw");
// on_read (synchronous) and on_write (asynchronous) are in the ops table.
static_assert(::bentos::detail::raw_adapter<Hello>::sync<::bentos::detail::call_on_read, bentos::read_request>);
static_assert(::bentos::detail::raw_adapter<Hello>::async<::bentos::detail::call_on_write, bentos::write_request>);
