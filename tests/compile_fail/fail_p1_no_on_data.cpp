// A stream driver without on_data.
// expect: the driver class has no on_data: BENTOS_STREAM_DRIVER accepts:
#include <bentos/driver.hpp>

struct Echo {
  void on_writable() {}
};

BENTOS_STREAM_DRIVER(Echo, "echo", "1.0.0", "no on_data");
