// The plugin loader's refusals (architecture.md, "The C ABI"): a missing
// entry, another ABI major, a newer minor, a file that is not a shared
// object; and the same refusals reported by `bentos-driver-host --check`.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include <nlohmann/json.hpp>

#include "bentos/driver.h"
#include "daemon_runner.h"
#include "plugin/library.h"

using bentos::plugin::PluginLibrary;
using bentos::test::test_plugin_dir;

namespace {

std::string load_error(const std::string& path) {
  std::string error;
  auto lib = PluginLibrary::load(path, error);
  CHECK(lib == nullptr);
  return error;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a plugin built for another ABI major is refused, naming the file and both versions") {
  const std::string path = test_plugin_dir() + "/abi_wrong_major.so";
  const std::string error = load_error(path);
  CHECK(contains(error, path));
  CHECK(contains(error, "ABI 2.0"));
  CHECK(contains(error, "ABI " + std::to_string(BENTOS_ABI_MAJOR) + "." + std::to_string(BENTOS_ABI_MINOR)));
  CHECK(contains(error, "major"));
}

TEST_CASE("a plugin built for a newer ABI minor is refused, naming both versions") {
  const std::string path = test_plugin_dir() + "/abi_newer_minor.so";
  const std::string error = load_error(path);
  CHECK(contains(error, path));
  CHECK(contains(error, "ABI 1." + std::to_string(BENTOS_ABI_MINOR + 1)));
  CHECK(contains(error, "newer"));
}

TEST_CASE("a shared object without the entry function is refused with dlerror's text") {
  const std::string path = test_plugin_dir() + "/no_entry.so";
  const std::string error = load_error(path);
  CHECK(contains(error, path));
  CHECK(contains(error, BENTOS_DRIVER_ENTRY_SYMBOL));
  CHECK(contains(error, "undefined symbol"));  // dlerror()
}

TEST_CASE("a file that cannot be dlopen'd is refused with dlerror's text") {
  const std::string dir = bentos::test::make_temp_dir("bentos-loader");
  const std::string path = dir + "/not-a-plugin.so";
  bentos::test::write_text(path, "this is not an ELF file\n");
  const std::string error = load_error(path);
  CHECK(contains(error, path));
  CHECK(contains(error, "cannot load"));
  CHECK(contains(error, "file too short"));
  CHECK(contains(load_error(dir + "/missing.so"), "No such file"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("a good plugin loads; its descriptor and ops table are copied") {
  std::string error;
  auto lib = PluginLibrary::load(bentos::test::plugin_dir() + "/kv.so", error);
  REQUIRE_MESSAGE(lib, error);
  CHECK(lib->name() == "kv");
  CHECK(lib->pattern() == bentos::patterns::Pattern::write_read);
  CHECK(lib->descriptor().struct_size == sizeof(bentos_driver));
  CHECK(static_cast<bool>(lib->write_read_ops().on_request));
  CHECK(lib->write_read_ops().struct_size == sizeof(bentos_write_read_ops));
}

TEST_CASE("--check reports each refused plugin and exits 78 (EX_CONFIG); a good configuration exits 0") {
  const std::string dir = bentos::test::make_temp_dir("bentos-check");
  bentos::test::write_text(dir + "/bad.json", R"({"devices": [
    {"name": "major", "plugin": "abi_wrong_major.so"},
    {"name": "minor", "plugin": "abi_newer_minor.so"},
    {"name": "noentry", "plugin": "no_entry.so"},
    {"name": "kvbad", "plugin": "kv.so", "config": {"strcit": true}}
  ]})");
  std::string out;
  std::vector<std::string> dirs = {"--plugin-dir", bentos::test::plugin_dir(), "--plugin-dir", test_plugin_dir(),
                                   "--socket-dir", dir + "/run"};
  for (const auto& a : bentos::test::trust_args()) dirs.push_back(a);  // a group-writable checkout
  auto args = dirs;
  args.insert(args.end(), {"--config", dir + "/bad.json", "--check"});
  CHECK(bentos::test::run_daemon_once(args, out) == 78);
  CHECK(contains(out, "device 'major'"));
  CHECK(contains(out, "ABI 2.0"));
  CHECK(contains(out, "device 'minor'"));
  CHECK(contains(out, "device 'noentry'"));
  CHECK(contains(out, "device 'kvbad'"));
  CHECK(contains(out, "strcit"));  // the plugin's own message about its config

  bentos::test::write_text(dir + "/good.json", R"({"devices": [
    {"name": "hello", "plugin": "hello.so"}, {"name": "kv", "plugin": "kv"}]})");
  args = dirs;
  args.insert(args.end(), {"--config", dir + "/good.json", "--check"});
  CHECK(bentos::test::run_daemon_once(args, out) == 0);
  CHECK(contains(out, "configuration ok: 2 device(s)"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("the daemon refuses to start on a bad manifest, naming file, device and key") {
  const std::string dir = bentos::test::make_temp_dir("bentos-bad");
  bentos::test::write_text(dir + "/devices.json", R"({"devices": [
    {"name": "kv", "plugin": "kv.so", "limits": {"max_events": -3}}]})");
  std::string out;
  CHECK(bentos::test::run_daemon_once({"--config", dir + "/devices.json", "--plugin-dir", bentos::test::plugin_dir(),
                                       "--socket-dir", dir + "/run"},
                                      out) == 78);  // EX_CONFIG: systemd does not restart into it
  CHECK(contains(out, dir + "/devices.json"));
  CHECK(contains(out, "device 'kv'"));
  CHECK(contains(out, "limits.max_events"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("-t is --check; --check --dump prints the merged configuration with every default filled in") {
  const std::string dir = bentos::test::make_temp_dir("bentos-dump");
  bentos::test::write_text(dir + "/a.json", R"({"host": {"max_connections": 77}, "devices": [
    {"name": "kv", "plugin": "kv.so", "config": {"strict": true}}]})");
  bentos::test::write_text(dir + "/b.json", R"({"devices": [
    {"name": "echo", "plugin": "echo.so", "limits": {"max_buffered_bytes": 4096}},
    {"name": "ticker", "plugin": "ticker.so"}]})");
  std::vector<std::string> args = {"--plugin-dir", bentos::test::plugin_dir(), "--socket-dir", dir + "/run",
                                   "--config", dir + "/a.json", "--config", dir + "/b.json"};
  for (const auto& a : bentos::test::trust_args()) args.push_back(a);
  std::string out;
  auto check = args;
  check.push_back("-t");
  CHECK(bentos::test::run_daemon_once(check, out) == 0);
  CHECK(contains(out, "configuration ok: 3 device(s)"));
  auto dump = check;
  dump.push_back("--dump");
  CHECK(bentos::test::run_daemon_once(dump, out) == 0);
  // run_daemon_once mixes stderr in: the document runs from the first '{'
  // to the last '}'.
  const size_t first = out.find('{'), last = out.rfind('}');
  REQUIRE_MESSAGE(first < last, out);
  const auto doc = nlohmann::json::parse(out.substr(first, last - first + 1), nullptr, false);
  REQUIRE_MESSAGE(doc.is_object(), out);
  CHECK(doc["host"]["max_connections"] == 77);
  CHECK(doc["host"]["lifecycle_timeout_ms"] == 10000);
  REQUIRE(doc["devices"].size() == 3);
  const auto& kv = doc["devices"][0];
  CHECK(kv["name"] == "kv");
  CHECK(kv["pattern"] == "write_read");
  CHECK(kv["socket"] == "unix://" + dir + "/run/kv.sock");
  CHECK(kv["socket_mode"] == "0660");
  CHECK(kv["limits"]["max_frame_bytes"] == 16777216);
  CHECK(kv["limits"]["request_timeout_ms"] == 0);
  CHECK(kv["config"]["strict"] == true);
  CHECK(kv["from"] == dir + "/a.json");
  CHECK(doc["devices"][1]["read_when_empty"] == "eof");  // P1's default, resolved
  CHECK(doc["devices"][1]["limits"]["max_buffered_bytes"] == 4096);
  CHECK(doc["devices"][2]["read_when_empty"] == "block");  // P3's
  CHECK(doc["command_line"]["socket_dir"] == dir + "/run");
  CHECK(bentos::test::run_daemon_once({"--dump"}, out) == 2);  // --dump alone is a usage error
  CHECK(contains(out, "goes with --check"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("--version and --help answer without a configuration") {
  std::string out;
  CHECK(bentos::test::run_daemon_once({"--version"}, out) == 0);
  CHECK(contains(out, "bentos-driver-host"));
  CHECK(contains(out, "ABI " + std::to_string(BENTOS_ABI_MAJOR)));
  CHECK(bentos::test::run_daemon_once({"--help"}, out) == 0);
  CHECK(contains(out, "--config"));
  CHECK(contains(out, "--check"));
  CHECK(bentos::test::run_daemon_once({"--no-such-option"}, out) == 2);
  CHECK(contains(out, "--no-such-option"));
}
