// camelCase: a near miss by rule.
// expect: onRequest is not a hook: did you mean on_request?
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct Kv {
  std::string on_request(std::string_view request) { return std::string(request); }
  std::string onRequest(std::string_view request) { return on_request(request); }
};

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "camelCase");
