// The `metrics` text (host/daemon/metrics_text.h) from DeviceStats fed by
// hand: it parses strictly, every counter carries the value it was given,
// histogram buckets count exactly the samples below each bound, and label
// values are escaped.
#include <doctest/doctest.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "daemon/metrics_text.h"
#include "prom_text.h"

using bentos::daemon::DeviceMetrics;
using bentos::daemon::HostMetrics;
using bentos::daemon::metrics_text;
using bentos::device::DeviceStats;
using bentos::wire::OpKind;
using bentos::wire::Reply;
namespace prom = bentos::test::prom;

namespace {

prom::Exposition parsed(const HostMetrics& m) {
  prom::Exposition e;
  std::string error;
  const std::string text = metrics_text(m);
  REQUIRE_MESSAGE(prom::parse(text, e, error), error << "\n" << text);
  return e;
}

// The value of the one sample of `family` named `name` whose labels include
// `labels`; fails the test when there is not exactly one.
double value_of(const prom::Exposition& e, const std::string& family, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  const prom::Family* f = e.family(family);
  REQUIRE_MESSAGE(f, "no family " << family);
  const prom::Sample* found = nullptr;
  int matches = 0;
  for (const prom::Sample& s : f->samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) all = all && s.labels.count(k) && s.labels.at(k) == v;
    if (all) {
      found = &s;
      ++matches;
    }
  }
  REQUIRE_MESSAGE(matches == 1, matches << " samples " << name << " match");
  return found->value;
}

double value_of(const prom::Exposition& e, const std::string& family,
                const std::map<std::string, std::string>& labels) {
  return value_of(e, family, family, labels);
}

// The le label of 2^power ns, as the text writes it.
std::string le_of(unsigned power) {
  const double seconds = static_cast<double>(uint64_t{1} << power) / 1e9;
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, seconds);
  return std::string(buf, r.ptr);
}

}  // namespace

TEST_CASE("every counter of stats comes out with its device, op, errno and limit labels") {
  DeviceStats kv, hello;
  for (int i = 0; i < 3; ++i) kv.request_decoded(OpKind::read);
  kv.request_decoded(OpKind::open);
  kv.reply_encoded(Reply::opened());
  kv.reply_encoded(Reply::error(EAGAIN));
  kv.reply_encoded(Reply::error(EAGAIN));
  kv.reply_encoded(Reply::error(1000));  // beyond kErrnos: slot 0, "other"
  kv.bytes_in = 123;
  kv.bytes_out = 456;
  kv.connections_accepted = 7;
  kv.sessions_opened = 5;
  kv.malformed_frames = 2;
  kv.limits = {1, 2, 3, 4, 5};
  kv.buffer_full->store(6);
  HostMetrics m{"9.8.7", 12.5, 1024,
                {DeviceMetrics{"kv", &kv, 2, 1, 8, 9, 10}, DeviceMetrics{"hello", &hello, 0, 0, 0, 0, 0}}};
  const prom::Exposition e = parsed(m);
  CHECK(prom::check_naming(e, "bentos_") == "");
  CHECK(prom::check_histograms(e) == "");

  CHECK(value_of(e, "bentos_build_info", {{"version", "9.8.7"}}) == 1);
  CHECK(value_of(e, "bentos_uptime_seconds", {}) == 12.5);
  CHECK(value_of(e, "bentos_devices", {}) == 2);
  CHECK(value_of(e, "bentos_connections", {}) == 2);
  CHECK(value_of(e, "bentos_sessions", {}) == 1);
  CHECK(value_of(e, "bentos_max_connections", {}) == 1024);

  CHECK(value_of(e, "bentos_device_connections", {{"device", "kv"}}) == 2);
  CHECK(value_of(e, "bentos_device_sessions", {{"device", "kv"}}) == 1);
  CHECK(value_of(e, "bentos_device_connections_accepted_total", {{"device", "kv"}}) == 7);
  CHECK(value_of(e, "bentos_device_sessions_opened_total", {{"device", "kv"}}) == 5);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "kv"}, {"op", "read"}}) == 3);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "kv"}, {"op", "open"}}) == 1);
  // Every op is there, at 0 too, for every device.
  CHECK(e.family("bentos_device_requests_total")->samples.size() == 2 * DeviceStats::kOps);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", "hello"}, {"op", "fuse-only"}}) == 0);
  CHECK(value_of(e, "bentos_device_replies_total", {{"device", "kv"}}) == 4);
  CHECK(value_of(e, "bentos_device_errors_total", {{"device", "kv"}, {"errno", "EAGAIN"}}) == 2);
  CHECK(value_of(e, "bentos_device_errors_total", {{"device", "kv"}, {"errno", "other"}}) == 1);
  CHECK(e.family("bentos_device_errors_total")->samples.size() == 2);  // only errnos seen
  CHECK(value_of(e, "bentos_device_received_bytes_total", {{"device", "kv"}}) == 123);
  CHECK(value_of(e, "bentos_device_sent_bytes_total", {{"device", "kv"}}) == 456);
  CHECK(value_of(e, "bentos_device_malformed_frames_total", {{"device", "kv"}}) == 2);
  CHECK(value_of(e, "bentos_device_plugin_exceptions_total", {{"device", "kv"}}) == 10);
  const std::pair<const char*, double> limits[] = {
      {"frames_too_big", 1}, {"requests_too_big", 2}, {"sessions_refused", 3}, {"connections_over_max", 4},
      {"peers_refused", 5},  {"buffer_full", 6},      {"request_timeouts", 8},  {"dropped_events", 9}};
  for (const auto& [limit, want] : limits) {
    CHECK_MESSAGE(value_of(e, "bentos_device_limit_hits_total", {{"device", "kv"}, {"limit", limit}}) == want, limit);
    CHECK(value_of(e, "bentos_device_limit_hits_total", {{"device", "hello"}, {"limit", limit}}) == 0);
  }
  // No latency recorded: the family is there, with no series.
  CHECK(e.family("bentos_device_reply_latency_seconds")->samples.empty());
}

