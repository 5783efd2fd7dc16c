// on_request with parameters the layer cannot pass.
// expect: on_request cannot be called: write `std::string on_request([S&,] std::string_view)`
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct Kv {
  std::string on_request(std::string_view request, int retries) { return std::string(request) + char('0' + retries); }
};

BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "two parameters");
