// The optional top-level "host" object of a manifest: host-wide settings
// (behavior.md §1 limits: max_connections; the reload's create/destroy
// bound: lifecycle_timeout_ms).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/manifest.h"

using bentos::config::load_manifests;
using bentos::config::parse_manifest;

namespace {

bool has_error(const bentos::config::LoadResult& r, const std::string& part) {
  for (const auto& e : r.errors) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("max_connections defaults to 1024 and is set by host.max_connections") {
  auto none = parse_manifest(R"({"devices": []})", "a.json", "/run/x");
  REQUIRE(none.ok());
  CHECK(none.host.max_connections == 1024);
  CHECK(none.host.max_connections_file.empty());
  auto set = parse_manifest(R"({"host": {"max_connections": 7}, "devices": []})", "a.json", "/run/x");
  REQUIRE(set.ok());
  CHECK(set.host.max_connections == 7);
  CHECK(set.host.max_connections_file == "a.json");
}

TEST_CASE("bad host settings name the file and the key") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"({"host": 3, "devices": []})", "a.json: key 'host': expected an object"},
      {R"({"host": {"max_connections": 0}, "devices": []})", "a.json: key 'host.max_connections': expected an integer from 1"},
      {R"({"host": {"max_connections": "9"}, "devices": []})", "key 'host.max_connections': expected an integer"},
      {R"({"host": {"max_conections": 9}, "devices": []})", "key 'host.max_conections'"},
      {R"({"hots": {}, "devices": []})", "did you mean 'host'"},
      {R"({"host": {"lifecycle_timeout_ms": 99}, "devices": []})",
       "a.json: key 'host.lifecycle_timeout_ms': expected an integer from 100 to 600000, found 99"},
      {R"({"host": {"lifecycle_timeout_ms": 600001}, "devices": []})", "expected an integer from 100 to 600000"},
      {R"({"host": {"lifecycle_timeout_ms": -5}, "devices": []})", "expected an integer from 100 to 600000"},
      {R"({"host": {"lifecycle_timeout_ms": 1.5}, "devices": []})", "key 'host.lifecycle_timeout_ms': expected"},
      {R"({"host": {"lifecycle_timout_ms": 500}, "devices": []})", "did you mean 'lifecycle_timeout_ms'"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = parse_manifest(c.text, "a.json", "/run/x");
    CHECK_FALSE(r.ok());
    CHECK(has_error(r, c.message));
  }
}

TEST_CASE("two manifests that disagree on max_connections: an error naming both files") {
  char templ[] = "/tmp/bentos-host-XXXXXX";
  REQUIRE(::mkdtemp(templ));
  const std::string dir = templ;
  std::ofstream(dir + "/a.json") << R"({"host": {"max_connections": 5}, "devices": []})";
  std::ofstream(dir + "/b.json") << R"({"host": {"max_connections": 6}, "devices": []})";
  std::ofstream(dir + "/c.json") << R"({"host": {"max_connections": 5}, "devices": []})";
  auto r = load_manifests({dir + "/a.json", dir + "/c.json"}, "/run/x");
  CHECK(r.ok());  // agreeing files are fine
  CHECK(r.host.max_connections == 5);
  r = load_manifests({dir}, "/run/x");
  CHECK_FALSE(r.ok());
  CHECK(has_error(r, dir + "/b.json: key 'host.max_connections': 6 contradicts 5 set in " + dir + "/a.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("lifecycle_timeout_ms defaults to 10 s and is set by host.lifecycle_timeout_ms") {
  auto none = parse_manifest(R"({"devices": []})", "a.json", "/run/x");
  REQUIRE(none.ok());
  CHECK(none.host.lifecycle_timeout_ms == 10000);
  CHECK(none.host.lifecycle_timeout_ms_file.empty());
  auto set = parse_manifest(R"({"host": {"lifecycle_timeout_ms": 300, "max_connections": 9}, "devices": []})",
                            "a.json", "/run/x");
  REQUIRE(set.ok());
  CHECK(set.host.lifecycle_timeout_ms == 300);
  CHECK(set.host.lifecycle_timeout_ms_file == "a.json");
  CHECK(set.host.max_connections == 9);
}

TEST_CASE("two manifests that disagree on lifecycle_timeout_ms: an error naming both files") {
  char templ[] = "/tmp/bentos-host-XXXXXX";
  REQUIRE(::mkdtemp(templ));
  const std::string dir = templ;
  std::ofstream(dir + "/a.json") << R"({"host": {"lifecycle_timeout_ms": 500}, "devices": []})";
  std::ofstream(dir + "/b.json") << R"({"host": {"lifecycle_timeout_ms": 700}, "devices": []})";
  auto r = load_manifests({dir}, "/run/x");
  CHECK_FALSE(r.ok());
  CHECK(has_error(r, dir + "/b.json: key 'host.lifecycle_timeout_ms': 700 contradicts 500 set in " + dir +
                         "/a.json"));
  std::filesystem::remove_all(dir);
}
