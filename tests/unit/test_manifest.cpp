// Manifest text: every field of a good device and its defaults, a table of
// bad manifests with the exact message each must produce, JSON syntax errors
// with line and column, duplicate keys, comments and did-you-mean.
// Files, directories and plugin lookup are in test_manifest_files.cpp.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "config/suggest.h"

using bentos::config::DeviceSpec;
using bentos::config::LoadResult;
using bentos::config::parse_manifest;
using bentos::config::ReadWhenEmpty;

namespace {

const std::string kFile = "m.json";
const std::string kSocketDir = "/run/bentos/drivers";

LoadResult parse(const std::string& text) { return parse_manifest(text, kFile, kSocketDir); }

// A manifest with one device whose members are `members` (without braces).
std::string one_device(const std::string& members) { return R"({"devices": [{)" + members + "}]}"; }

// A valid device named kv with `extra` members appended.
std::string kv_with(const std::string& extra) {
  return one_device(R"("name": "kv", "plugin": "kv.so", )" + extra);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

const std::string kNameRule =
    "a name of at most 64 characters matching [a-z0-9][a-z0-9._-]* "
    "(several such segments may be joined by '/')";

}  // namespace

TEST_CASE("a minimal device gets every default") {
  const LoadResult r = parse(one_device(R"("name": "echo", "plugin": "echo")"));
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  REQUIRE(r.devices.size() == 1);
  const DeviceSpec& d = r.devices[0];
  CHECK(d.name == "echo");
  CHECK(d.plugin == "echo");
  CHECK(d.socket == "unix:///run/bentos/drivers/echo.sock");
  CHECK(d.device_path == "");
  CHECK(d.config_json == "null");
  CHECK(d.socket_mode == std::optional<uint32_t>(0660));  // owner and group may connect
  CHECK_FALSE(d.socket_group.has_value());
  CHECK(d.allowed_uids.empty());
  CHECK(d.allowed_gids.empty());
  CHECK(d.read_when_empty == ReadWhenEmpty::pattern_default);
  CHECK(d.limits.max_frame_bytes == 16ull << 20);
  CHECK(d.limits.max_request_bytes == 8ull << 20);
  CHECK(d.limits.max_buffered_bytes == 8ull << 20);
  CHECK(d.limits.max_events == 256);
  CHECK(d.limits.max_sessions == 262144);
  CHECK(d.limits.request_timeout_ms == 0);
  CHECK(d.threads == 0);
  CHECK(d.executor == "loop");
  CHECK(d.source_file == kFile);
}

TEST_CASE("every field of a full device is parsed") {
  const std::string text = R"({
    "$comment": "documentation is allowed at the top",
    "devices": [{
      "_comment": "and in a device",
      "name": "kv",
      "plugin": "/opt/drivers/kv.so",
      "socket": "/tmp/kv.sock",
      "device_path": "/dev/bentos/kv",
      "config": {"zeta": 1, "alpha": [true, null, "x"]},
      "socket_mode": "0660",
      "socket_group": "bentos",
      "allowed_uids": [0, 1000, 4294967294],
      "allowed_gids": [],
      "read_when_empty": "block",
      "limits": {
        "$note": "and in limits",
        "max_frame_bytes": 64,
        "max_request_bytes": 1073741824,
        "max_buffered_bytes": 4096,
        "max_events": 1,
        "max_sessions": 16777216,
        "request_timeout_ms": 86400000
      },
      "threads": 64,
      "executor": "worker"
    }]
  })";
  const LoadResult r = parse(text);
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  REQUIRE(r.devices.size() == 1);
  const DeviceSpec& d = r.devices[0];
  CHECK(d.name == "kv");
  CHECK(d.plugin == "/opt/drivers/kv.so");
  CHECK(d.socket == "unix:///tmp/kv.sock");  // a bare path is normalised to a URI
  CHECK(d.device_path == "/dev/bentos/kv");
  CHECK(d.config_json == R"({"zeta":1,"alpha":[true,null,"x"]})");  // file order kept
  REQUIRE(d.socket_mode.has_value());
  CHECK(*d.socket_mode == 0660);
  CHECK(d.socket_group == std::optional<std::string>("bentos"));
  CHECK(d.allowed_uids == std::vector<uint32_t>{0, 1000, 4294967294u});
  CHECK(d.allowed_gids.empty());
  CHECK(d.read_when_empty == ReadWhenEmpty::block);
  CHECK(d.limits.max_frame_bytes == 64);
  CHECK(d.limits.max_request_bytes == 1ull << 30);
  CHECK(d.limits.max_buffered_bytes == 4096);
  CHECK(d.limits.max_events == 1);
  CHECK(d.limits.max_sessions == 1u << 24);
  CHECK(d.limits.request_timeout_ms == 86400000);
  CHECK(d.threads == 64);
  CHECK(d.executor == "worker");
}

