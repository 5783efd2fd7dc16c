// How the host copes with plugins (behavior.md §1.1, §1.5, §1.6, §1.9,
// §1.10, §2, §4, §7 hello), against the daemon binary with the probe
// plugins: completions from other threads, late and double completions,
// timeouts, and the cleanup of sessions when a connection goes away.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <cstdint>
#include <string>
#include <thread>

#include "daemon_runner.h"
#include "outcome.h"

using bentos::client::Connection;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
namespace client = bentos::client;

namespace {

constexpr int32_t kRdwr = 2;

const char* kDevices = R"([
  {"name": "wr", "plugin": "probe_wr.so"},
  {"name": "wrslow", "plugin": "probe_wr.so", "limits": {"request_timeout_ms": 200}},
  {"name": "raw", "plugin": "probe_raw.so"},
  {"name": "rawslow", "plugin": "probe_raw.so", "limits": {"request_timeout_ms": 200}},
  {"name": "hello", "plugin": "hello.so"}
])";

using Clock = std::chrono::steady_clock;

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

// One P2 cycle: write `request`, read the answer (the read submits).
std::string ask(Connection& c, uint64_t fh, const std::string& request, uint64_t size = 4096) {
  const std::string wrote = outcome(c.write(fh, request));
  if (wrote != "wrote " + std::to_string(request.size())) return "write: " + wrote;
  return outcome(c.read(fh, size));
}

// probe_wr's instance-wide session counters.
struct Counts {
  long live = -1;
  long ended = -1;
  bool operator==(const Counts&) const = default;
};

Counts session_counts(Connection& c, uint64_t fh) {
  const std::string answer = ask(c, fh, "sessions");
  Counts n;
  if (std::sscanf(answer.c_str(), "data:%ld %ld", &n.live, &n.ended) != 2) return {};
  return n;
}

doctest::String toString(const Counts& n) {
  return ("live " + std::to_string(n.live) + " ended " + std::to_string(n.ended)).c_str();
}

// Asks probe_wr for its counters until they equal `want` or 3 s pass.
Counts wait_for_counts(Connection& c, uint64_t fh, Counts want) {
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  Counts n = session_counts(c, fh);
  while (!(n == want) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = session_counts(c, fh);
  }
  return n;
}

// probe_raw's live session count (its ioctl result), or -1.
int raw_live(Connection& c, uint64_t fh) {
  auto r = c.ioctl(fh, 0);
  return r && r->kind == bentos::wire::ReplyKind::ioctl ? r->result : -1;
}

int wait_for_raw_live(Connection& c, uint64_t fh, int want) {
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  int n = raw_live(c, fh);
  while (n != want && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = raw_live(c, fh);
  }
  return n;
}

}  // namespace

// ---- P2 (probe_wr) ---------------------------------------------------------

TEST_CASE("§4: on_request may complete from another thread, later") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(ask(*c, 1, "thread:50:hi") == "data:hi");
  // Flush-triggered, then read.
  CHECK(outcome(c->write(1, "thread:50:flushed")) == "wrote 17");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "data:flushed");
}

TEST_CASE("§1.1: a request that waits never delays later ones on the same connection") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "thread:300:slow")) == "wrote 15");
  const uint64_t slow = c->send(client::make_read(1, 100));
  const uint64_t write = c->send(client::make_write(2, "echo:quick"));
  const uint64_t read = c->send(client::make_read(2, 100));
  const uint64_t poll = c->send(client::make_poll(1, 1));
  // Replies may leave in any order, except that the slow one, which the
  // plugin answers 300 ms later, must come after every quick one.
  std::map<uint64_t, std::string> quick;
  for (int i = 0; i < 3; ++i) {
    auto r = c->next_reply();
    REQUIRE(r);
    REQUIRE_MESSAGE(r->id != slow, "the slow reply overtook a quick one");
    quick[r->id] = outcome(r);
  }
  CHECK(quick[write] == "wrote 10");
  CHECK(quick[read] == "data:quick");
  CHECK(quick[poll] == "poll:0");  // fh 1 is PROCESSING
  auto last = c->next_reply();
  REQUIRE(last);
  CHECK(last->id == slow);
  CHECK(outcome(last) == "data:slow");
}

