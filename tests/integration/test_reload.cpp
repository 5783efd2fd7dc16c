// Reloading the manifests (SIGHUP, or `reload` on the control socket): new
// devices start, removed ones stop, changed ones restart, unchanged ones
// keep their sessions; a broken configuration changes nothing.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::bentosctl_path;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using bentos::test::run_program;

namespace {

void write_manifest(const DaemonRunner& d, const std::string& devices) {
  bentos::test::write_text(d.dir() + "/devices.json", "{\"devices\": " + devices + "}\n");
}

nlohmann::json control(const DaemonRunner& d, const std::string& command) {
  std::string out;
  run_program({bentosctl_path(), "host", d.control_socket(), command, "--json"}, out);
  return nlohmann::json::parse(out, nullptr, false);
}

}  // namespace

TEST_CASE("reload through the control socket: added, removed, restarted, unchanged") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"},
                     {"name": "echo", "plugin": "echo.so"}])",
                 {"--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
  CHECK(outcome(kv->write(1, "k=v")) == "wrote 3");
  CHECK(outcome(kv->read(1, 100)) == "data:OK\n");

  // kv unchanged, hello removed, echo changed (a limit), ticker added.
  write_manifest(d, R"([{"name": "kv", "plugin": "kv.so"},
                        {"name": "echo", "plugin": "echo.so", "limits": {"max_buffered_bytes": 4096}},
                        {"name": "ticker", "plugin": "ticker.so"}])");
  const auto report = control(d, "reload");
  REQUIRE(report.is_object());
  CHECK(report["unchanged"] == nlohmann::json::array({"kv"}));
  CHECK(report["removed"] == nlohmann::json::array({"hello"}));
  CHECK(report["restarted"] == nlohmann::json::array({"echo"}));
  CHECK(report["added"] == nlohmann::json::array({"ticker"}));
  CHECK(report["errors"].empty());

  // The unchanged device kept its session (and its store).
  CHECK(outcome(kv->write(1, "k")) == "wrote 1");
  CHECK(outcome(kv->read(1, 100)) == "data:v\n");
  CHECK_FALSE(std::filesystem::exists(d.socket("hello")));
  auto ticker = d.connect("ticker");
  REQUIRE(ticker);
  CHECK(outcome(ticker->open(1, 0x800)) == "opened");
  auto echo = d.connect("echo");
  REQUIRE(echo);
  CHECK(outcome(echo->open(1, 2)) == "opened");
  const auto status = control(d, "status");
  CHECK(status["devices"].size() == 3);
}

TEST_CASE("reload with a broken manifest changes nothing and says so") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])", {"--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  write_manifest(d, R"([{"name": "kv", "plugin": "kv.so", "limits": {"max_evnts": 3}}])");
  const auto report = control(d, "reload");
  REQUIRE(report.is_object());
  CHECK_FALSE(report["errors"].empty());
  CHECK(d.wait_for_log("max_evnts"));
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
}

TEST_CASE("SIGHUP reloads the manifests") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])");
  REQUIRE(d.ready());
  write_manifest(d, R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])");
  REQUIRE(d.signal(SIGHUP));
  CHECK(d.wait_for_log("reload: added hello"));
  auto hello = d.connect("hello");
  REQUIRE(hello);
  CHECK(outcome(hello->open(1, 0)) == "opened");
  CHECK(outcome(hello->read(1, 100)) == "data:Hello from BentOS!\n");
}

namespace {

// Puts `from` at `to` the way `install` or a package upgrade does: a new
// file renamed over the old one, so the old inode stays intact for the
// copy the host has mapped.
void install_plugin(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::copy_file(from, to + ".new", fs::copy_options::overwrite_existing);
  fs::rename(to + ".new", to);
}

}  // namespace

TEST_CASE("reload runs the new code of a replaced plugin file, even one dlclose cannot unmap") {
  for (const char* build : {"", "_nodelete"}) {
    CAPTURE(build);
    const std::string dir = bentos::test::make_temp_dir("bentos-reload");
    std::filesystem::create_directory(dir + "/plugins");
    const std::string plugin = dir + "/plugins/greeter.so";
    install_plugin(bentos::test::test_plugin_dir() + "/greeter_a" + build + ".so", plugin);
    {
      // The plugin lives under the temporary directory, which the trust
      // checks would refuse (/tmp is writable by all).
      DaemonRunner d(R"([{"name": "greeter", "plugin": "greeter"}, {"name": "kv", "plugin": "kv.so"}])",
                     {"--plugin-dir", "@DIR@/plugins", "--allow-insecure-plugins"}, dir);
      REQUIRE(d.ready());
      auto kv = d.connect("kv");
      REQUIRE(kv);
      CHECK(outcome(kv->open(1, 2)) == "opened");
      {
        auto greeter = d.connect("greeter");
        REQUIRE(greeter);
        CHECK(outcome(greeter->open(1, 0)) == "opened");
        CHECK(outcome(greeter->read(1, 10)) == "data:A");
      }

      install_plugin(bentos::test::test_plugin_dir() + "/greeter_b" + build + ".so", plugin);
      REQUIRE(d.signal(SIGHUP));
      CHECK(d.wait_for_log("restarted greeter; unchanged kv"));
      auto greeter = d.connect("greeter");
      REQUIRE(greeter);
      CHECK(outcome(greeter->open(1, 0)) == "opened");
      CHECK(outcome(greeter->read(1, 10)) == "data:B");
      CHECK(outcome(kv->write(1, "k=v")) == "wrote 3");  // the unchanged device kept its session

      // Nothing replaced: a second reload leaves both alone.
      REQUIRE(d.signal(SIGHUP));
      CHECK(d.wait_for_log("restarted none; unchanged kv, greeter"));
    }
    bentos::test::remove_tree(dir);
  }
}