TEST_CASE("value forms: modes, groups, sockets, config, read_when_empty") {
  struct Case {
    std::string extra;
    void (*check)(const DeviceSpec&);
  };
  const Case cases[] = {
      {R"("socket_mode": "660")", [](const DeviceSpec& d) { CHECK(d.socket_mode == std::optional<uint32_t>(0660)); }},
      {R"("socket_mode": "0")", [](const DeviceSpec& d) { CHECK(d.socket_mode == std::optional<uint32_t>(0)); }},
      {R"("socket_mode": "0777")", [](const DeviceSpec& d) { CHECK(d.socket_mode == std::optional<uint32_t>(0777)); }},
      {R"("socket_mode": 432)", [](const DeviceSpec& d) { CHECK(d.socket_mode == std::optional<uint32_t>(0660)); }},
      {R"("socket_mode": 511)", [](const DeviceSpec& d) { CHECK(d.socket_mode == std::optional<uint32_t>(0777)); }},
      {R"("socket_group": 1234)", [](const DeviceSpec& d) { CHECK(d.socket_group == std::optional<std::string>("1234")); }},
      {R"("socket_group": 0)", [](const DeviceSpec& d) { CHECK(d.socket_group == std::optional<std::string>("0")); }},
      {R"("socket": "unix:///run/x.sock")", [](const DeviceSpec& d) { CHECK(d.socket == "unix:///run/x.sock"); }},
      {R"("socket": "tcp://127.0.0.1:7000")", [](const DeviceSpec& d) {
         CHECK(d.socket == "tcp://127.0.0.1:7000");
         CHECK_FALSE(d.socket_mode.has_value());  // no file, no mode
       }},
      {R"("config": "text")", [](const DeviceSpec& d) { CHECK(d.config_json == R"("text")"); }},
      {R"("config": null)", [](const DeviceSpec& d) { CHECK(d.config_json == "null"); }},
      {R"("config": [1, 2.5, {"k": {}}])", [](const DeviceSpec& d) { CHECK(d.config_json == R"([1,2.5,{"k":{}}])"); }},
      {R"("read_when_empty": "eof")", [](const DeviceSpec& d) { CHECK(d.read_when_empty == ReadWhenEmpty::eof); }},
      {R"("device_path": "")", [](const DeviceSpec& d) { CHECK(d.device_path == ""); }},
      {R"("limits": {})", [](const DeviceSpec& d) { CHECK(d.limits.max_events == 256); }},
      {R"("limits": {"request_timeout_ms": 0})", [](const DeviceSpec& d) { CHECK(d.limits.request_timeout_ms == 0); }},
      {R"("threads": 0, "executor": "loop")", [](const DeviceSpec& d) { CHECK(d.threads == 0); }},
  };
  for (const Case& c : cases) {
    INFO(c.extra);
    const LoadResult r = parse(kv_with(c.extra));
    REQUIRE_MESSAGE(r.ok(), joined(r.errors));
    REQUIRE(r.devices.size() == 1);
    c.check(r.devices[0]);
  }
}

TEST_CASE("a plugin is a file name or an absolute path; names with dots are still names") {
  for (const std::string plugin : {"kv", "kv.so", "my..kv.so", "..kv.so", "/opt/drivers/kv.so", "/opt/..x/kv.so"}) {
    INFO(plugin);
    const LoadResult r = parse(one_device(R"("name": "kv", "plugin": ")" + plugin + "\""));
    REQUIRE_MESSAGE(r.ok(), joined(r.errors));
    CHECK(r.devices[0].plugin == plugin);
  }
}

