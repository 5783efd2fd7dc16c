// Must compile: the write-read forms the issue found rejected, now
// accepted: the request by value as std::string, and answers as const
// char* or std::string_view; the asynchronous form with a session.
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct ByValue {
  std::string on_request(std::string request) { return request + "\n"; }
};
struct ConstChar {
  const char* on_request(std::string_view request) { return request.empty() ? "empty\n" : "some\n"; }
};
struct View {
  std::string_view on_request(std::string_view) { return "view\n"; }
};
struct Async {
  struct session_type {
    int requests = 0;
  };
  void on_request(session_type& s, const std::string& request, bentos::reply r) {
    ++s.requests;
    r.send(request);
  }
  void on_session_start(session_type& s, const bentos::session_info&) { s.requests = 0; }
};

template <class D>
constexpr bentos_driver descriptor = ::bentos::detail::make_descriptor<::bentos::detail::write_read_adapter<D>>(
    "d", "1.0.0", "forms");
static_assert(descriptor<ConstChar>.pattern == BENTOS_PATTERN_WRITE_READ);
static_assert(descriptor<View>.pattern == BENTOS_PATTERN_WRITE_READ);
static_assert(descriptor<Async>.threading == BENTOS_THREADING_LOOP);
static_assert(::bentos::detail::sessions<Async>::has_start);  // on_session_start is called

BENTOS_WRITE_READ_DRIVER(ByValue, "byvalue", "1.0.0", "P2");
