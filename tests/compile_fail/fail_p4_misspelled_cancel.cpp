// A dropped letter in an optional P4 hook: the cancel would never run.
// expect: on_cancle is not a hook: did you mean on_cancel?
#include <bentos/driver.hpp>

struct Upper {
  void process(const bentos::record_list& in, const bentos::no_config&, bentos::record_stream out) {
    for (auto r : in) out.yield(r);
    out.end();
  }
  void on_cancle() {}
};

BENTOS_CONFIGURED_STREAM_DRIVER(Upper, "upper", "1.0.0", "typo");
