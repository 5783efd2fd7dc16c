// A class with none of its pattern's hooks.
// expect: the driver class has no hook: BENTOS_EVENT_STREAM_DRIVER accepts:
#include <bentos/driver.hpp>

struct Nothing {
  int ticks = 0;
};

BENTOS_EVENT_STREAM_DRIVER(Nothing, "nothing", "1.0.0", "no hooks");