TEST_CASE("device names: segments joined by '/', each [a-z0-9][a-z0-9._-]*, at most 64") {
  using bentos::config::is_valid_device_name;
  for (const char* good : {"a", "0", "kv", "echo-2", "a.b_c-d", "llm/fixture/echo", "x/y", "9/z.z"}) {
    INFO(good);
    CHECK(is_valid_device_name(good));
  }
  for (const char* bad : {"", "Kv", "-a", ".a", "_a", "a b", "a/", "/a", "a//b", "a/./b", "a/../b", "a/.b",
                          "a:b", "a\\b", "é"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_device_name(bad));
  }
  CHECK(is_valid_device_name(std::string(64, 'a')));
  CHECK_FALSE(is_valid_device_name(std::string(65, 'a')));
}

TEST_CASE("a nested name gets a flat default socket with '-' for '/'") {
  const LoadResult r = parse(one_device(R"("name": "llm/fixture/echo", "plugin": "echo")"));
  REQUIRE_MESSAGE(r.ok(), joined(r.errors));
  CHECK(r.devices[0].name == "llm/fixture/echo");
  CHECK(r.devices[0].socket == "unix:///run/bentos/drivers/llm-fixture-echo.sock");
  CHECK(bentos::config::default_socket_uri("/tmp/s/", "a/b") == "unix:///tmp/s/a-b.sock");
  CHECK(bentos::config::default_socket_uri("/", "a") == "unix:///a.sock");
}

TEST_CASE("an empty device list is valid and yields no devices") {
  const LoadResult r = parse(R"({"devices": []})");
  CHECK(r.ok());
  CHECK(r.devices.empty());
}

