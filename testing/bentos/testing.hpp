// bentos/testing.hpp: test a driver in the test's own process, op by op.
//
// A bentos::testing::host loads one driver (a plugin .so, or a driver class
// compiled into the test binary itself) into the host's real device layer:
// the same Device, pattern drivers and state machines the daemon runs, fed
// through the same frame codec, on a libuv loop the harness owns and turns
// only while a test waits for something. No daemon, no socket file, no
// manifest on disk: each connection is one end of a socketpair(2) the
// device serves as if it had accepted it.
//
//   #include <bentos/testing.hpp>
//   bentos::testing::host h("./kv.so");      // or host h(&bentos_driver_entry_v1)
//   auto f = h.open();                        // O_RDWR
//   CHECK(f.write("set a 1").ok());
//   CHECK(f.read().data == "OK");
//
// Time: plugin timers (bentos_host_services.timer_start, bentos::timer)
// run on a manual clock that moves only in advance(); the request timeout
// (the manifest's request_timeout_ms) stays on real time.
//
// Plugin bugs the host detects (a call completed twice or after its
// connection went, a P4 end() twice, a yield after end, a wrong answer
// kind, a negative return that is not an errno, an exception thrown at the
// host) are logged by the host as warnings; the harness turns each into a
// bentos::testing::failure thrown from the next op, unless the test takes
// it with expect_plugin_error() first. One left at destruction aborts the
// run with the message (a destructor has no test case to fail).
//
// Thread: everything here belongs to the test's thread, which is the host's
// loop thread; the driver may complete calls from its own threads. A file
// or connection must not outlive its host. Link with pkg-config
// bentos-testing (docs/writing-a-driver.md, "Testing your driver").
#pragma once

#include <bentos/driver.h>
#include <fcntl.h>  // O_RDONLY, O_RDWR... for open()
#include <poll.h>   // POLLIN, POLLOUT... for poll()

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::testing {

namespace detail {
struct host_state;
struct connection_state;
}  // namespace detail

// What the harness throws: a plugin bug the host saw, an op that got no
// answer in time, a driver that did not load, a payload of the wrong size.
class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Payload helpers for ioctl input and output: fixed-size values are
// little-endian, as the example drivers and bentosctl read them.
namespace payload {
std::string int32(int32_t value);
std::string float64(double value);
// The text of `json` after checking it parses (throws failure otherwise).
std::string json(std::string_view json);
std::string text(std::string_view text);
}  // namespace payload

// One answer, as the wire carries it.
struct reply {
  enum class kind { error, empty, opened, data, written, ioctl, poll };
  kind what = kind::empty;
  int error = 0;         // a positive errno when what == error
  std::string data;      // read bytes (empty: end of file), ioctl output
  uint64_t written = 0;  // write: bytes taken
  int32_t result = 0;    // ioctl: its result
  uint32_t revents = 0;  // poll: POLLIN, POLLOUT...

  bool ok() const { return what != kind::error; }
  bool eof() const { return what == kind::data && data.empty(); }
  // `data` decoded; throws failure when it has not the value's size.
  int32_t as_int32() const;
  double as_float64() const;
  // One line for messages: "error EAGAIN (11)", "data 5 bytes \"hello\""...
  std::string describe() const;
};

// An op sent and not awaited yet (a read that may park, a call the driver
// completes later from a thread).
class pending {
 public:
  // Turns the loop once without waiting; true when the answer is there.
  bool ready();
  // Runs the loop until the answer came; throws failure after `timeout`.
  reply wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

 private:
  friend struct detail::connection_state;
  pending(std::shared_ptr<detail::connection_state> conn, uint64_t id, std::string what)
      : conn_(std::move(conn)), id_(id), what_(std::move(what)) {}
  std::shared_ptr<detail::connection_state> conn_;
  uint64_t id_;
  std::string what_;
};

// One open file handle on a connection (a copyable reference to it).
class file {
 public:
  uint64_t fh() const { return fh_; }
  // Each op waits for its answer up to `timeout` (default 2 s); start_*
  // sends it and returns at once.
  reply write(std::string_view bytes);
  reply read(uint64_t size = 4096);
  reply flush();
  reply fsync(bool datasync = false);
  reply ioctl(uint32_t cmd, std::string_view in = {}, uint64_t out_size = 4096);
  reply poll(uint32_t events);
  reply release();

  pending start_write(std::string_view bytes);
  pending start_read(uint64_t size = 4096);
  pending start_flush();
  pending start_fsync(bool datasync = false);
  pending start_ioctl(uint32_t cmd, std::string_view in = {}, uint64_t out_size = 4096);
  pending start_poll(uint32_t events);
  pending start_release();

 private:
  friend class connection;
  file(std::shared_ptr<detail::connection_state> conn, uint64_t fh) : conn_(std::move(conn)), fh_(fh) {}
  std::shared_ptr<detail::connection_state> conn_;
  uint64_t fh_;
};

// One client connection (what one process with the device open is to the
// host). Its files share it: disconnect() ends all their sessions at once.
class connection {
 public:
  // Opens a new fh; throws failure when the open is answered an error.
  file open(int flags = O_RDWR);
  // Opens and returns the answer as is (to test a refused open).
  reply try_open(int flags = O_RDWR);
  // Closes this end, as a client that exits: the host ends every session.
  void disconnect();
  // The host closed the connection (seen on the last turn).
  bool closed_by_host() const;

 private:
  friend class host;
  explicit connection(std::shared_ptr<detail::connection_state> conn) : conn_(std::move(conn)) {}
  std::shared_ptr<detail::connection_state> conn_;
};

struct options {
  // The device's "config" object, as the manifest would carry it.
  std::string config = "{}";
  // More manifest device fields, as a JSON object: "threads", "limits",
  // "read_when_empty"... ("name", "plugin" and "socket" are the harness's).
  std::string device = "{}";
  std::string name = "dut";
};

class host {
 public:
  // A plugin file, loaded as the daemon loads it (no trust check: the
  // file is the test's own build output).
  explicit host(const std::string& plugin_path, options opts = {});
  // A driver compiled into the test binary: pass its entry function, the
  // bentos_driver_entry_v1 that BENTOS_*_DRIVER(...) defines.
  explicit host(bentos_driver_entry_fn entry, options opts = {});
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  // A new connection (the host owns it; the reference lives as long).
  connection& connect();
  // open() on the first connection, made on first use.
  file open(int flags = O_RDWR);

  // Moves the manual clock forward: each plugin timer due within `span`
  // fires, in due order, and what it produced is delivered before the
  // next one fires.
  void advance(std::chrono::milliseconds span);
  // Milliseconds the manual clock has advanced since the host started.
  uint64_t now_ms() const;
  // Turns the loop until `done()` or `timeout` of real time passed (work
  // from the driver's own threads); returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  // Turns the loop until nothing is left to do right now.
  void settle();

  // Every line the host logged since it started ("warn: dut: ...").
  std::vector<std::string> logs() const;
  // The plugin bugs seen and not taken yet by expect_plugin_error().
  std::vector<std::string> plugin_errors() const;
  // Takes the first plugin error containing `text`; throws failure,
  // listing what there is, when none does.
  void expect_plugin_error(std::string_view text);

 private:
  friend class connection;
  friend class file;
  friend class pending;
  std::unique_ptr<detail::host_state> state_;
  connection* first_ = nullptr;  // one of connections_
  std::vector<std::unique_ptr<connection>> connections_;
};

}  // namespace bentos::testing
