// The control socket's `metrics` against the real daemon after real
// traffic: the text parses strictly (tests/support/prom_text.h), every
// family has HELP and TYPE, histograms are cumulative with +Inf == _count,
// and every counter equals what `stats` and `status` say at the same
// moment. `bentosctl metrics` prints the same text; `promtool check
// metrics` accepts it when promtool is installed (Debian package
// prometheus; SKIPPED otherwise).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "control_connection.h"
#include "daemon_runner.h"
#include "outcome.h"
#include "prom_text.h"

using bentos::test::ControlConnection;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using nlohmann::json;
namespace prom = bentos::test::prom;

namespace {

constexpr int32_t kRdwr = 2;
const std::vector<std::string> kControlArgs = {"--control-socket", "@DIR@/control.sock"};
const char kDevices[] = R"([{"name": "kv", "plugin": "kv.so"}, {"name": "hello", "plugin": "hello.so"},
                            {"name": "nested/echo", "plugin": "echo.so"}])";

using Connections = std::vector<std::unique_ptr<bentos::client::Connection>>;

// Traffic that moves most counters: ops of several kinds, an errno, a
// session left open. The connections stay open (the caller holds them).
Connections make_traffic(const DaemonRunner& d) {
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
  CHECK(outcome(c->write(1, "k=v")) == "wrote 3");
  CHECK(outcome(c->read(1, 100)) == "data:OK\n");
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");  // stays open
  auto h = d.connect("hello");
  REQUIRE(h);
  CHECK(outcome(h->open(1, 0)) == "opened");
  CHECK(outcome(h->read(1, 100)).rfind("data:", 0) == 0);
  CHECK(outcome(h->release(1)) == "ok");
  Connections open;
  open.push_back(std::move(c));
  open.push_back(std::move(h));
  return open;
}

struct Snapshot {
  json stats, status;
  std::string text;
};

// stats, status, metrics, then stats again on one connection, until both
// stats agree: then nothing moved in between (a connection the daemon had
// not yet seen close, say), and the metrics are of that same moment.
Snapshot quiet_snapshot(const std::string& control) {
  ControlConnection c(control);
  REQUIRE(c.connected());
  for (int attempt = 0; attempt < 50; ++attempt) {
    Snapshot s;
    s.stats = c.ask(R"({"command": "stats"})");
    s.status = c.ask(R"({"command": "status"})");
    const json metrics = c.ask(R"({"command": "metrics"})");
    const json again = c.ask(R"({"command": "stats"})");
    REQUIRE(s.stats.value("ok", false));
    REQUIRE(s.status.value("ok", false));
    REQUIRE_MESSAGE(metrics.value("ok", false), metrics.dump());
    CHECK(metrics["content_type"] == "text/plain; version=0.0.4; charset=utf-8");
    s.text = metrics["text"].get<std::string>();
    if (again == s.stats) return s;
    usleep(20'000);
  }
  FAIL("stats kept changing while nothing was sent");
  return {};
}

double value_of(const prom::Exposition& e, const std::string& family, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  const prom::Family* f = e.family(family);
  REQUIRE_MESSAGE(f, "no family " << family);
  std::vector<double> found;
  for (const prom::Sample& s : f->samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) all = all && s.labels.count(k) && s.labels.at(k) == v;
    if (all) found.push_back(s.value);
  }
  REQUIRE_MESSAGE(found.size() == 1, found.size() << " samples of " << name << " match");
  return found[0];
}

double value_of(const prom::Exposition& e, const std::string& family,
                const std::map<std::string, std::string>& labels) {
  return value_of(e, family, family, labels);
}

// The promtool to use: $PROMTOOL, else one on PATH; "" when there is none.
std::string find_promtool() {
  if (const char* p = std::getenv("PROMTOOL"); p && *p) return p;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, colon - start) + "/promtool";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

}  // namespace

