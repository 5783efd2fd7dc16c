// new-driver's C++ drivers (bentos/driver.hpp), one per pattern: with
// their tests; see new_driver_templates.h. tests/sdk/check-new-driver.sh
// builds and tests each.
#include "new_driver_templates.h"

namespace bentos::ctl::templates {

namespace {

const DriverTemplate kTemplates[] = {
    {"p1", "cpp",
     R"TPL(// @NAME@.cpp - a pure-stream (P1) driver: every byte written comes back
// to the reader of the same open file. Replace on_data with your device.
#include <bentos/driver.hpp>

#include <string_view>

namespace {

class Device {
 public:
  // One per open file; the output queue the host keeps for it.
  struct session_type {
    explicit session_type(bentos::stream_output o) : out(o) {}
    bentos::stream_output out;
  };

  // Takes what it can: returning fewer bytes than given applies
  // backpressure, and the host calls on_writable when the queue has room.
  size_t on_data(session_type& s, std::string_view in) {
    return s.out.push(in) == bentos::push_result::ok ? in.size() : 0;
  }
  void on_writable(session_type&) {}
};

}  // namespace

BENTOS_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "echoes what is written");
)TPL",
     R"TPL(TEST_CASE("@NAME@: what a file is written its reads return") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hello").written == 5);
  CHECK(f.read().data == "hello");
  CHECK(f.read().eof());  // the output queue is empty: end of file (P1)
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: each open file has its own stream") {
  bt::host h(kPlugin);
  auto a = h.open(), b = h.open();
  CHECK(a.write("one").ok());
  CHECK(b.write("two").ok());
  CHECK(a.read().data == "one");
  CHECK(b.read().data == "two");
}
)TPL"},
    {"p2", "cpp",
     R"TPL(// @NAME@.cpp - a write-then-read (P2) driver: one request in, one
// response out. Replace on_request with your device.
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

namespace {

class Device {
 public:
  // Gets every write of the cycle, concatenated; runs on the loop thread.
  std::string on_request(std::string_view request) {
    ++requests_;
    return "request " + std::to_string(requests_) + ": " + std::string(request) + "\n";
  }

 private:
  unsigned long requests_ = 0;  // one count per device
};

}  // namespace

BENTOS_WRITE_READ_DRIVER(Device, "@NAME@", "0.1.0", "answers each request with its number");
)TPL",
     R"TPL(TEST_CASE("@NAME@ answers each request with its number") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hello").written == 5);
  CHECK(f.read().data == "request 1: hello\n");
  CHECK(f.read().eof());  // the response was read to its end
  CHECK(f.write("again").ok());
  CHECK(f.read().data == "request 2: again\n");
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: a read before any request is EAGAIN (the host's P2 rule)") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.read().error == EAGAIN);
}
)TPL"},
    {"p3", "cpp",
     R"TPL(// @NAME@.cpp - an event-stream (P3) driver: every open file receives the
// events emitted after it opened. Here a host timer emits a tick 100 ms
// after the first listener opens, then every second while anyone listens
// (the test reads the first one). Replace the timer with your event source.
#include <bentos/driver.hpp>

#include <string>

namespace {

class Device {
 public:
  // The timer's callback runs on the loop thread: keep every callback there.
  static constexpr bool loop_only = true;

  Device(const bentos::device_config&, bentos::host_handle host) : host_(host) {}

  // The first listener opened / the last one left.
  void on_activate() {
    ticks_ = bentos::timer(host_, 100, 1000, [this] { host_.emit("tick " + std::to_string(++count_) + "\n"); });
  }
  void on_deactivate() { ticks_.stop(); }

 private:
  bentos::host_handle host_;
  bentos::timer ticks_;
  unsigned long count_ = 0;
};

}  // namespace

BENTOS_EVENT_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "ticks every second while anyone listens");
)TPL",
     R"TPL(TEST_CASE("@NAME@ ticks 100 ms after the first listener opens, then every second") {
  bt::host h(kPlugin);  // the driver's timers run on the harness's manual clock
  auto f = h.open(O_RDONLY);
  auto first = f.start_read();  // no event yet: the read waits
  h.advance(99ms);
  CHECK_FALSE(first.ready());
  h.advance(1ms);
  CHECK(first.wait().data == "tick 1\n");
  h.advance(1000ms);
  CHECK(f.read().data == "tick 2\n");
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: a non-blocking read with no event is EAGAIN") {
  bt::host h(kPlugin);
  auto f = h.open(O_RDONLY | O_NONBLOCK);
  CHECK(f.read().error == EAGAIN);
}
)TPL"},
    {"p4", "cpp",
     R"TPL(// @NAME@.cpp - a configured-stream (P4) driver: configure with ioctls,
// write the input, read the output records. Here the input comes back as
// one record, upper-cased when ioctl 1 (_IOW(0, 1, int32), cmd 0x40040001)
// set the flag. Replace apply and process with your device.
#include <bentos/driver.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

struct Config {
  bool upper = false;
};

class Device {
 public:
  using config_type = Config;

  // A write-direction ioctl edits a copy of the session's config.
  bentos::apply_result apply(uint32_t cmd, std::string_view in, Config& config) {
    if ((cmd & 0xFF) != 1) return bentos::apply_result::not_mine;
    if (in.empty()) throw bentos::error::invalid_argument("ioctl 1 needs a byte");
    config.upper = in[0] != 0;
    return bentos::apply_result::recognised;
  }

  // One cycle: yield records (now or later, from any thread), then end.
  void process(const bentos::record_list& records, const Config& config, bentos::record_stream out) {
    std::string all;
    for (auto record : records) all += record;
    if (config.upper)
      for (char& c : all) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.yield(all);
    out.end();
  }
};

}  // namespace

