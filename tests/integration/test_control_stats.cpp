// The control socket's `stats` against real traffic: requests by op, errors
// by errno, bytes, latency; and each limit's counter, moved by provoking
// the limit over a real socket (behavior.md §1 limits; issue 6 item 1).
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "control_connection.h"
#include "daemon_runner.h"
#include "outcome.h"

using bentos::test::bentosctl_path;
using bentos::test::DaemonRunner;
using bentos::test::device_stats;
using bentos::test::outcome;
using bentos::test::run_program;
using nlohmann::json;

namespace {

constexpr int32_t kRdwr = 2;
const std::vector<std::string> kControlArgs = {"--control-socket", "@DIR@/control.sock"};

uint64_t limit(const json& stats, const char* name) { return stats["limits"][name].get<uint64_t>(); }

uint64_t errno_count(const json& stats, const std::string& name) {
  for (const auto& e : stats["errors"])
    if (e["name"] == name) return e["count"].get<uint64_t>();
  return 0;
}

// Waits up to 3 s for the device's limit counter `name` to reach `want`;
// returns the last value seen.
uint64_t wait_limit(const DaemonRunner& d, const std::string& device, const char* name, uint64_t want) {
  uint64_t seen = 0;
  for (int i = 0; i < 300; ++i) {
    seen = limit(device_stats(d.control_socket(), device), name);
    if (seen >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return seen;
}

// The 4-byte big-endian length prefix of a frame.
std::string length_prefix(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

}  // namespace

TEST_CASE("stats count real traffic: requests by op, errors by errno, bytes, latency per op") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])", kControlArgs);
  REQUIRE(d.ready());
  const json before = device_stats(d.control_socket(), "kv");
  REQUIRE(before.is_object());
  CHECK(before["requests_total"] == 0);
  CHECK(before["bytes_in"] == 0);
  CHECK(before["latency_us"].empty());

  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");  // IDLE: nothing asked yet
  CHECK(outcome(c->write(1, "k=v")) == "wrote 3");
  CHECK(outcome(c->read(1, 100)) == "data:OK\n");
  CHECK(outcome(c->read(1, 100)) == "eof");
  CHECK(outcome(c->poll(1, 1)) != "none");
  CHECK(outcome(c->release(1)) == "ok");

  const json s = device_stats(d.control_socket(), "kv");
  REQUIRE(s.is_object());
  CHECK(s["requests"]["open"] == 1);
  CHECK(s["requests"]["read"] == 3);
  CHECK(s["requests"]["write"] == 1);
  CHECK(s["requests"]["poll"] == 1);
  CHECK(s["requests"]["release"] == 1);
  CHECK(s["requests"]["ioctl"] == 0);
  CHECK(s["requests_total"] == 7);
  CHECK(s["replies"] == 7);
  CHECK(s["sessions_opened"] == 1);
  CHECK(s["sessions"] == 0);
  CHECK(s["connections"] == 1);
  REQUIRE(s["errors"].size() == 1);
  CHECK(s["errors"][0] == json{{"errno", 11}, {"name", "EAGAIN"}, {"count", 1}});
  // Every frame carries at least its 4-byte prefix and an id.
  CHECK(s["bytes_in"].get<uint64_t>() > 7 * 6);
  CHECK(s["bytes_out"].get<uint64_t>() > 7 * 6);
  const json read = s["latency_us"]["read"];
  CHECK(read["count"] == 3);
  CHECK(read["p50"].get<double>() > 0);
  CHECK(read["p99"].get<double>() >= read["p50"].get<double>());
  CHECK(read["max"].get<double>() >= read["p99"].get<double>());
  CHECK(s["latency_us"]["open"]["count"] == 1);
  CHECK_FALSE(s["latency_us"].contains("ioctl"));  // no request, no entry
  // Other devices count their own.
  CHECK(device_stats(d.control_socket(), "hello")["requests_total"] == 0);

