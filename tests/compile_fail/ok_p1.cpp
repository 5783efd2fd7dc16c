// Must compile: a pure-stream driver with a session and backpressure.
#include <bentos/driver.hpp>

#include <string_view>

struct Echo {
  struct session_type {
    explicit session_type(bentos::stream_output o) : out(o) {}
    bentos::stream_output out;
  };
  size_t on_data(session_type& s, std::string_view in) {
    return s.out.push(in) == bentos::push_result::ok ? in.size() : 0;
  }
  void on_writable(session_type&) {}
  void on_session_end(session_type&) {}
};

BENTOS_STREAM_DRIVER(Echo, "echo", "1.0.0", "P1");
static_assert(::bentos::detail::stream_adapter<Echo>::writable_plain);  // on_writable is in the ops table
