// The host-wide max_connections limit (behavior.md §1 limits): a connection
// beyond it is closed at once and logged; others are unaffected.
#include <doctest/doctest.h>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

// A connection the host admitted. The runner's own readiness probes may
// still count for a moment after they closed, so retry until one is served.
std::unique_ptr<bentos::client::Connection> admitted(const DaemonRunner& d, const std::string& device) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto c = d.connect(device);
    if (c && outcome(c->open(99, 2, 500)) == "opened") {
      if (outcome(c->release(99)) == "ok") return c;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("max_connections: the connection over the limit is closed at once; a freed slot is reusable") {
  // The limit counts every device's connections together.
  const std::string dir = bentos::test::make_temp_dir("bentos-maxconn");
  bentos::test::write_text(dir + "/host.json", R"({"host": {"max_connections": 2}, "devices": []})");
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])",
                 {"--config", dir + "/host.json"});
  REQUIRE(d.ready());
  auto a = admitted(d, "kv");
  auto b = admitted(d, "hello");
  REQUIRE((a && b));
  CHECK(outcome(a->open(1, 2)) == "opened");
  CHECK(outcome(b->open(1, 2)) == "opened");
  auto c = d.connect("kv");
  REQUIRE(c);  // the kernel accepts; the host closes it at once
  CHECK(c->wait_closed(3000));
  CHECK(d.wait_for_log("max_connections 2"));
  // The two admitted connections still work.
  CHECK(outcome(a->write(1, "k=v")) == "wrote 3");
  CHECK(outcome(a->read(1, 100)) == "data:OK\n");
  CHECK(outcome(b->read(1, 100)) == "data:Hello from BentOS!\n");
  // Closing one frees its slot.
  b.reset();
  CHECK(admitted(d, "hello") != nullptr);
  bentos::test::remove_tree(dir);
}
