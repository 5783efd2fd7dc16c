// A synchronous on_request whose answer is not bytes: one line saying
// what to return (returning const char* used to give 145 lines of errors;
// it is accepted now, see ok_p2_forms.cpp).
// expect: a hook's answer must be bytes: return std::string, std::string_view, const char*
#include <bentos/driver.hpp>

#include <string_view>

struct Counter {
  int on_request(std::string_view request) { return static_cast<int>(request.size()); }
};

BENTOS_WRITE_READ_DRIVER(Counter, "counter", "1.0.0", "answers an int");
