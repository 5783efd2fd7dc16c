// A hook the layer cannot call because it is private (a `class` whose
// members were never made public).
// expect: on_deactivate cannot be called: write `void on_deactivate()`, public
#include <bentos/driver.hpp>

class Clock {
 public:
  void on_activate() {}

 private:
  void on_deactivate() {}
};

BENTOS_EVENT_STREAM_DRIVER(Clock, "clock", "1.0.0", "private hook");