TEST_CASE("latency histograms: exact cumulative counts at each power-of-two bound, +Inf, _sum in seconds") {
  DeviceStats s;
  const uint64_t samples[] = {0, 100, 255, 256, 300, 1000, 5000, 2'000'000, uint64_t{1} << 41};
  uint64_t sum = 0;
  for (uint64_t ns : samples) {
    s.reply_written(OpKind::write, 1000, 1000 + ns);
    sum += ns;
  }
  s.reply_written(OpKind::poll, 50, 10);  // a written reading before the read: 0 ns
  const prom::Exposition e = parsed(HostMetrics{"1", 0, 1, {DeviceMetrics{"kv", &s, 0, 0, 0, 0, 0}}});
  CHECK(prom::check_histograms(e) == "");
  const std::string family = "bentos_device_reply_latency_seconds";
  const std::string bucket = family + "_bucket";
  for (unsigned power = bentos::daemon::kLatencyFirstPower; power <= bentos::daemon::kLatencyLastPower; ++power) {
    double below = 0;
    for (uint64_t ns : samples) below += ns < (uint64_t{1} << power) ? 1 : 0;
    CHECK_MESSAGE(value_of(e, family, bucket, {{"device", "kv"}, {"op", "write"}, {"le", le_of(power)}}) == below,
                  "le " << le_of(power));
  }
  CHECK(le_of(8) == "2.56e-07");
  CHECK(value_of(e, family, bucket, {{"device", "kv"}, {"op", "write"}, {"le", "2.56e-07"}}) == 3);  // 0, 100, 255
  CHECK(value_of(e, family, bucket, {{"device", "kv"}, {"op", "write"}, {"le", "+Inf"}}) == 9);
  CHECK(value_of(e, family, family + "_count", {{"device", "kv"}, {"op", "write"}}) == 9);
  CHECK(value_of(e, family, family + "_sum", {{"device", "kv"}, {"op", "write"}}) ==
        doctest::Approx(static_cast<double>(sum) / 1e9).epsilon(1e-12));
  CHECK(value_of(e, family, family + "_count", {{"device", "kv"}, {"op", "poll"}}) == 1);
  CHECK(value_of(e, family, family + "_sum", {{"device", "kv"}, {"op", "poll"}}) == 0);
  // Only ops with samples have a histogram: write and poll, each with its
  // bounds, +Inf, _sum and _count.
  CHECK(e.family(family)->samples.size() == 2 * (bentos::daemon::kLatencyBounds + 3));
}

TEST_CASE("histogram counts agree with a brute-force count over random samples") {
  DeviceStats s;
  std::mt19937_64 rng(17);
  std::vector<uint64_t> samples;
  for (int i = 0; i < 5000; ++i) {
    // Log-uniform from 1 ns to about 2^38 ns, so every bound is crossed.
    const uint64_t ns = uint64_t{1} << (rng() % 38);
    samples.push_back(ns + rng() % ns);
    s.reply_written(OpKind::read, 0, samples.back());
  }
  const prom::Exposition e = parsed(HostMetrics{"1", 0, 1, {DeviceMetrics{"d", &s, 0, 0, 0, 0, 0}}});
  const std::string family = "bentos_device_reply_latency_seconds";
  for (unsigned power = bentos::daemon::kLatencyFirstPower; power <= bentos::daemon::kLatencyLastPower; ++power) {
    double below = 0;
    for (uint64_t ns : samples) below += ns < (uint64_t{1} << power) ? 1 : 0;
    CHECK(value_of(e, family, family + "_bucket", {{"op", "read"}, {"le", le_of(power)}}) == below);
  }
}

TEST_CASE("label values are escaped: backslash, double quote, line feed") {
  DeviceStats s;
  s.request_decoded(OpKind::open);
  const std::string odd = "we\"ird\\na\nme";
  const std::string text = metrics_text(HostMetrics{"v\"1", 0, 1, {DeviceMetrics{odd, &s, 0, 0, 0, 0, 0}}});
  CHECK(text.find("device=\"we\\\"ird\\\\na\\nme\"") != std::string::npos);
  CHECK(text.find("version=\"v\\\"1\"") != std::string::npos);
  prom::Exposition e;
  std::string error;
  REQUIRE_MESSAGE(prom::parse(text, e, error), error);
  CHECK(value_of(e, "bentos_device_requests_total", {{"device", odd}, {"op", "open"}}) == 1);
}

TEST_CASE("no devices: the host families alone, still well formed") {
  const prom::Exposition e = parsed(HostMetrics{"1", 3, 64, {}});
  CHECK(value_of(e, "bentos_devices", {}) == 0);
  CHECK(e.family("bentos_device_requests_total")->samples.empty());
  CHECK(prom::check_naming(e, "bentos_") == "");
}

TEST_CASE("errno names: symbolic, 'other' for slot 0") {
  CHECK(bentos::daemon::errno_name(EAGAIN) == "EAGAIN");
  CHECK(bentos::daemon::errno_name(ETIMEDOUT) == "ETIMEDOUT");
  CHECK(bentos::daemon::errno_name(0) == "other");
}
