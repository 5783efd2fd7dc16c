// The kv example (plugins/kv, P2) through bentos/testing.hpp: its own
// behaviour, op by op, in process. The P2 rows that are the host's (EBUSY,
// the EOF window, unknown fh) stay in tests/integration/test_write_read_kv.cpp,
// which runs the same plugin under the daemon.
#include <bentos/testing.hpp>
#include <doctest/doctest.h>

namespace bt = bentos::testing;

namespace {
const std::string kKv = BENTOS_TEST_PLUGIN_DIR "/kv.so";
}

TEST_CASE("kv: set, get, missing key, trimming, '=' in the value") {
  bt::host h(kKv);
  auto f = h.open();
  CHECK(f.write("  name=bentos\n").written == 14);
  CHECK(f.flush().ok());
  CHECK(f.read().data == "OK\n");
  CHECK(f.write("name").ok());
  CHECK(f.read().data == "bentos\n");
  CHECK(f.write("absent\n").ok());
  CHECK(f.read().data == "(not found)\n");
  CHECK(f.write("eq=a=b").ok());
  CHECK(f.read().data == "OK\n");
  CHECK(f.write("eq").ok());
  CHECK(f.read().data == "a=b\n");
  // Not strict: an empty request looks up the empty key.
  CHECK(f.write("   ").ok());
  CHECK(f.read().data == "(not found)\n");
}

TEST_CASE("kv: one store per device, shared by its sessions and connections") {
  bt::host h(kKv);
  bt::host other(kKv, {.config = R"({"strict": true})"});
  auto a = h.connect().open();
  auto b = h.connect().open();
  auto c = other.open();
  CHECK(a.write("color=blue").ok());
  CHECK(a.flush().ok());
  CHECK(b.write("color").ok());
  CHECK(b.read(100).data == "blue\n");
  CHECK(c.write("color").ok());
  CHECK(c.read(100).error == ENOENT);  // another device, another store
}

TEST_CASE("kv strict: empty request or key -> EINVAL, missing key -> ENOENT, back to IDLE") {
  bt::host h(kKv, {.config = R"({"strict": true})"});
  auto f = h.open();
  CHECK(f.write(" \n").ok());
  CHECK(f.flush().error == EINVAL);
  CHECK(f.read(100).error == EAGAIN);  // the failure left the session IDLE
  CHECK(f.write("=value").ok());
  CHECK(f.read(100).error == EINVAL);
  CHECK(f.write("nokey").ok());
  CHECK(f.read(100).error == ENOENT);
  CHECK(f.write("k=v").ok());
  CHECK(f.read(100).data == "OK\n");
  CHECK(f.write("k").ok());
  CHECK(f.read(100).data == "v\n");
}

TEST_CASE("kv: a bad config fails to start, with the plugin's message") {
  CHECK_THROWS_WITH_AS(bt::host(kKv, {.config = R"({"strict": "yes"})"}), doctest::Contains("strict"),
                       bt::failure);
}

TEST_CASE("kv: the host's limits apply: EFBIG beyond max_request_bytes") {
  bt::host h(kKv, {.device = R"({"limits": {"max_request_bytes": 16}})"});
  auto f = h.open();
  CHECK(f.write("k=0123456789").written == 12);
  CHECK(f.write("abcde").error == EFBIG);  // 17 > 16, nothing appended
  CHECK(f.write("abcd").written == 4);
  CHECK(f.read(100).data == "OK\n");
  CHECK(f.write("k").ok());
  CHECK(f.read(100).data == "0123456789abcd\n");
}

TEST_CASE("kv: disconnect ends the sessions; the store stays") {
  bt::host h(kKv);
  auto& first = h.connect();
  auto f = first.open();
  CHECK(f.write("x=1").ok());
  CHECK(f.flush().ok());
  first.disconnect();
  CHECK_THROWS_AS(f.read(), bt::failure);  // an op on a closed connection
  auto g = h.open();
  CHECK(g.write("x").ok());
  CHECK(g.read().data == "1\n");
  CHECK(g.release().ok());
  CHECK(g.read().error == EIO);  // released: an unknown fh
}

TEST_CASE("kv on host workers: an answer from another thread is awaited") {
  bt::host h(kKv, {.config = R"({"delay_ms": 30})", .device = R"({"threads": 2})"});
  auto f = h.open();
  CHECK(f.write("slow=1").ok());
  auto answer = f.start_read();
  CHECK_FALSE(answer.ready());  // a worker sleeps in on_request meanwhile
  CHECK(answer.wait().data == "OK\n");
}