  // One more request: the byte counters grow.
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  const json after = device_stats(d.control_socket(), "kv");
  CHECK(after["bytes_in"].get<uint64_t>() > s["bytes_in"].get<uint64_t>());
  CHECK(after["bytes_out"].get<uint64_t>() > s["bytes_out"].get<uint64_t>());
  CHECK(after["sessions"] == 1);
}

TEST_CASE("limit counters: max_request_bytes (EFBIG) and max_sessions (EMFILE)") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so", "limits": {"max_request_bytes": 8, "max_sessions": 1}},
                     {"name": "synth", "plugin": "synth.so", "limits": {"max_request_bytes": 8}}])",
                 kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, std::string(16, 'x'))) == "err:EFBIG");
  CHECK(outcome(c->open(2, kRdwr)) == "err:EMFILE");
  CHECK(outcome(c->open(3, kRdwr)) == "err:EMFILE");
  const json s = device_stats(d.control_socket(), "kv");
  CHECK(limit(s, "requests_too_big") == 1);
  CHECK(limit(s, "sessions_refused") == 2);
  CHECK(errno_count(s, "EFBIG") == 1);
  CHECK(errno_count(s, "EMFILE") == 2);
  CHECK(limit(s, "frames_too_big") == 0);

  // P4 counts its own EFBIG the same way.
  auto p4 = d.connect("synth");
  REQUIRE(p4);
  CHECK(outcome(p4->open(1, kRdwr)) == "opened");
  CHECK(outcome(p4->write(1, std::string(9, 'y'))) == "err:EFBIG");
  CHECK(limit(device_stats(d.control_socket(), "synth"), "requests_too_big") == 1);
}

TEST_CASE("limit counters: max_frame_bytes closes the connection and is counted") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so", "limits": {"max_frame_bytes": 1024}}])", kControlArgs);
  REQUIRE(d.ready());
  auto bad = d.connect("kv");
  REQUIRE(bad);
  bad->send_bytes(length_prefix(1025));
  CHECK(bad->wait_closed(3000));
  CHECK(limit(device_stats(d.control_socket(), "kv"), "frames_too_big") == 1);
}

TEST_CASE("limit counters: request_timeout_ms") {
  DaemonRunner d(R"([{"name": "wrslow", "plugin": "probe_wr.so", "limits": {"request_timeout_ms": 100}}])",
                 kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("wrslow");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "hang")) == "wrote 4");
  CHECK(outcome(c->read(1, 100, 3000)) == "err:ETIMEDOUT");
  const json s = device_stats(d.control_socket(), "wrslow");
  CHECK(limit(s, "request_timeouts") == 1);
  CHECK(errno_count(s, "ETIMEDOUT") == 1);
  // The timed-out read's latency is the timeout, roughly.
  CHECK(s["latency_us"]["read"]["max"].get<double>() >= 90'000);
}

TEST_CASE("limit counters: max_buffered_bytes refusals (P1 push, would block)") {
  DaemonRunner d(R"([{"name": "echosmall", "plugin": "echo.so", "limits": {"max_buffered_bytes": 8}}])",
                 kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("echosmall");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "12345")) == "wrote 5");
  CHECK(outcome(c->write(1, "67890")) != "wrote 5");  // echo's push was refused
  CHECK(limit(device_stats(d.control_socket(), "echosmall"), "buffer_full") >= 1);
}

TEST_CASE("limit counters: max_events drops the oldest events of a listener that does not read (P3)") {
  DaemonRunner d(R"([{"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 5},
                      "limits": {"max_events": 2}}])",
                 kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("ticker");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0)) == "opened");
  // Ticks keep coming; only 2 stay queued for this listener.
  CHECK(wait_limit(d, "ticker", "dropped_events", 3) >= 3);
  const std::string first = outcome(c->read(1, 4096, 3000));
  CHECK(first.rfind("data:tick ", 0) == 0);
  CHECK(first != "data:tick 1\n");  // tick 1 was dropped
}