TEST_CASE("metrics: strict format, HELP and TYPE everywhere, cumulative histograms, counters equal stats") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  const Connections open = make_traffic(d);
  const Snapshot s = quiet_snapshot(d.control_socket());

  prom::Exposition e;
  std::string error;
  REQUIRE_MESSAGE(prom::parse(s.text, e, error), error << "\n" << s.text);
  CHECK(prom::check_naming(e, "bentos_") == "");
  CHECK(prom::check_histograms(e) == "");

  // The host as status sees it.
  CHECK(value_of(e, "bentos_devices", {}) == s.status["devices"].get<double>());
  CHECK(value_of(e, "bentos_connections", {}) == s.status["connections"].get<double>());
  CHECK(value_of(e, "bentos_sessions", {}) == s.status["sessions"].get<double>());
  CHECK(value_of(e, "bentos_max_connections", {}) == s.status["max_connections"].get<double>());
  CHECK(value_of(e, "bentos_build_info", {{"version", s.status["version"].get<std::string>()}}) == 1);
  CHECK(std::abs(value_of(e, "bentos_uptime_seconds", {}) - s.status["uptime_seconds"].get<double>()) < 2);
  CHECK(value_of(e, "bentos_sessions", {}) == 1);  // the kv session left open

  const auto& devices = s.stats["devices"];
  REQUIRE(devices.size() == 3);
  for (const json& dev : devices) {
    const std::string name = dev["name"];
    CAPTURE(name);
    const std::map<std::string, std::string> device{{"device", name}};
    CHECK(value_of(e, "bentos_device_connections", device) == dev["connections"].get<double>());
    CHECK(value_of(e, "bentos_device_sessions", device) == dev["sessions"].get<double>());
    CHECK(value_of(e, "bentos_device_connections_accepted_total", device) == dev["connections_accepted"].get<double>());
    CHECK(value_of(e, "bentos_device_sessions_opened_total", device) == dev["sessions_opened"].get<double>());
    CHECK(value_of(e, "bentos_device_replies_total", device) == dev["replies"].get<double>());
    CHECK(value_of(e, "bentos_device_received_bytes_total", device) == dev["bytes_in"].get<double>());
    CHECK(value_of(e, "bentos_device_sent_bytes_total", device) == dev["bytes_out"].get<double>());
    CHECK(value_of(e, "bentos_device_malformed_frames_total", device) == dev["malformed_frames"].get<double>());
    CHECK(value_of(e, "bentos_device_plugin_exceptions_total", device) == dev["plugin_exceptions"].get<double>());
    double requests = 0;
    for (const auto& [op, count] : dev["requests"].items()) {
      CHECK_MESSAGE(value_of(e, "bentos_device_requests_total", {{"device", name}, {"op", op}}) == count.get<double>(),
                    op);
      requests += value_of(e, "bentos_device_requests_total", {{"device", name}, {"op", op}});
    }
    CHECK(requests == dev["requests_total"].get<double>());
    // Errnos: the same set, the same counts.
    size_t errno_series = 0;
    for (const prom::Sample& sample : e.family("bentos_device_errors_total")->samples) {
      errno_series += sample.labels.at("device") == name;
    }
    CHECK(errno_series == dev["errors"].size());
    for (const json& err : dev["errors"]) {
      CHECK(value_of(e, "bentos_device_errors_total", {{"device", name}, {"errno", err["name"].get<std::string>()}}) ==
            err["count"].get<double>());
    }
    for (const auto& [limit, count] : dev["limits"].items()) {
      CHECK_MESSAGE(value_of(e, "bentos_device_limit_hits_total", {{"device", name}, {"limit", limit}}) ==
                        count.get<double>(),
                    limit);
    }
    // Latency: one histogram per op stats has latency for, no other.
    const std::string family = "bentos_device_reply_latency_seconds";
    std::set<std::string> ops_with_histogram;
    for (const prom::Sample& sample : e.family(family)->samples) {
      if (sample.labels.at("device") == name) ops_with_histogram.insert(sample.labels.at("op"));
    }
    CHECK(ops_with_histogram.size() == dev["latency_us"].size());
    for (const auto& [op, latency] : dev["latency_us"].items()) {
      CAPTURE(op);
      const std::map<std::string, std::string> series{{"device", name}, {"op", op}};
      const double count = latency["count"].get<double>();
      CHECK(value_of(e, family, family + "_count", series) == count);
      CHECK(value_of(e, family, family + "_bucket", {{"device", name}, {"op", op}, {"le", "+Inf"}}) == count);
      const double sum = value_of(e, family, family + "_sum", series);
      const double max_seconds = latency["max"].get<double>() / 1e6;
      CHECK(sum > 0);
      CHECK(sum <= count * (max_seconds + 5e-8));  // stats' max is rounded to 0.1 us
      // The first bound that holds every sample is above max, the one
      // before it below (stats' max is rounded to 0.1 us).
      double first_full = INFINITY, last_partial = 0;
      for (const prom::Sample& sample : e.family(family)->samples) {
        if (sample.name != family + "_bucket" || sample.labels.at("device") != name || sample.labels.at("op") != op) {
          continue;
        }
        const double le = std::stod(sample.labels.at("le") == "+Inf" ? "inf" : sample.labels.at("le"));
        if (sample.value == count) first_full = std::min(first_full, le);
        else last_partial = std::max(last_partial, le);
      }
      CHECK(first_full + 5e-8 >= max_seconds);
      CHECK(last_partial <= max_seconds + 5e-8);
    }
  }
  // The traffic above shows up at all (not just zeros compared with zeros).
  CHECK(value_of(e, "bentos_device_errors_total", {{"device", "kv"}, {"errno", "EAGAIN"}}) == 1);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "kv"}, {"op", "read"}}) == 2);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "nested/echo"}, {"op", "open"}}) == 0);
}

