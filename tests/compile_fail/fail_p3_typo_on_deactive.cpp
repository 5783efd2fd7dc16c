// The typo: on_deactive compiled silently and the timer never stopped.
// expect: on_deactive is not a hook: did you mean on_deactivate?
#include <bentos/driver.hpp>

struct Clock {
  void on_activate() {}
  void on_deactive() {}
};

BENTOS_EVENT_STREAM_DRIVER(Clock, "clock", "1.0.0", "typo");
