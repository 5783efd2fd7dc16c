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

// `bentosctl COMMAND --json` against the runner's control socket; the
// answer, and the exit status in `status`.
nlohmann::json control(const DaemonRunner& d, const std::string& command, int* status = nullptr) {
  std::string out;
  const int rc = run_program({bentosctl_path(), command, "--control-socket", d.control_socket(), "--json"}, out);
  if (status) *status = rc;
  // The answer is the first line; an error also goes to stderr after it.
  return nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, false);
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
  int rc = -1;
  const auto report = control(d, "reload", &rc);
  REQUIRE(report.is_object());
  CHECK(rc == 0);
  CHECK(report["ok"] == true);
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
  CHECK(control(d, "status")["devices"] == 3);
  CHECK(control(d, "list")["devices"].size() == 3);
}

TEST_CASE("reload with a broken manifest changes nothing and says so") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])", {"--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  write_manifest(d, R"([{"name": "kv", "plugin": "kv.so", "limits": {"max_evnts": 3}}])");
  int rc = -1;
  const auto report = control(d, "reload", &rc);
  REQUIRE(report.is_object());
  CHECK(rc == 1);
  CHECK(report["ok"] == false);
  const std::string error = report["error"];
  CHECK_MESSAGE(error.find("nothing changed") != std::string::npos, error);
  CHECK_MESSAGE(error.find("max_evnts") != std::string::npos, error);  // the manifest's own error
  REQUIRE(report["errors"].size() == 1);
  CHECK(report["errors"][0].get<std::string>().find("max_evnts") != std::string::npos);
  CHECK(report["added"].empty());
  CHECK(report["removed"].empty());
  CHECK(report["rejected"] == true);
  CHECK(d.wait_for_log("max_evnts"));
  // Without --json: the error on stderr, exit 1.
  std::string out;
  CHECK(run_program({bentosctl_path(), "reload", "--control-socket", d.control_socket()}, out) == 1);
  CHECK_MESSAGE(out.find("bentosctl: reload: the manifests have errors; nothing changed") != std::string::npos, out);
  // Plainly, not a table of empty columns ending in "unchanged -".
  CHECK_MESSAGE(out.find("reload rejected: the manifests have errors; nothing changed, every device keeps serving "
                         "its old configuration") != std::string::npos,
                out);
  CHECK_MESSAGE(out.find("unchanged") == std::string::npos, out);
  auto kv = d.connect("kv");
  REQUIRE(kv);
  CHECK(outcome(kv->open(1, 2)) == "opened");
}

TEST_CASE("bentosctl reload prints what changed") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])",
                 {"--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  write_manifest(d, R"([{"name": "kv", "plugin": "kv.so"}, {"name": "echo", "plugin": "echo.so"}])");
  std::string out;
  REQUIRE(run_program({bentosctl_path(), "reload", "--control-socket", d.control_socket()}, out) == 0);
  CHECK_MESSAGE(out ==
                    "added      echo\n"
                    "removed    hello\n"
                    "restarted  -\n"
                    "unchanged  kv\n",
                out);
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