TEST_CASE("bad manifests: each gives exactly the expected messages") {
  struct Case {
    std::string text;
    std::vector<std::string> errors;
  };
  const std::string kv = kFile + ": device 'kv': key ";
  const std::string d0 = kFile + ": devices[0]: ";
  const std::string long_name(65, 'a');
  const std::string long_socket = "/tmp/" + std::string(120, 's') + ".sock";
  const Case cases[] = {
      // The file as a whole.
      {"[]", {kFile + R"(: expected a JSON object {"devices": [...]}, found an array)"}},
      {"\"devices\"", {kFile + R"(: expected a JSON object {"devices": [...]}, found "devices")"}},
      {"{}", {kFile + ": key 'devices': expected an array of device objects, found nothing (the key is missing)"}},
      {R"({"devices": {}})", {kFile + ": key 'devices': expected an array of device objects, found an object"}},
      {R"({"devices": null})", {kFile + ": key 'devices': expected an array of device objects, found null"}},
      {R"({"devices": [], "device": []})", {kFile + ": key 'device': unknown key; did you mean 'devices'?"}},
      {R"({"devices": [], "extra": 1})", {kFile + ": key 'extra': unknown key; expected one of: devices, host"}},
      {R"({"devices": [42]})",
       {d0 + R"(expected a device object such as {"name": ..., "plugin": ...}, found 42)"}},
      {R"({"devices": [[]]})",
       {d0 + R"(expected a device object such as {"name": ..., "plugin": ...}, found an array)"}},
      // name: the device is then called devices[N].
      {one_device(R"("plugin": "p")"), {d0 + "key 'name': expected " + kNameRule + ", found nothing (the key is missing)"}},
      {one_device(R"("name": "Bad", "plugin": "p")"), {d0 + "key 'name': expected " + kNameRule + R"(, found "Bad")"}},
      {one_device(R"("name": "a//b", "plugin": "p")"), {d0 + "key 'name': expected " + kNameRule + R"(, found "a//b")"}},
      {one_device(R"("name": "", "plugin": "p")"), {d0 + "key 'name': expected " + kNameRule + ", found an empty string"}},
      {one_device(R"("name": 7, "plugin": "p")"), {d0 + "key 'name': expected " + kNameRule + ", found 7"}},
      {one_device(R"("name": ")" + long_name + R"(", "plugin": "p")"),
       {d0 + "key 'name': expected " + kNameRule + ", found \"" + std::string(60, 'a') + "\"..."}},
      // plugin
      {one_device(R"("name": "kv")"), {kv + "'plugin': expected a plugin file name or path, found nothing (the key is missing)"}},
      {one_device(R"("name": "kv", "plugin": "")"),
       {kv + "'plugin': expected a plugin file name or path (a non-empty string), found an empty string"}},
      {one_device(R"("name": "kv", "plugin": ["a"])"),
       {kv + "'plugin': expected a plugin file name or path (a non-empty string), found an array"}},
      {one_device(R"("name": "kv", "plugin": "a\u0000b")"),
       {kv + R"('plugin': expected a plugin file name or path (a non-empty string), found "a\u0000b")"}},
      // plugin: a file name or an absolute path that cannot escape the plugin path
      {one_device(R"("name": "kv", "plugin": "../kv.so")"),
       {kv + R"('plugin': expected a plugin file name (looked up in the plugin path) or an absolute path, found "../kv.so"; a relative path may name a file outside the plugin path)"}},
      {one_device(R"("name": "kv", "plugin": "sub/kv.so")"),
       {kv + R"('plugin': expected a plugin file name (looked up in the plugin path) or an absolute path, found "sub/kv.so"; a relative path may name a file outside the plugin path)"}},
      {one_device(R"("name": "kv", "plugin": "..")"),
       {kv + R"('plugin': expected a plugin file name (looked up in the plugin path) or an absolute path, found "..")"}},
      {one_device(R"("name": "kv", "plugin": "/usr/lib/bentos/drivers/../../../tmp/kv.so")"),
       {kv + R"('plugin': expected an absolute path without '..' components, found "/usr/lib/bentos/drivers/../../../tmp/kv.so"; name the plugin file directly)"}},
      {one_device(R"("name": "kv", "plugin": "/opt/x/..")"),
       {kv + R"('plugin': expected an absolute path without '..' components, found "/opt/x/.."; name the plugin file directly)"}},
      // socket
      {kv_with(R"("socket": "kv.sock")"),
       {kv + R"('socket': expected unix:///abs/path.sock, an absolute path, or tcp://host:port, found "kv.sock")"}},
      {kv_with(R"("socket": "unix://kv.sock")"),
       {kv + R"('socket': expected an absolute path (unix:///abs/path.sock), found "unix://kv.sock")"}},
      {kv_with(R"("socket": "tcp://localhost")"), {kv + R"('socket': expected tcp://host:port, found "tcp://localhost")"}},
      {kv_with(R"("socket": "tcp://h:99999")"),
       {kv + R"('socket': port '99999' is not a number from 0 to 65535 (found "tcp://h:99999"))"}},
      {kv_with(R"("socket": 5)"),
       {kv + "'socket': expected a socket: unix:///abs/path.sock, an absolute path, or tcp://host:port, found 5"}},
      // device_path, config has no wrong form
      {kv_with(R"("device_path": 1)"), {kv + "'device_path': expected a string (the device node bentosd attaches), found 1"}},
      // socket_mode
      {kv_with(R"("socket_mode": "0999")"),
       {kv + R"('socket_mode': expected a permission mode: a string of octal digits such as "0660" (at most "0777"), or an integer of at most 511 (0777), found "0999")"}},
      {kv_with(R"("socket_mode": "01000")"),
       {kv + R"('socket_mode': expected a permission mode: a string of octal digits such as "0660" (at most "0777"), or an integer of at most 511 (0777), found "01000")"}},
      {kv_with(R"("socket_mode": "")"),
       {kv + R"('socket_mode': expected a permission mode: a string of octal digits such as "0660" (at most "0777"), or an integer of at most 511 (0777), found an empty string)"}},
      {kv_with(R"("socket_mode": -1)"),
       {kv + R"('socket_mode': expected a permission mode: a string of octal digits such as "0660" (at most "0777"), or an integer of at most 511 (0777), found -1)"}},
      {kv_with(R"("socket_mode": 660)"),
       {kv + R"('socket_mode': expected a permission mode: a string of octal digits such as "0660" (at most "0777"), or an integer of at most 511 (0777), found 660; JSON numbers are decimal, so write the mode as a string such as "0660")"}},
      // socket_group
      {kv_with(R"("socket_group": "")"),
       {kv + "'socket_group': expected a group name (a non-empty string) or a numeric gid, found an empty string"}},
      {kv_with(R"("socket_group": -1)"), {kv + "'socket_group': expected a non-negative integer, found -1"}},
      {kv_with(R"("socket_group": 4294967295)"),
       {kv + "'socket_group': expected an integer of at most 4294967294, found 4294967295"}},
      {kv_with(R"("socket_group": true)"),
       {kv + "'socket_group': expected a group name (a non-empty string) or a numeric gid, found true"}},
      // allowed_uids / allowed_gids: each bad element by index
      {kv_with(R"("allowed_uids": 0)"), {kv + "'allowed_uids': expected an array of non-negative integer ids, found 0"}},
      {kv_with(R"("allowed_gids": [0, -1, "x", 1.5, 4294967295])"),
       {kv + "'allowed_gids[1]': expected a non-negative integer, found -1",
        kv + R"('allowed_gids[2]': expected an integer from 0 to 4294967294, found "x")",
        kv + "'allowed_gids[3]': expected an integer from 0 to 4294967294, found 1.5",
        kv + "'allowed_gids[4]': expected an integer of at most 4294967294, found 4294967295"}},
      // read_when_empty, threads, executor
      {kv_with(R"("read_when_empty": "never")"), {kv + R"('read_when_empty': expected "eof" or "block", found "never")"}},
      {kv_with(R"("read_when_empty": null)"), {kv + R"('read_when_empty': expected "eof" or "block", found null)"}},
      {kv_with(R"("threads": 65)"), {kv + "'threads': expected an integer of at most 64, found 65"}},
      {kv_with(R"("threads": -1)"), {kv + "'threads': expected a non-negative integer, found -1"}},
      {kv_with(R"("executor": "thread")"), {kv + R"('executor': expected "loop" or "worker", found "thread")"}},
      // limits
      {kv_with(R"("limits": [])"), {kv + R"('limits': expected an object such as {"max_events": 256}, found an array)"}},
      {kv_with(R"("limits": {"max_events": -3})"), {kv + "'limits.max_events': expected a positive integer, found -3"}},
      {kv_with(R"("limits": {"max_events": 0})"), {kv + "'limits.max_events': expected a positive integer, found 0"}},
      {kv_with(R"("limits": {"max_events": 1048577})"),
       {kv + "'limits.max_events': expected an integer of at most 1048576, found 1048577"}},
      {kv_with(R"("limits": {"max_events": "256"})"),
       {kv + R"('limits.max_events': expected an integer from 1 to 1048576, found "256")"}},
      {kv_with(R"("limits": {"max_frame_bytes": 10})"),
       {kv + "'limits.max_frame_bytes': expected an integer of at least 64, found 10"}},
      {kv_with(R"("limits": {"max_frame_bytes": 2147483648})"),
       {kv + "'limits.max_frame_bytes': expected an integer of at most 1073741824 (1 GiB), found 2147483648"}},
      {kv_with(R"("limits": {"max_request_bytes": 0})"),
       {kv + "'limits.max_request_bytes': expected a positive integer, found 0"}},
      {kv_with(R"("limits": {"max_buffered_bytes": 1e3})"),
       {kv + "'limits.max_buffered_bytes': expected an integer from 1 to 1073741824 (1 GiB), found 1000.0"}},
      {kv_with(R"("limits": {"max_sessions": 0})"), {kv + "'limits.max_sessions': expected a positive integer, found 0"}},
      {kv_with(R"("limits": {"request_timeout_ms": 1.5})"),
       {kv + "'limits.request_timeout_ms': expected an integer from 0 to 86400000 (one day), found 1.5"}},
      {kv_with(R"("limits": {"request_timeout_ms": 18446744073709551615})"),
       {kv + "'limits.request_timeout_ms': expected an integer of at most 86400000 (one day), found 18446744073709551615"}},
      {kv_with(R"("limits": {"max_event": 1})"), {kv + "'limits.max_event': unknown key; did you mean 'max_events'?"}},
      {kv_with(R"("limits": {"timeout": 1})"),
       {kv + "'limits.timeout': unknown key; expected one of: max_frame_bytes, max_request_bytes, "
             "max_buffered_bytes, max_events, max_sessions, request_timeout_ms, memory_bytes, open_files, "
             "cpu_seconds"}},
      // unknown device keys
      {kv_with(R"("plugn": "x")"), {kv + "'plugn': unknown key; did you mean 'plugin'?"}},
      {kv_with(R"("allowed_uid": [])"), {kv + "'allowed_uid': unknown key; did you mean 'allowed_uids'?"}},
      {kv_with(R"("Socket": "/x.sock")"), {kv + "'Socket': unknown key; did you mean 'socket'?"}},
      {kv_with(R"("frobnicate": 1)"),
       {kv + "'frobnicate': unknown key; expected one of: name, plugin, socket, device_path, config, "
             "socket_mode, socket_group, allowed_uids, allowed_gids, read_when_empty, limits, threads, executor, "
             "isolation, watchdog_ms, user, group"}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const LoadResult r = parse(c.text);
    CHECK(r.errors == c.errors);
    CHECK(r.devices.empty());
  }
  // The path length limit comes from net/endpoint.h; pin only our part.
  const LoadResult r = parse(kv_with(R"("socket": ")" + long_socket + R"(")"));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].rfind(kv + "'socket': path is 130 bytes, longer than", 0) == 0);
  CHECK(r.errors[0].find("(found \"/tmp/sss") != std::string::npos);
}

TEST_CASE("all errors of a file are collected, in file order, and good devices are kept") {
  const std::string text = R"({"devices": [
    {"name": "a", "plugin": "", "limits": {"max_events": -3}, "threads": 99},
    {"name": "good", "plugin": "g"},
    {"plugin": 1},
    {"name": "b", "plugin": "b", "devicepath": "/dev/b"}
  ], "_comment": "fine", "version": 2})";
  const LoadResult r = parse(text);
  const std::vector<std::string> expected = {
      kFile + ": key 'version': unknown key; expected one of: devices, host",
      kFile + ": device 'a': key 'plugin': expected a plugin file name or path (a non-empty string), found an empty string",
      kFile + ": device 'a': key 'limits.max_events': expected a positive integer, found -3",
      kFile + ": device 'a': key 'threads': expected an integer of at most 64, found 99",
      kFile + ": devices[2]: key 'name': expected " + kNameRule + ", found nothing (the key is missing)",
      kFile + ": devices[2]: key 'plugin': expected a plugin file name or path (a non-empty string), found 1",
      kFile + ": device 'b': key 'devicepath': unknown key; did you mean 'device_path'?",
  };
  CHECK(r.errors == expected);
  REQUIRE(r.devices.size() == 1);
  CHECK(r.devices[0].name == "good");
}

TEST_CASE("invalid JSON names the line and column and stops that file") {
  struct Case {
    std::string text;
    std::string prefix;
  };
  const Case cases[] = {
      {"{\n  \"devices\": [\n    {\"name\": \"kv\",}\n  ]\n}", kFile + ": invalid JSON at line 3, column 19: "},
      {"", kFile + ": invalid JSON at line 1, column 1: "},
      {"{\"devices\": []", kFile + ": invalid JSON at line 1, column 15: "},
      {"{\"devices\": []}\n\nx", kFile + ": invalid JSON at line 3, column 1: "},
      {"\n\n   tru", kFile + ": invalid JSON at line 3, column 7: "},
      {"{\"devices\": [], // no comments in JSON\n}", kFile + ": invalid JSON at line 1, column 17: "},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const LoadResult r = parse(c.text);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].rfind(c.prefix, 0) == 0);
    CHECK(r.errors[0].find("json.exception") == std::string::npos);
    CHECK(r.errors[0].size() > c.prefix.size());  // the parser's explanation follows
    // Our position agrees with the one nlohmann computes itself.
    try {
      const nlohmann::json parsed = nlohmann::json::parse(c.text);
      CHECK(parsed.is_null());  // not reached
      FAIL("expected a parse error");
    } catch (const nlohmann::json::parse_error& e) {
      const std::string theirs = e.what();
      const std::string position = c.prefix.substr(kFile.size() + 2 + std::string("invalid JSON ").size());
      CHECK(theirs.find(position.substr(0, position.size() - 2)) != std::string::npos);
    }
  }
  const LoadResult huge = parse(R"({"devices": [{"name": "kv", "plugin": "p", "limits": {"max_events": 1e400}}]})");
  REQUIRE(huge.errors.size() == 1);
  CHECK(huge.errors[0].rfind(kFile + ": invalid JSON: number overflow", 0) == 0);
}

TEST_CASE("a key given twice in one object is an error at its path") {
  const std::string text = R"({"devices": [
    {"name": "a", "plugin": "p"},
    {"name": "kv", "plugin": "p", "plugin": "q",
     "limits": {"max_events": 1, "max_events": 2},
     "config": {"x": {"y": 1, "y": 2}, "list": [{"k": 1, "k": 2}]}}
  ], "devices": []})";
  const LoadResult r = parse(text);
  const std::vector<std::string> expected = {
      kFile + ": key 'devices': expected each key once, found it more than once (JSON keeps only the last)",
  };
  // The second "devices" wins in the parsed document, so no device is checked.
  CHECK(r.errors == expected);
  // Duplicates inside the overridden array are not pinned on the other one.
  const LoadResult both = parse(R"({"devices": [{"name": "a", "name": "b"}], "devices": [{"name": "c", "plugin": "p"}]})");
  CHECK(both.errors == expected);
  CHECK(both.devices.size() == 1);

  const LoadResult r2 = parse(text.substr(0, text.rfind(", \"devices\"")) + "}");
  const std::string kv = kFile + ": device 'kv': key ";
  const std::string twice = ": expected each key once, found it more than once (JSON keeps only the last)";
  const std::vector<std::string> expected2 = {
      kv + "'plugin'" + twice,
      kv + "'limits.max_events'" + twice,
      kv + "'config.x.y'" + twice,
      kv + "'config.list[0].k'" + twice,
  };
  CHECK(r2.errors == expected2);
  REQUIRE(r2.devices.size() == 1);
  CHECK(r2.devices[0].name == "a");
}

TEST_CASE("comment keys are skipped wherever keys are checked") {
  const LoadResult r = parse(R"({"$schema": "x", "_comment": 1, "_comments": [], "devices": [
    {"$why": {}, "_comment_2": "x", "name": "kv", "plugin": "p", "limits": {"_comment": "x"}}]})");
  CHECK_MESSAGE(r.ok(), joined(r.errors));
  CHECK(r.devices.size() == 1);
  // A key that merely contains "comment" is still a typo.
  const LoadResult bad = parse(kv_with(R"("comment": "x")"));
  CHECK(bad.errors.size() == 1);
}

