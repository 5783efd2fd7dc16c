// The command line: defaults, each option in both forms, repeatable options,
// and the error for each kind of mistake.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/options.h"

using bentos::config::Options;
using bentos::config::ParseOutcome;
using bentos::log::Level;

namespace {

// Parses `args` as if given after the program name.
ParseOutcome parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"bentos-driver-host"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);  // like a real argv
  return bentos::config::parse_command_line(static_cast<int>(argv.size() - 1), argv.data(), "/etc",
                                            "/usr/lib/bentos/drivers");
}

Options parse_ok(std::initializer_list<const char*> args) {
  const ParseOutcome outcome = parse(args);
  REQUIRE_MESSAGE(outcome.error.empty(), outcome.error);
  return outcome.options;
}

using Paths = std::vector<std::string>;

}  // namespace

TEST_CASE("no arguments: every default") {
  const Options o = parse_ok({});
  CHECK(o.config_paths == Paths{"/etc/bentos/devices.json", "/etc/bentos/devices.d"});
  CHECK(o.config_is_default);
  CHECK(o.plugin_dirs == Paths{"/etc/bentos/drivers.d", "/usr/lib/bentos/drivers"});
  CHECK(o.socket_dir == "/run/bentos/drivers");
  CHECK(o.control_socket == "/run/bentos/driver-host.sock");
  CHECK(o.control_socket_is_default);
  CHECK_FALSE(o.allow_insecure_plugins);
  CHECK(o.log_level == Level::info);
  CHECK_FALSE(o.check);
  CHECK_FALSE(o.show_version);
  CHECK_FALSE(o.show_help);
}

TEST_CASE("the defaults follow sysconfdir and the packaged plugin dir") {
  const char* argv[] = {"prog", nullptr};
  const ParseOutcome o = bentos::config::parse_command_line(1, argv, "/usr/local/etc/", "");
  REQUIRE(o.error.empty());
  CHECK(o.options.config_paths == Paths{"/usr/local/etc/bentos/devices.json", "/usr/local/etc/bentos/devices.d"});
  CHECK(o.options.plugin_dirs == Paths{"/usr/local/etc/bentos/drivers.d"});  // an empty packaged dir is left out
}

TEST_CASE("--config is repeatable and replaces the defaults") {
  const Options one = parse_ok({"--config", "a.json"});
  CHECK(one.config_paths == Paths{"a.json"});
  CHECK_FALSE(one.config_is_default);
  const Options many = parse_ok({"--config", "a.json", "--config=dir.d", "--config", "/abs/b.json"});
  CHECK(many.config_paths == Paths{"a.json", "dir.d", "/abs/b.json"});
  CHECK_FALSE(many.config_is_default);
}

TEST_CASE("--plugin-dir is repeatable and searched before the defaults") {
  const Options o = parse_ok({"--plugin-dir", "/a", "--plugin-dir=/b"});
  CHECK(o.plugin_dirs == Paths{"/a", "/b", "/etc/bentos/drivers.d", "/usr/lib/bentos/drivers"});
}

TEST_CASE("--socket-dir: absolute as given, relative made absolute, trailing '/' dropped, last wins") {
  CHECK(parse_ok({"--socket-dir", "/tmp/s"}).socket_dir == "/tmp/s");
  CHECK(parse_ok({"--socket-dir=/tmp/s/"}).socket_dir == "/tmp/s");
  CHECK(parse_ok({"--socket-dir", "/tmp//x/../s"}).socket_dir == "/tmp/s");
  CHECK(parse_ok({"--socket-dir", "/"}).socket_dir == "/");
  CHECK(parse_ok({"--socket-dir", "/a", "--socket-dir", "/b"}).socket_dir == "/b");
  const std::string cwd = std::filesystem::current_path().string();
  CHECK(parse_ok({"--socket-dir", "run/s"}).socket_dir == cwd + "/run/s");
  CHECK(parse_ok({"--socket-dir", "."}).socket_dir == cwd);
}

