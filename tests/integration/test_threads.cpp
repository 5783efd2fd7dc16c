// Plugins completing, pushing, emitting and yielding from many threads at
// once; and devices whose callbacks run on host worker threads. These also
// run under ThreadSanitizer in CI (scripts/test.sh --tsan).
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::make_poll;
using bentos::client::make_read;
using bentos::client::make_write;
using bentos::test::DaemonRunner;
using bentos::test::outcome;

namespace {

constexpr int32_t kRdwr = 2;

// One field of a "k=v k=v" line.
long field(const std::string& line, const std::string& key) {
  const auto at = line.find(key + "=");
  return at == std::string::npos ? -1 : std::stol(line.substr(at + key.size() + 1));
}

}  // namespace

TEST_CASE("threads: many threads race to complete one call; exactly one answer wins") {
  DaemonRunner d(R"([{"name": "stress", "plugin": "stress.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("stress");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  constexpr int kRaces = 20;
  for (int i = 0; i < kRaces; ++i) {
    CHECK(outcome(c->write(1, "race:32")) == "wrote 7");
    const std::string o = outcome(c->read(1, 100, 5000));
    CHECK(o.rfind("data:winner ", 0) == 0);
  }
  CHECK(outcome(c->write(1, "stats")) == "wrote 5");
  const std::string stats = outcome(c->read(1, 200, 5000));
  CHECK(field(stats, "races") == kRaces);
  CHECK(field(stats, "wins") == kRaces);
  CHECK(field(stats, "stale") == kRaces * 31);
  CHECK(field(stats, "other") == 0);
}

TEST_CASE("threads: many sessions answered concurrently by a plugin's thread pool") {
  DaemonRunner d(R"([{"name": "stress", "plugin": "stress.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("stress");
  REQUIRE(c);
  constexpr int kSessions = 64;
  for (int fh = 1; fh <= kSessions; ++fh) REQUIRE(outcome(c->open(fh, kRdwr)) == "opened");
  std::map<uint64_t, int> reads;
  for (int fh = 1; fh <= kSessions; ++fh) {
    c->send(make_write(fh, "pool:s" + std::to_string(fh)));
    reads[c->send(make_read(fh, 100))] = fh;
  }
  int answered = 0;
  for (auto& [id, fh] : reads) {
    auto r = c->wait(id, 5000);
    answered += outcome(r) == "data:s" + std::to_string(fh) + "\n";
  }
  CHECK(answered == kSessions);
}

TEST_CASE("threads: events emitted from several threads reach every listener, in order per thread") {
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so",
      "config": {"threads": 4, "burst": 100, "start_delay_ms": 300},
      "limits": {"max_events": 100000}}])");
  REQUIRE(d.ready());
  auto a = d.connect("ev");
  auto b = d.connect("ev");
  REQUIRE((a && b));
  CHECK(outcome(a->open(1, 0)) == "opened");
  CHECK(outcome(b->open(1, 0)) == "opened");  // both listen before the burst starts
  for (auto* conn : {a.get(), b.get()}) {
    std::map<int, int> last;  // thread -> last k seen
    int events = 0;
    bool in_order = true;
    while (events < 400) {
      const std::string o = outcome(conn->read(1, 65536, 5000));
      REQUIRE(o.rfind("data:", 0) == 0);
      std::string data = o.substr(5);
      for (size_t at = 0; at < data.size();) {
        const size_t nl = data.find('\n', at);
        REQUIRE(nl != std::string::npos);  // whole events only
        const std::string ev = data.substr(at, nl - at);
        const int t = std::stoi(ev.substr(1, ev.find('-') - 1));
        const int k = std::stoi(ev.substr(ev.find('-') + 1));
        if (k != last[t] + 1) in_order = false;
        last[t] = k;
        ++events;
        at = nl + 1;
      }
    }
    CHECK(events == 400);
    CHECK(in_order);
  }
}

TEST_CASE("threads: P3 drop-oldest beyond max_events, per listener") {
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so",
      "config": {"threads": 1, "burst": 20}, "limits": {"max_events": 4}}])");
  REQUIRE(d.ready());
  auto c = d.connect("ev");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0x800)) == "opened");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the burst is over
  CHECK(outcome(c->read(1, 65536)) == "data:t0-17\nt0-18\nt0-19\nt0-20\n");
  CHECK(outcome(c->read(1, 65536)) == "err:EAGAIN");
}

TEST_CASE("threads: P3 activation failure answers the open EIO") {
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so", "config": {"fail_activate": true}}])");
  REQUIRE(d.ready());
  auto c = d.connect("ev");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0)) == "err:EIO");
  CHECK(outcome(c->read(1, 10)) == "err:EIO");  // no session was kept
}

TEST_CASE("threads: P1 output pushed from a thread waits for on_writable under back-pressure") {
  DaemonRunner d(R"([{"name": "st", "plugin": "probe_stream.so", "limits": {"max_buffered_bytes": 4096}}])");
  REQUIRE(d.ready());
  auto c = d.connect("st");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "flood-wait:64")) == "wrote 13");
  size_t received = 0;
  for (int i = 0; i < 2000 && received < 64 * 1024; ++i) {
    auto r = c->read(1, 1000, 3000);
    REQUIRE(r);
    if (r->kind == bentos::wire::ReplyKind::buf && r->data.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // eof mode: nothing queued yet
      continue;
    }
    received += r->data.size();
  }
  CHECK(received == 64 * 1024);
  CHECK(outcome(c->write(1, "stats")) == "wrote 5");
  std::string stats;
  for (int i = 0; i < 100 && stats.empty(); ++i) {
    auto r = c->read(1, 1000);
    if (r && !r->data.empty()) stats = r->data;
  }
  CHECK(field(stats, "queued") == 64);
  CHECK(field(stats, "refused") > 0);
  CHECK(field(stats, "writable") > 0);
}

TEST_CASE("workers: a blocking on_request runs off the loop; other sessions are answered meanwhile") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so", "config": {"delay_ms": 500}, "threads": 2}])");
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "k=v")) == "wrote 3");
  const uint64_t slow = c->send(make_read(1, 100));
  const uint64_t quick = c->send(make_poll(2, 1));
  auto first = c->next_reply(3000);
  REQUIRE(first);
  CHECK(first->id == quick);  // the loop was not blocked by the sleeping plugin
  CHECK(outcome(c->wait(slow, 3000)) == "data:OK\n");
}

TEST_CASE("workers: request_timeout_ms answers ETIMEDOUT; the late completion is dropped and logged") {
  DaemonRunner d(R"([{"name": "kv", "plugin": "kv.so", "config": {"delay_ms": 400}, "threads": 1,
                      "limits": {"request_timeout_ms": 100}}])");
  REQUIRE(d.ready());
  auto c = d.connect("kv");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "k=v")) == "wrote 3");
  CHECK(outcome(c->read(1, 100, 3000)) == "err:ETIMEDOUT");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");  // back to IDLE
  CHECK(d.wait_for_log("already answered", 3000));
}
