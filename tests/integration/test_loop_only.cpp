// A driver pinned to the loop thread (BENTOS_THREADING_LOOP_ONLY in its
// descriptor, `loop_only = true` in C++) refuses worker threads: --check,
// startup and reload each reject a manifest entry asking for them, naming
// the device; without them the device serves.
#include <doctest/doctest.h>

#include <signal.h>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs the daemon once on a manifest of `devices` (a JSON array) with
// `extra` arguments; its exit status, and its output in `out`.
int run_on(const std::string& devices, std::vector<std::string> extra, std::string& out) {
  const std::string dir = bentos::test::make_temp_dir("bentos-loop-only");
  bentos::test::write_text(dir + "/devices.json", "{\"devices\": " + devices + "}\n");
  std::vector<std::string> args = {"--config", dir + "/devices.json", "--plugin-dir", bentos::test::plugin_dir(),
                                   "--plugin-dir", bentos::test::test_plugin_dir(), "--socket-dir", dir + "/run",
                                   "--control-socket", dir + "/control.sock"};
  for (const auto& a : bentos::test::trust_args()) args.push_back(a);
  args.insert(args.end(), extra.begin(), extra.end());
  const int rc = bentos::test::run_daemon_once(args, out);
  bentos::test::remove_tree(dir);
  return rc;
}

}  // namespace

TEST_CASE("--check refuses workers for a loop-only driver, naming the device, and exits 78") {
  std::string out;
  CHECK(run_on(R"([{"name": "pinned", "plugin": "loop_only.so", "threads": 2}])", {"--check"}, out) == 78);
  CHECK_MESSAGE(contains(out, "device 'pinned'"), out);
  CHECK_MESSAGE(contains(out, "must run on the loop thread"), out);
  CHECK_MESSAGE(contains(out, "\"threads\": 2"), out);

  CHECK(run_on(R"([{"name": "pinned", "plugin": "loop_only.so", "executor": "worker"}])", {"--check"}, out) == 78);
  CHECK_MESSAGE(contains(out, "device 'pinned'"), out);
  CHECK_MESSAGE(contains(out, "\"executor\": \"worker\""), out);

  // The C++ layer's `loop_only = true` (the ticker example) says the same.
  CHECK(run_on(R"([{"name": "clock", "plugin": "ticker.so", "threads": 1}])", {"--check"}, out) == 78);
  CHECK_MESSAGE(contains(out, "device 'clock'"), out);
  CHECK_MESSAGE(contains(out, "driver 'ticker'"), out);

  // Without workers, and for a driver that is not pinned, all is well.
  CHECK(run_on(R"([{"name": "pinned", "plugin": "loop_only.so"}, {"name": "kv", "plugin": "kv.so", "threads": 2}])",
               {"--check"}, out) == 0);
  CHECK_MESSAGE(contains(out, "configuration ok: 2 device(s)"), out);
}

TEST_CASE("the daemon does not start a loop-only driver on workers, and says which device") {
  std::string out;
  // Its only device refused, the host does not start at all.
  CHECK(run_on(R"([{"name": "pinned", "plugin": "loop_only.so", "threads": 2}])", {}, out) == 1);
  CHECK_MESSAGE(contains(out, "device 'pinned'"), out);
  CHECK_MESSAGE(contains(out, "must run on the loop thread"), out);
}

TEST_CASE("a loop-only driver serves without workers, and a reload asking for them is refused") {
  DaemonRunner d(R"([{"name": "pinned", "plugin": "loop_only.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("pinned");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "data:loop\n");

  bentos::test::write_text(d.dir() + "/devices.json",
                           R"({"devices": [{"name": "pinned", "plugin": "loop_only.so", "threads": 2}]})");
  REQUIRE(d.signal(SIGHUP));
  CHECK(d.wait_for_log("must run on the loop thread"));
  CHECK_MESSAGE(contains(d.log(), "device 'pinned'"), d.log());
}