TEST_CASE("§1.9: a plugin completing twice: the first answer counts, the second is dropped with -ESTALE and logged") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(ask(*c, 1, "last_rc") == "data:0\n");
  CHECK(ask(*c, 1, "twice") == "data:first");
  CHECK(outcome(c->read(1, 100)) == "eof");  // the EOF window; nothing of "second"
  CHECK(c->buffered_replies() == 0);         // exactly one reply
  CHECK(ask(*c, 1, "last_rc") == "data:-116\n");
  CHECK(d.wait_for_log("already answered"));
  CHECK(d.running());
}

TEST_CASE("§4: release during PROCESSING ends the session now; the trigger still gets its answer") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->open(2, kRdwr)) == "opened");
  CHECK(session_counts(*c, 2) == Counts{2, 0});
  CHECK(outcome(c->write(1, "late:200")) == "wrote 8");
  const uint64_t flush = c->send(client::make_flush(1));
  CHECK(outcome(c->release(1)) == "ok");
  // The session ended at the release, before on_request completed.
  CHECK(session_counts(*c, 2) == Counts{1, 1});
  auto reply = c->wait(flush);
  REQUIRE(reply);
  CHECK(outcome(reply) == "ok");
  CHECK(reply->fh == 1);
  CHECK(outcome(c->read(1, 100)) == "err:EIO");  // later ops: unknown fh
  CHECK(outcome(c->flush(1)) == "err:EIO");
}

TEST_CASE("§1.9: a completion for a connection that closed is dropped and logged; the daemon keeps serving") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  {
    auto gone = d.connect("wr");
    REQUIRE(gone);
    CHECK(outcome(gone->open(1, kRdwr)) == "opened");
    CHECK(outcome(gone->write(1, "late:200")) == "wrote 8");
    gone->send(client::make_flush(1));
    // Make sure the flush reached the plugin before closing.
    CHECK_FALSE(gone->next_reply(50));
  }  // closed here, with the flush unanswered
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(ask(*c, 1, "echo:served") == "data:served");
  CHECK(d.wait_for_log("its connection closed; dropped"));
  CHECK(d.running());
  CHECK(ask(*c, 1, "echo:still") == "data:still");
  CHECK(session_counts(*c, 1) == Counts{1, 1});
}

TEST_CASE("§1.5: closing a connection ends every session it opened") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto observer = d.connect("wr");
  REQUIRE(observer);
  CHECK(outcome(observer->open(9, kRdwr)) == "opened");
  CHECK(session_counts(*observer, 9) == Counts{1, 0});
  auto a = d.connect("wr");
  REQUIRE(a);
  for (uint64_t fh = 1; fh <= 3; ++fh) CHECK(outcome(a->open(fh, kRdwr)) == "opened");
  CHECK(session_counts(*observer, 9) == Counts{4, 0});
  a.reset();
  CHECK(wait_for_counts(*observer, 9, Counts{1, 3}) == Counts{1, 3});
}

TEST_CASE("§1.4: re-opening an open fh runs the old session's end hook first") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(session_counts(*c, 1) == Counts{1, 0});
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(session_counts(*c, 1) == Counts{1, 1});
}