TEST_CASE("--control-socket, --log-level and the flags") {
  CHECK(parse_ok({"--control-socket", "/run/bentos/control.sock"}).control_socket == "/run/bentos/control.sock");
  CHECK(parse_ok({"--control-socket=tcp://127.0.0.1:0"}).control_socket == "tcp://127.0.0.1:0");
  CHECK_FALSE(parse_ok({"--control-socket", "/x.sock"}).control_socket_is_default);
  const Options disabled = parse_ok({"--control-socket", "none"});
  CHECK(disabled.control_socket.empty());
  CHECK_FALSE(disabled.control_socket_is_default);
  CHECK(parse_ok({"--allow-insecure-plugins"}).allow_insecure_plugins);
  const std::pair<const char*, Level> levels[] = {
      {"error", Level::error}, {"warn", Level::warn}, {"info", Level::info}, {"debug", Level::debug}};
  for (const auto& entry : levels) {  // not a structured binding: INFO captures it
    const char* text = entry.first;
    INFO(text);
    CHECK(parse_ok({"--log-level", text}).log_level == entry.second);
    const std::string joined = std::string("--log-level=") + text;
    CHECK(parse_ok({joined.c_str()}).log_level == entry.second);
  }
  CHECK(parse_ok({"--check"}).check);
  CHECK(parse_ok({"--version"}).show_version);
  CHECK(parse_ok({"--help"}).show_help);
  CHECK(parse_ok({"-h"}).show_help);
  const Options all = parse_ok({"--check", "--log-level", "debug", "--config", "x", "--version"});
  CHECK(all.check);
  CHECK(all.show_version);
  CHECK(all.log_level == Level::debug);
}

TEST_CASE("a value may contain '=' and, attached, may start with '-'") {
  CHECK(parse_ok({"--config", "a=b.json"}).config_paths == Paths{"a=b.json"});
  CHECK(parse_ok({"--config=a=b.json"}).config_paths == Paths{"a=b.json"});
  CHECK(parse_ok({"--config=-odd.json"}).config_paths == Paths{"-odd.json"});
}

TEST_CASE("mistakes: each gives its own message") {
  struct Case {
    std::vector<const char*> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"--confg", "x"}, "unknown option '--confg'; did you mean '--config'?"},
      {{"--plugin_dir=x"}, "unknown option '--plugin_dir'; did you mean '--plugin-dir'?"},
      {{"--chek"}, "unknown option '--chek'; did you mean '--check'?"},
      {{"-x"}, "unknown option '-x'"},
      {{"-hv"}, "unknown option '-hv'"},
      {{"--config"}, "option '--config' needs a value (PATH), found the end of the command line; "
                     "write --config=VALUE for a value that starts with '-'"},
      {{"--config", "--check"}, "option '--config' needs a value (PATH), found '--check'; "
                                "write --config=VALUE for a value that starts with '-'"},
      {{"--plugin-dir", "-"}, "option '--plugin-dir' needs a value (DIR), found '-'; "
                              "write --plugin-dir=VALUE for a value that starts with '-'"},
      {{"--config="}, "option '--config' needs a non-empty value (PATH)"},
      {{"--socket-dir", ""}, "option '--socket-dir' needs a non-empty value (DIR)"},
      {{"--log-level", "loud"}, "option '--log-level': expected error, warn, info or debug, found 'loud'"},
      {{"--log-level=INFO"}, "option '--log-level': expected error, warn, info or debug, found 'INFO'"},
      {{"--check=yes"}, "option '--check' takes no value, found '--check=yes'"},
      {{"--help="}, "option '--help' takes no value, found '--help='"},
      {{"devices.json"}, "unexpected argument 'devices.json': this program takes options only"},
      {{"--check", "extra"}, "unexpected argument 'extra': this program takes options only"},
      {{"--", "--check"}, "unexpected argument '--check': this program takes options only"},
      {{"-"}, "unexpected argument '-': this program takes options only"},
      {{"--bogus", "--also-bogus"}, "unknown option '--bogus'"},  // the first mistake is reported
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const char* a : c.args) shown += std::string(a) + " ";
    INFO(shown);
    std::vector<const char*> argv = {"prog"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.push_back(nullptr);
    const ParseOutcome outcome =
        bentos::config::parse_command_line(static_cast<int>(argv.size() - 1), argv.data(), "/etc", "/lib/d");
    CHECK(outcome.error == c.error);
  }
}