TEST_CASE("limit counters: max_connections refusals") {
  const std::string dir = bentos::test::make_temp_dir("bentos-ctl-maxconn");
  bentos::test::write_text(dir + "/host.json", R"({"host": {"max_connections": 1}, "devices": []})");
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}])",
                 {"--config", dir + "/host.json", "--control-socket", "@DIR@/control.sock"});
  REQUIRE(d.ready());
  // The runner's readiness probe may hold the one slot for a moment.
  std::unique_ptr<bentos::client::Connection> held;
  for (int attempt = 0; attempt < 100 && !held; ++attempt) {
    auto c = d.connect("kv");
    if (c && outcome(c->open(1, kRdwr, 500)) == "opened") held = std::move(c);
  }
  REQUIRE(held);
  const uint64_t before = limit(device_stats(d.control_socket(), "kv"), "connections_over_max");
  auto refused = d.connect("kv");
  REQUIRE(refused);
  CHECK(refused->wait_closed(3000));
  const json s = device_stats(d.control_socket(), "kv");
  CHECK(limit(s, "connections_over_max") == before + 1);
  CHECK(limit(s, "peers_refused") == 0);
  // The control socket is not a device connection: it still answers.
  CHECK(s["connections"] == 1);
  bentos::test::remove_tree(dir);
}

TEST_CASE("limit counters: peers outside allowed_uids are refused and counted") {
  // Nobody here runs as uid 4242424: every connection is refused, the
  // runner's readiness probe included.
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so", "allowed_uids": [4242424]}])", kControlArgs);
  REQUIRE(d.ready());
  for (int i = 0; i < 3; ++i) {
    auto c = d.connect("kv");
    REQUIRE(c);
    CHECK(c->wait_closed(3000));
  }
  CHECK(wait_limit(d, "kv", "peers_refused", 4) == 4);
  const json s = device_stats(d.control_socket(), "kv");
  CHECK(limit(s, "connections_over_max") == 0);
  CHECK(s["connections_accepted"] == 0);
}

TEST_CASE("bentosctl stats prints a table per device with ops, latency, errors and limits") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])", kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
  std::string out;
  REQUIRE(bentos::test::run_program({bentos::test::bentosctl_path(), "stats", "--control-socket", d.control_socket()},
                                    out) == 0);
  const auto has = [&out](const std::string& s) { return out.find(s) != std::string::npos; };
  CHECK_MESSAGE(has("kv: connections 1, sessions 1 (opened 1), requests 2"), out);
  CHECK(has("OP"));
  CHECK(has("P50_US"));
  CHECK(has("P99_US"));
  CHECK(has("errors: EAGAIN (11) 1"));
  CHECK(has("limits: frames_too_big 0"));
  CHECK(has("hello: connections 0"));
  CHECK(has("no requests yet"));
  REQUIRE(bentos::test::run_program(
              {bentos::test::bentosctl_path(), "stats", "kv", "--json", "--control-socket", d.control_socket()}, out) == 0);
  const json answer = json::parse(out);
  CHECK(answer["devices"][0]["requests"]["read"] == 1);
}

TEST_CASE("bentosctl stats --json lists every device with live counters; an unknown host command exits 1") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"}])", kControlArgs);
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  REQUIRE(c->open(1, 2));
  REQUIRE(c->open(2, 2));
  std::string out;
  REQUIRE(run_program({bentosctl_path(), "stats", "--control-socket", d.control_socket(), "--json"}, out) == 0);
  const auto stats = nlohmann::json::parse(out);
  REQUIRE(stats["devices"].size() == 2);
  nlohmann::json kv;
  for (const auto& dev : stats["devices"]) {
    if (dev["name"] == "kv") kv = dev;
  }
  REQUIRE(kv.is_object());
  CHECK(kv["sessions"] == 2);
  CHECK(kv["connections"] == 1);
  CHECK(kv["sessions_opened"] == 2);
  CHECK(run_program({bentosctl_path(), "host", d.control_socket(), "frobnicate"}, out) == 1);
  CHECK(out.find("unknown command") != std::string::npos);
}