TEST_CASE("two devices of one file with the same name or socket") {
  const LoadResult names = parse(R"({"devices": [
    {"name": "kv", "plugin": "a"}, {"name": "kv", "plugin": "b"}]})");
  CHECK(names.errors == std::vector<std::string>{"device 'kv' is defined twice in m.json"});
  REQUIRE(names.devices.size() == 1);
  CHECK(names.devices[0].plugin == "a");

  // A device refused for its socket still takes its name.
  const LoadResult thrice = parse(R"({"devices": [
    {"name": "a", "plugin": "p", "socket": "/tmp/x.sock"},
    {"name": "b", "plugin": "p", "socket": "/tmp/x.sock"},
    {"name": "b", "plugin": "p", "socket": "/tmp/y.sock"}]})");
  CHECK(thrice.errors == std::vector<std::string>{
                             "device 'b' in m.json uses socket 'unix:///tmp/x.sock', which device 'a' in m.json "
                             "already uses",
                             "device 'b' is defined twice in m.json"});

  // "/tmp//x.sock" is the same file as "/tmp/x.sock".
  const LoadResult sockets = parse(R"({"devices": [
    {"name": "a", "plugin": "p", "socket": "/tmp/x.sock"},
    {"name": "b", "plugin": "p", "socket": "unix:///tmp//x.sock"}]})");
  CHECK(sockets.errors == std::vector<std::string>{
                              "device 'b' in m.json uses socket 'unix:///tmp//x.sock', which device 'a' in "
                              "m.json already uses"});

  // Nested names whose default sockets collide.
  const LoadResult nested = parse(R"({"devices": [
    {"name": "a/b", "plugin": "p"}, {"name": "a-b", "plugin": "p"}]})");
  CHECK(nested.errors == std::vector<std::string>{
                             "device 'a-b' in m.json uses socket 'unix:///run/bentos/drivers/a-b.sock', which "
                             "device 'a/b' in m.json already uses"});

  // tcp port 0 means "any free port": many devices may ask for it.
  const LoadResult any_port = parse(R"({"devices": [
    {"name": "a", "plugin": "p", "socket": "tcp://127.0.0.1:0"},
    {"name": "b", "plugin": "p", "socket": "tcp://127.0.0.1:0"}]})");
  CHECK_MESSAGE(any_port.ok(), joined(any_port.errors));
  CHECK(any_port.devices.size() == 2);
}