TEST_CASE("§1.10: P2 on_request not completed in time answers ETIMEDOUT; the session returns to IDLE") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wrslow");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "hang")) == "wrote 4");
  const auto start = Clock::now();
  CHECK(outcome(c->read(1, 100, 2000)) == "err:ETIMEDOUT");
  const long took = elapsed_ms(start);
  CHECK(took >= 150);
  CHECK(took < 2000);
  CHECK(d.wait_for_log("not answered within 200 ms"));
  CHECK(outcome(c->poll(1, 1)) == "poll:4");      // IDLE
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");  // IDLE, no EOF window
  CHECK(ask(*c, 1, "echo:usable") == "data:usable");
  // Flush-triggered too.
  CHECK(outcome(c->write(1, "hang")) == "wrote 4");
  CHECK(outcome(c->flush(1, 2000)) == "err:ETIMEDOUT");
  CHECK(ask(*c, 1, "echo:again") == "data:again");
}

TEST_CASE("§1.10: a completion after the timeout is dropped; the session is not disturbed") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wrslow");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "late:400")) == "wrote 8");
  CHECK(outcome(c->read(1, 100, 2000)) == "err:ETIMEDOUT");
  // The late answer arrives ~200 ms after the timeout; it must not turn into
  // a reply or a response for the next cycle.
  CHECK(outcome(c->write(1, "echo:next")) == "wrote 9");
  CHECK(d.wait_for_log("already answered, timed out"));
  CHECK(outcome(c->read(1, 100)) == "data:next");
  CHECK(c->buffered_replies() == 0);
}

TEST_CASE("§1.9 / §4: a plugin failure answers the errno and the session returns to IDLE") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(ask(*c, 1, "fail:22") == "err:EINVAL");
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");
  CHECK(outcome(c->write(1, "fail:13")) == "wrote 7");
  CHECK(outcome(c->flush(1)) == "err:EACCES");
  CHECK(outcome(c->poll(1, 1)) == "poll:4");
  CHECK(ask(*c, 1, "echo:ok") == "data:ok");
  CHECK(ask(*c, 1, "unknown command") == "err:EINVAL");
}

TEST_CASE("§4: an empty response is delivered as buf{} (EOF)") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(ask(*c, 1, "empty") == "eof");
  CHECK(outcome(c->write(1, "empty")) == "wrote 5");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "eof");
  CHECK(ask(*c, 1, "echo:x") == "data:x");
}

TEST_CASE("§4: a large response is delivered in read-sized chunks, then the EOF window") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("wr");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "big:200000")) == "wrote 10");
  std::string all;
  int reads = 0;
  for (;;) {
    auto r = c->read(1, 65536);
    REQUIRE(r);
    REQUIRE(r->kind == bentos::wire::ReplyKind::buf);
    if (r->data.empty()) break;
    CHECK(r->data.size() <= 65536);
    all += r->data;
    REQUIRE(++reads <= 4);
  }
  CHECK(reads == 4);  // 3 x 65536 + 3392
  CHECK(all == std::string(200000, 'x'));
  CHECK(outcome(c->read(1, 65536)) == "err:EAGAIN");  // the EOF window was used once
}

// ---- raw layer (probe_raw) --------------------------------------------------

TEST_CASE("§1.10: a raw callback not completed in time answers ETIMEDOUT; the session stays usable") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("rawslow");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "hang")) == "wrote 4");
  const auto start = Clock::now();
  CHECK(outcome(c->read(1, 100, 2000)) == "err:ETIMEDOUT");
  const long took = elapsed_ms(start);
  CHECK(took >= 150);
  CHECK(took < 2000);
  CHECK(outcome(c->write(1, "fine")) == "wrote 4");
  CHECK(outcome(c->read(1, 100)) == "data:fine");
  CHECK(outcome(c->release(1)) == "ok");
}

TEST_CASE("§1.9: a raw completion of the wrong kind answers EIO and is logged") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("raw");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "badkind")) == "wrote 7");
  CHECK(outcome(c->read(1, 100)) == "err:EIO");
  CHECK(d.wait_for_log("warn: raw: plugin answered read with complete_count"));
  CHECK(outcome(c->write(1, "good")) == "wrote 4");
  CHECK(outcome(c->read(1, 100)) == "data:good");
}