TEST_CASE("a lone '--' ends the options") {
  CHECK(parse_ok({"--check", "--"}).check);
}

TEST_CASE("usage text lists every option, its default, and examples") {
  const std::string text = bentos::config::usage_text("bentos-driver-host", "/etc", "/usr/lib/bentos/drivers");
  for (const char* needle :
       {"Usage: bentos-driver-host [OPTION]...", "--config PATH", "--plugin-dir DIR", "--socket-dir DIR",
        "--control-socket PATH", "--log-level LEVEL", "--check", "--allow-insecure-plugins", "--dev", "--version", "-h, --help",
        "/etc/bentos/devices.json", "/etc/bentos/devices.d", "/etc/bentos/drivers.d", "/usr/lib/bentos/drivers",
        "/run/bentos/drivers", "default: info", "/run/bentos/driver-host.sock", "Examples:", "bentos-driver-host --check\n",
        "--config=PATH", "status 2"}) {
    INFO(needle);
    CHECK(text.find(needle) != std::string::npos);
  }
  for (size_t start = 0; start < text.size();) {  // fits an 80-column terminal
    const size_t end = text.find('\n', start);
    INFO(text.substr(start, end - start));
    CHECK(end - start <= 80);
    start = end + 1;
  }
  // The one-argument form still works, with placeholder defaults.
  CHECK(bentos::config::usage_text("x").find("<libdir>/bentos/drivers") != std::string::npos);
}

TEST_CASE("--dev: everything under the current directory, nothing of the system's") {
  const std::string cwd = std::filesystem::current_path().string();
  const Options o = parse_ok({"--dev"});
  CHECK(o.dev);
  CHECK(o.config_paths == Paths{cwd + "/devices.json"});
  CHECK_FALSE(o.config_is_default);  // a missing ./devices.json is an error
  CHECK(o.socket_dir == cwd + "/run");
  CHECK(o.control_socket == cwd + "/run/control.sock");
  CHECK_FALSE(o.control_socket_is_default);
  CHECK(o.log_level == Level::debug);
  CHECK(o.allow_insecure_plugins);
  CHECK(o.plugin_dirs == Paths{cwd, "/etc/bentos/drivers.d", "/usr/lib/bentos/drivers"});
  for (const auto& path : o.config_paths) CHECK(path.find("/etc/") == std::string::npos);

  SUBCASE("options given win over what --dev implies") {
    const Options given = parse_ok({"--log-level", "warn", "--dev", "--config", "/x/m.json", "--socket-dir", "/s",
                                    "--control-socket", "none", "--plugin-dir", "/p"});
    CHECK(given.log_level == Level::warn);
    CHECK(given.config_paths == Paths{"/x/m.json"});
    CHECK(given.socket_dir == "/s");
    CHECK(given.control_socket.empty());
    CHECK(given.plugin_dirs == Paths{"/p", cwd, "/etc/bentos/drivers.d", "/usr/lib/bentos/drivers"});
  }
}

TEST_CASE("ready_line: the control socket shown relative to the current directory") {
  using bentos::config::ready_line;
  CHECK(ready_line(1, "/home/u/p/run/control.sock", "/home/u/p") == "ready: 1 device(s), control ./run/control.sock");
  CHECK(ready_line(3, "/tmp/c.sock", "/home/u/p") == "ready: 3 device(s), control /tmp/c.sock");
  CHECK(ready_line(0, "", "/home/u/p") == "ready: 0 device(s), no control socket");
}