TEST_CASE("a default socket too long for sun_path is reported with the way out") {
  const std::string dir = "/tmp/" + std::string(100, 'd');
  const LoadResult r = parse_manifest(one_device(R"("name": "kv", "plugin": "p")"), kFile, dir);
  REQUIRE(r.errors.size() == 1);
  const std::string prefix = kFile + ": device 'kv': key 'socket': no socket given, and the default 'unix://" + dir +
                             "/kv.sock' (from the socket directory) is unusable: path is";
  CHECK(r.errors[0].rfind(prefix, 0) == 0);
  CHECK(r.errors[0].find("--socket-dir") != std::string::npos);
  // An explicit socket makes the directory irrelevant.
  const LoadResult ok = parse_manifest(kv_with(R"("socket": "/tmp/kv.sock")"), kFile, dir);
  CHECK(ok.ok());
}

TEST_CASE("edit distance and closest match") {
  using bentos::config::closest_match;
  using bentos::config::edit_distance;
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("max_events", "max_events") == 0);
  CHECK(edit_distance("max_evnets", "max_events") == 1);  // a swap is one edit
  CHECK(edit_distance("max_event", "max_events") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest_match("sockt", {"socket", "socket_mode"}) == "socket");
  CHECK(closest_match("zzz", {"socket", "plugin"}) == "");
  CHECK(closest_match("ab", {"ac", "ad"}) == "ac");  // first on a tie
  CHECK(closest_match("abcd", {"abxy"}, 1) == "");
}