TEST_CASE("bentosctl metrics prints the text; exit statuses as the other host commands") {
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  const Connections open = make_traffic(d);
  const std::string ctl = bentos::test::bentosctl_path();
  std::string out;
  REQUIRE(bentos::test::run_program({ctl, "metrics", "--control-socket", d.control_socket()}, out) == 0);
  prom::Exposition e;
  std::string error;
  REQUIRE_MESSAGE(prom::parse(out, e, error), error << "\n" << out);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "kv"}, {"op", "write"}}) == 1);

  REQUIRE(bentos::test::run_program({ctl, "metrics", "--json", "--control-socket", d.control_socket()}, out) == 0);
  const json answer = json::parse(out);
  CHECK(answer["ok"] == true);
  CHECK(answer["text"].get<std::string>().rfind("# HELP bentos_", 0) == 0);

  CHECK(bentos::test::run_program({ctl, "metrics", "kv", "--control-socket", d.control_socket()}, out) == 2);
  CHECK(out.find("unexpected argument 'kv'") != std::string::npos);
  CHECK(bentos::test::run_program({ctl, "metrics", "--control-socket", d.dir() + "/nothing.sock"}, out) == 2);
  CHECK(bentos::test::run_program({ctl, "metrics", "--help"}, out) == 0);
  CHECK(out.find("metrics") != std::string::npos);

  // The control socket itself refuses a device for metrics.
  const json refused = bentos::test::ask_control(d.control_socket(), {{"command", "metrics"}, {"device", "kv"}});
  CHECK(refused["ok"] == false);
}

TEST_CASE("promtool check metrics accepts the text (when promtool is installed)") {
  const std::string promtool = find_promtool();
  if (promtool.empty()) {
    MESSAGE("SKIPPED: promtool not found (set $PROMTOOL or put it on PATH; Debian 12 package prometheus, "
            "or extract usr/bin/promtool from `apt-get download prometheus`)");
    return;
  }
  DaemonRunner d(kDevices, kControlArgs);
  REQUIRE(d.ready());
  const Connections open = make_traffic(d);
  const json answer = bentos::test::ask_control(d.control_socket(), {{"command", "metrics"}});
  REQUIRE(answer.value("ok", false));
  const std::string file = d.dir() + "/metrics.prom";
  bentos::test::write_text(file, answer["text"].get<std::string>());
  std::string out;
  // promtool reads the metrics on stdin; it exits non-zero and names the
  // problem for a format error or a lint finding.
  const int status =
      bentos::test::run_program({"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", promtool, file}, out);
  CHECK_MESSAGE(status == 0, out);
  CHECK_MESSAGE(out.empty(), out);
}