TEST_CASE("§2: a raw read may complete from another thread") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("raw");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "thread")) == "wrote 6");
  CHECK(outcome(c->read(1, 100)) == "data:threaded");
  CHECK(outcome(c->read(1, 5)) == "data:threa");  // the plugin honours size
  CHECK(outcome(c->poll(1, 0)) == "poll:5");
}

TEST_CASE("§1.5: closing a connection releases its raw sessions") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto b = d.connect("raw");
  REQUIRE(b);
  CHECK(outcome(b->open(1, kRdwr)) == "opened");
  auto a = d.connect("raw");
  REQUIRE(a);
  CHECK(outcome(a->open(1, kRdwr)) == "opened");
  CHECK(outcome(a->open(2, kRdwr)) == "opened");
  CHECK(raw_live(*b, 1) == 3);
  a.reset();
  CHECK(wait_for_raw_live(*b, 1, 1) == 1);
}

TEST_CASE("§1.6: raw unknown fh: read, write, poll, ioctl -> EIO; flush, fsync, release -> success") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("raw");
  REQUIRE(c);
  CHECK(outcome(c->flush(5)) == "ok");
  CHECK(outcome(c->read(5, 100)) == "err:EIO");
  CHECK(outcome(c->write(5, "x")) == "err:EIO");
  CHECK(outcome(c->poll(5, 1)) == "err:EIO");
  CHECK(outcome(c->ioctl(5, 1)) == "err:EIO");
  CHECK(outcome(c->fsync(5)) == "ok");
  CHECK(outcome(c->release(5)) == "ok");
}

// ---- hello (§7) --------------------------------------------------------------

TEST_CASE("§7 hello: the first read greets (up to size), later reads are EOF") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("hello");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 0)) == "opened");
  CHECK(outcome(c->read(1, 4096)) == "data:Hello from BentOS!\n");
  CHECK(outcome(c->read(1, 4096)) == "eof");
  CHECK(outcome(c->read(1, 4096)) == "eof");
  // Each fh is greeted once, with only `size` bytes.
  CHECK(outcome(c->open(2, 0)) == "opened");
  CHECK(outcome(c->read(2, 5)) == "data:Hello");
  CHECK(outcome(c->read(2, 5)) == "eof");
}

TEST_CASE("§7 hello / §2 raw defaults: write, ioctl, poll ENOSYS; flush, fsync, release succeed; then unknown fh") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  auto c = d.connect("hello");
  REQUIRE(c);
  CHECK(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(outcome(c->write(1, "hi")) == "err:ENOSYS");
  CHECK(outcome(c->ioctl(1, 0x5401)) == "err:ENOSYS");
  CHECK(outcome(c->poll(1, 1)) == "err:ENOSYS");
  CHECK(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->fsync(1, true)) == "ok");
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->read(1, 100)) == "err:EIO");
  CHECK(outcome(c->release(1)) == "ok");
  CHECK(outcome(c->flush(1)) == "ok");
  // Re-open: a fresh session, greeted again.
  CHECK(outcome(c->open(1, 0)) == "opened");
  CHECK(outcome(c->read(1, 100)) == "data:Hello from BentOS!\n");
}

TEST_CASE("§1.9: a C++ exception escaping a plugin callback is contained: EIO, logged, the host serves on") {
  DaemonRunner d(R"([{"name": "probe", "plugin": "probe_wr.so"}])");
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  CHECK(outcome(c->open(1, 2)) == "opened");
  CHECK(outcome(c->write(1, "throw")) == "wrote 5");
  CHECK(outcome(c->read(1, 100)) == "err:EIO");
  CHECK(d.wait_for_log("threw a C++ exception"));
  CHECK(outcome(c->read(1, 100)) == "err:EAGAIN");  // the session went back to IDLE
  CHECK(outcome(c->write(1, "echo:alive")) == "wrote 10");
  CHECK(outcome(c->read(1, 100)) == "data:alive");
}
