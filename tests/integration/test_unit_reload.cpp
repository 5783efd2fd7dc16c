// `systemctl reload` as the units run it: the ExecReload= command line is
// read from the unit files the build configures (the ones installed), its
// program mapped to the build tree's bentosctl and its control socket to
// the test daemon's, and nothing else changed. It must wait for the
// reload, exit 0 when the manifests were applied, and exit 1 with the
// daemon's reason when they were rejected, the devices still serving.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::bentosctl_path;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using bentos::test::run_program;

namespace {

// The words of the unit's `KEY=` line ("" when absent), systemd's exec
// prefixes (-@:+!) stripped; a unit line with quotes fails the test, since
// a plain split would not be how systemd reads it.
std::vector<std::string> unit_command(const std::string& unit_file, const std::string& key, const std::string& instance) {
  std::ifstream in(unit_file);
  REQUIRE_MESSAGE(in, "cannot read " << unit_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::string command = line.substr(key.size() + 1);
    REQUIRE_MESSAGE(command.find_first_of("\"'\\$") == std::string::npos, "quoting or variables in " << line);
    for (size_t at; (at = command.find("%i")) != std::string::npos;) command.replace(at, 2, instance);
    while (!command.empty() && std::string("-@:+!").find(command[0]) != std::string::npos) command.erase(0, 1);
    std::istringstream words(command);
    std::vector<std::string> argv;
    for (std::string w; words >> w;) argv.push_back(w);
    return argv;
  }
  return {};
}

std::string option_value(const std::vector<std::string>& argv, const std::string& option) {
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == option) return argv[i + 1];
  return "";
}

// ExecReload= from `unit`, pointed at this build and at `control_socket`.
std::vector<std::string> reload_command(const std::string& unit, const std::string& control_socket) {
  const std::string file = bentos::test::build_dir() + "/packaging/" + unit;
  const std::string instance = "check";
  const auto start = unit_command(file, "ExecStart", instance);
  auto reload = unit_command(file, "ExecReload", instance);
  REQUIRE_MESSAGE(!reload.empty(), unit << " has no ExecReload=");
  // The installed bentosctl, asking the control socket ExecStart= serves.
  CHECK(reload[0].front() == '/');
  CHECK(reload[0].substr(reload[0].rfind('/') + 1) == "bentosctl");
  const std::string socket = option_value(start, "--control-socket");
  REQUIRE(!socket.empty());
  CHECK_MESSAGE(option_value(reload, "--control-socket") == socket, unit << ": ExecReload= and ExecStart= name different control sockets");
  reload[0] = bentosctl_path();
  for (auto& word : reload)
    if (word == socket) word = control_socket;
  return reload;
}

void write_manifest(const DaemonRunner& d, const std::string& devices) {
  bentos::test::write_text(d.dir() + "/devices.json", "{\"devices\": " + devices + "}\n");
}

bool serves(const DaemonRunner& d, const std::string& device) {
  auto c = d.connect(device);
  return c && outcome(c->open(1, 2)) == "opened";
}

}  // namespace

TEST_CASE("ExecReload= waits for the reload and fails with the daemon's reason when it is rejected") {
  for (const std::string unit : {"bentos-driver-host.service", "bentos-driver-host@.service"}) {
    CAPTURE(unit);
    DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])", {"--control-socket", "@DIR@/control.sock"});
    REQUIRE(d.ready());
    const auto command = reload_command(unit, d.control_socket());
    std::string output;

    // Applied: exit 0 once the new device serves (the answer comes when
    // the reload is done, so no waiting here).
    write_manifest(d, R"([{"name": "kv", "plugin": "kv.so"}, {"name": "echo", "plugin": "echo.so"}])");
    CHECK_MESSAGE(run_program(command, output) == 0, output);
    CHECK_MESSAGE(output.find("echo") != std::string::npos, output);
    CHECK(serves(d, "echo"));

    // Rejected: exit 1, the reason printed, nothing changed.
    write_manifest(d, R"([{"name": "kv", "plugin": "kv.so"}, {"name": "echo", "plugin": "no-such-plugin.so"}])");
    CHECK_MESSAGE(run_program(command, output) == 1, output);
    CHECK_MESSAGE(output.find("reload rejected") != std::string::npos, output);
    CHECK_MESSAGE(output.find("no-such-plugin.so") != std::string::npos, output);
    CHECK(serves(d, "kv"));
    CHECK(serves(d, "echo"));

    // No daemon to ask: exit 2.
    REQUIRE(d.stop() == 0);
    CHECK_MESSAGE(run_program(command, output) == 2, output);
  }
}
