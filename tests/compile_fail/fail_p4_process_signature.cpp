// process with the config taken by non-const reference.
// expect: process cannot be called: write `void process([S&,] const bentos::record_list&, const config_type&, bentos::record_stream)`
#include <bentos/driver.hpp>

struct Config {
  bool loud = false;
};

struct Upper {
  using config_type = Config;
  void process(const bentos::record_list& in, Config& c, bentos::record_stream out) {
    for (auto r : in) out.yield(r);
    out.end(c.loud ? 0 : 0);
  }
};

BENTOS_CONFIGURED_STREAM_DRIVER(Upper, "upper", "1.0.0", "wrong process");
