// Requests sent together (one write, so the host handles them in one read)
// against devices whose callbacks run on workers: the orderings a reviewer
// found answered twice, never, or out of order. Each request must get
// exactly one, correct answer.
#include <doctest/doctest.h>

#include <map>

#include "daemon_runner.h"
#include "outcome.h"
#include "wire/codec.h"

using bentos::client::make_flush;
using bentos::client::make_ioctl;
using bentos::client::make_open;
using bentos::client::make_read;
using bentos::client::make_release;
using bentos::client::make_write;
using bentos::test::DaemonRunner;
using bentos::test::outcome;
using bentos::wire::Request;

namespace {

// Sends `requests` in one write, ids 1000, 1001, ...; returns the ids.
std::vector<uint64_t> send_batch(bentos::client::Connection& c, std::vector<Request> requests) {
  std::string bytes;
  std::vector<uint64_t> ids;
  uint64_t id = 1000;
  for (auto& r : requests) {
    r.id = id++;
    ids.push_back(r.id);
    bentos::wire::append_request_frame(r, bytes);
  }
  c.send_bytes(bytes);
  return ids;
}

}  // namespace

TEST_CASE("workers: a flush overtaken by DROP and a new submit is still answered") {
  DaemonRunner d(R"([{"name": "cs", "plugin": "probe_cs.so", "threads": 2}])");
  REQUIRE(d.ready());
  auto c = d.connect("cs");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, 2)) == "opened");
  const auto ids = send_batch(*c, {make_write(1, "x"), make_flush(1), make_ioctl(1, 0xBE02, "", 0),
                                   make_write(1, "y"), make_flush(1)});
  for (uint64_t id : ids) {
    INFO("request " << id);
    CHECK(outcome(c->wait(id, 3000)) != "none");
  }
}

TEST_CASE("workers: a P1 read served by a push is answered even when release follows at once") {
  DaemonRunner d(R"([{"name": "echo", "plugin": "echo.so", "read_when_empty": "block", "threads": 2}])");
  REQUIRE(d.ready());
  auto c = d.connect("echo");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, 2)) == "opened");
  const auto ids = send_batch(*c, {make_read(1, 100), make_write(1, "hi"), make_release(1)});
  CHECK(outcome(c->wait(ids[0], 3000)) == "data:hi");
  CHECK(outcome(c->wait(ids[1], 3000)) == "wrote 2");
  CHECK(outcome(c->wait(ids[2], 3000)) == "ok");
}

TEST_CASE("workers: two opens of one fh in a row end the first session (re-open rule)") {
  DaemonRunner d(R"([{"name": "cs", "plugin": "probe_cs.so", "threads": 2}])");
  REQUIRE(d.ready());
  auto c = d.connect("cs");
  REQUIRE(c);
  const auto ids = send_batch(*c, {make_open(1, 2), make_open(1, 2), make_release(1)});
  for (uint64_t id : ids) CHECK(outcome(c->wait(id, 3000)) != "none");
  REQUIRE(outcome(c->open(9, 2)) == "opened");
  auto stats = c->ioctl(9, 0x81);
  REQUIRE(stats);
  CHECK(stats->data.find("live=1 ") != std::string::npos);  // only fh 9 is left
}

TEST_CASE("workers: P4 config ioctls in a row each build on the one before") {
  // codec_probe, not synth: synth is loop-only (its pacing timer), so the
  // host refuses it workers.
  DaemonRunner d(R"([{"name": "codec", "plugin": "codec_probe.so", "threads": 2}])");
  REQUIRE(d.ready());
  auto c = d.connect("codec");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, 2)) == "opened");
  const auto ids =
      send_batch(*c, {make_ioctl(1, 0x01, std::string("abc\x07", 4), 0), make_ioctl(1, 0x02, "[42]", 0)});
  for (uint64_t id : ids) CHECK(outcome(c->wait(id, 3000)) == "ioctl:0:");
  auto cfg = c->ioctl(1, 0x80);
  REQUIRE(cfg);
  CHECK(cfg->data == "byte=7 json=[42]");
}