TEST_CASE("isolation: per device, a host-wide default, and keys only a child process can use") {
  using bentos::config::IsolationMode;
  // The default is the host's process; the host may make it "process".
  LoadResult r = parse(one_device(R"("name": "kv", "plugin": "kv.so")"));
  REQUIRE(r.ok());
  CHECK(r.devices[0].isolation.mode == IsolationMode::in_process);
  r = parse(R"({"host": {"isolation": "process"}, "devices": [{"name": "kv", "plugin": "kv.so"},
              {"name": "echo", "plugin": "echo.so", "isolation": "in-process"}]})");
  REQUIRE(r.ok());
  CHECK(r.devices[0].isolation.mode == IsolationMode::process);
  CHECK(r.devices[1].isolation.mode == IsolationMode::in_process);

  r = parse(kv_with(R"("isolation": "process", "watchdog_ms": 500, "user": "nobody", "group": 65534,
                      "limits": {"memory_bytes": 268435456, "open_files": 64, "cpu_seconds": 10})"));
  REQUIRE(r.ok());
  const auto& iso = r.devices[0].isolation;
  CHECK(iso.mode == IsolationMode::process);
  CHECK(iso.watchdog() == 500);
  CHECK(iso.user == "nobody");
  CHECK(iso.group == "65534");
  CHECK(iso.memory_bytes == 268435456);
  CHECK(iso.open_files == 64);
  CHECK(iso.cpu_seconds == 10);
  CHECK(parse(kv_with(R"("isolation": "process")")).devices[0].isolation.watchdog() == 10000);

  const std::string kv = kFile + ": device 'kv': key ";
  const struct {
    std::string text;
    std::string error;
  } bad[] = {
      {kv_with(R"("isolation": "thread")"), kv + "'isolation': expected \"in-process\" or \"process\", found \"thread\""},
      {kv_with(R"("isolation": "process", "watchdog_ms": 50)"),
       kv + "'watchdog_ms': expected an integer of at least 100, found 50"},
      {kv_with(R"("isolation": "process", "limits": {"memory_bytes": 1024})"),
       kv + "'limits.memory_bytes': expected an integer of at least 16777216, found 1024"},
      {kv_with(R"("user": "nobody", "limits": {"open_files": 64})"),
       kv + "'user', 'limits.open_files': applies only to a device in its own process; add \"isolation\": "
            "\"process\" (or set it for every device under \"host\")"},
      {kv_with(R"("isolation": "process", "socket": "tcp://127.0.0.1:7000")"),
       kv + "'socket': an isolated device (\"isolation\": \"process\") needs a unix:// socket, found "
            "tcp://127.0.0.1:7000"},
      {R"({"host": {"isolation": "yes"}, "devices": []})",
       kFile + ": key 'host.isolation': expected \"in-process\" or \"process\", found \"yes\""},
  };
  for (const auto& c : bad) {
    CAPTURE(c.text);
    r = parse(c.text);
    CHECK(r.devices.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] == c.error);
  }
}
