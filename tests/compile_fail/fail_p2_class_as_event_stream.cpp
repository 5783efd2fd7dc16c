// A write-read (P2) class given to the event-stream macro built a device
// that did nothing.
// expect: on_request is a hook of P2 (BENTOS_WRITE_READ_DRIVER), not of BENTOS_EVENT_STREAM_DRIVER
// expect: BENTOS_EVENT_STREAM_DRIVER accepts: void on_activate(); void on_deactivate()
// max-errors: 2
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

struct Kv {
  std::string on_request(std::string_view request) { return std::string(request); }
};

BENTOS_EVENT_STREAM_DRIVER(Kv, "kv", "1.0.0", "wrong macro");