TEST_CASE("workers: every session_end runs when a device stops with sessions open") {
  // probe_wr counts session_start/session_end instance-wide; a host stop
  // (here: SIGTERM) must run every end hook before destroy.
  DaemonRunner d(R"([{"name": "probe", "plugin": "probe_wr.so", "threads": 2}])", {"--log-level", "debug"});
  REQUIRE(d.ready());
  auto c = d.connect("probe");
  REQUIRE(c);
  for (uint64_t fh = 1; fh <= 6; ++fh) REQUIRE(outcome(c->open(fh, 2)) == "opened");
  CHECK(outcome(c->write(1, "sessions")) == "wrote 8");
  CHECK(outcome(c->read(1, 100)) == "data:6 0\n");
  CHECK(d.stop() == 0);  // clean exit: no end hook was lost or run twice
}

TEST_CASE("workers: an open arriving while on_activate runs waits for its outcome (EIO when it fails)") {
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so", "threads": 2,
                      "config": {"fail_activate": true}}])");
  REQUIRE(d.ready());
  auto c = d.connect("ev");
  REQUIRE(c);
  const auto ids = send_batch(*c, {make_open(1, 0), make_open(2, 0), make_open(3, 0)});
  for (uint64_t id : ids) CHECK(outcome(c->wait(id, 3000)) == "err:EIO");
  // None of them stayed a listener: a new open tries to activate again.
  CHECK(outcome(c->open(4, 0)) == "err:EIO");
  CHECK(d.wait_for_log("3 open(s) waiting for it answer EIO"));
}

TEST_CASE("workers: opens arriving while on_activate runs are answered once it succeeds, and all listen") {
  // The burst starts 200 ms after activation, well after both opens.
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so", "threads": 2,
                      "config": {"burst": 1, "start_delay_ms": 200}}])");
  REQUIRE(d.ready());
  auto c = d.connect("ev");
  REQUIRE(c);
  const auto ids = send_batch(*c, {make_open(1, 0), make_open(2, 0)});
  for (uint64_t id : ids) CHECK(outcome(c->wait(id, 3000)) == "opened");
  for (uint64_t fh : {1, 2}) CHECK(outcome(c->read(fh, 100)) == "data:t0-1\n");
}

TEST_CASE("workers: the last listener leaving while on_activate runs does not deactivate a newer listener") {
  // open 1 starts activation; release 1 leaves no listener; open 2 waits for
  // the activation. The device must stay active for fh 2.
  DaemonRunner d(R"([{"name": "ev", "plugin": "probe_events.so", "threads": 2,
                      "config": {"burst": 1, "start_delay_ms": 200, "announce": true}}])");
  REQUIRE(d.ready());
  auto c = d.connect("ev");
  REQUIRE(c);
  const auto ids = send_batch(*c, {make_open(1, 0), make_release(1), make_open(2, 0)});
  CHECK(outcome(c->wait(ids[0], 3000)) == "opened");
  CHECK(outcome(c->wait(ids[1], 3000)) == "ok");
  CHECK(outcome(c->wait(ids[2], 3000)) == "opened");
  const std::string first = outcome(c->read(2, 100));
  CHECK((first == "data:activate 1\n" || first == "data:t0-1\n"));
  if (first == "data:activate 1\n") CHECK(outcome(c->read(2, 100)) == "data:t0-1\n");

  // Alone, a release during activation still deactivates once it is done:
  // the next open activates again.
  REQUIRE(outcome(c->release(2)) == "ok");
  const auto more = send_batch(*c, {make_open(3, 0), make_release(3)});
  for (uint64_t id : more) CHECK(outcome(c->wait(id, 3000)) != "none");
  CHECK(outcome(c->open(4, 0)) == "opened");
  CHECK(outcome(c->read(4, 100)) == "data:activate 3\n");
}