BENTOS_CONFIGURED_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "returns its input, upper-cased on request");
)TPL",
     R"TPL(TEST_CASE("@NAME@ returns its input as one record, then end of file") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hello").written == 5);
  CHECK(f.read().data == "hello");
  CHECK(f.read().eof());
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@ upper-cases once ioctl 1 set the flag") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.ioctl(0x40040001, bt::payload::int32(1)).result == 0);  // _IOW(0, 1, int32)
  CHECK(f.write("hello").ok());
  CHECK(f.read().data == "HELLO");
  CHECK(f.read().eof());
}
)TPL"},
    {"raw", "cpp",
     R"TPL(// @NAME@.cpp - a raw (L1) driver: you answer each file operation. Here a
// read returns a greeting once per open file, then EOF, and a write takes
// every byte. Ops left out get the host's defaults (open, flush, release
// and fsync succeed; the rest answer ENOSYS).
#include <bentos/driver.hpp>

#include <cstdint>

namespace {

class Device {
 public:
  struct session_type {
    bool greeted = false;
  };
  void on_open(session_type&, const bentos::session_info&) {}
  // nullptr answers EOF.
  const char* on_read(session_type& s, const bentos::read_request&) {
    if (s.greeted) return nullptr;
    s.greeted = true;
    return "hello\n";
  }
  void on_write(const bentos::write_request& w, bentos::raw_call call) { call.count(w.data.size()); }
};

}  // namespace

BENTOS_RAW_DRIVER(Device, "@NAME@", "0.1.0", "greets each reader once");
)TPL",
     R"TPL(TEST_CASE("@NAME@ greets each open file once, then end of file") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.read().data == "hello\n");
  CHECK(f.read().eof());
  CHECK(f.write("hi").written == 2);
  auto g = h.open();
  CHECK(g.read(3).data == "hel");  // cut to the read's size
  CHECK(f.release().ok());
}
)TPL"},
};

}  // namespace

std::span<const DriverTemplate> cpp_templates() { return kTemplates; }

}  // namespace bentos::ctl::templates
