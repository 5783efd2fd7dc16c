// on_activate with a parameter.
// expect: on_activate cannot be called: write `void on_activate()`, public
#include <bentos/driver.hpp>

struct Clock {
  void on_activate(int interval_ms) { (void)interval_ms; }
};

BENTOS_EVENT_STREAM_DRIVER(Clock, "clock", "1.0.0", "wrong signature");
