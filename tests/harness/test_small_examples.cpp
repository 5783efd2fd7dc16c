// The hello (raw, C), playground (raw, C++) and echo (P1, C) examples
// through bentos/testing.hpp, each as its row of docs/patterns.md §7 says.
#include <bentos/testing.hpp>
#include <doctest/doctest.h>

#include <string>

namespace bt = bentos::testing;

namespace {
std::string plugin(const char* name) { return std::string(BENTOS_TEST_PLUGIN_DIR "/") + name + ".so"; }
}  // namespace

TEST_CASE("hello: the greeting once per fh, cut to the read's size; then EOF") {
  bt::host h(plugin("hello"));
  auto f = h.open(O_RDONLY);
  CHECK(f.read().data == "Hello from BentOS!\n");
  CHECK(f.read().eof());
  auto g = h.open(O_RDONLY);
  CHECK(g.read(5).data == "Hello");
  CHECK(g.read().eof());
  CHECK(g.write("x").error == ENOSYS);  // the host's raw defaults
  CHECK(g.ioctl(1).error == ENOSYS);
  CHECK(g.flush().ok());
  CHECK(g.fsync().ok());
  CHECK(g.release().ok());
}

TEST_CASE("playground: a write replaces the buffer, the next read returns it; ops are logged") {
  bt::host h(plugin("playground"));
  auto f = h.open(O_RDWR | O_NONBLOCK);
  CHECK(f.read().eof());
  CHECK(f.write("first").written == 5);
  CHECK(f.write("second").written == 6);
  CHECK(f.read(3).data == "sec");
  CHECK(f.read().eof());
  CHECK(f.ioctl(0x1234).error == ENOTTY);
  CHECK(f.poll(POLLIN).revents == 0);
  bool logged_open = false;
  for (const auto& line : h.logs()) logged_open = logged_open || line.find("O_RDWR|O_NONBLOCK") != std::string::npos;
  CHECK(logged_open);
}

TEST_CASE("echo: what an fh is written its reads return; fhs are independent") {
  bt::host h(plugin("echo"));
  auto a = h.open();
  auto b = h.open();
  CHECK(a.write("ping").written == 4);
  CHECK(b.write("other").written == 5);
  CHECK((a.poll(POLLIN).revents & POLLIN) != 0);
  CHECK(a.read().data == "ping");
  CHECK(b.read().data == "other");
  CHECK(a.read().eof());  // P1 default for an empty read
}

TEST_CASE("echo: a full output queue takes only what fits (max_buffered_bytes)") {
  bt::host h(plugin("echo"), {.device = R"({"limits": {"max_buffered_bytes": 65536}})"});
  auto f = h.open();
  const std::string big(3 * 65536, 'x');
  const auto r = f.write(big);
  REQUIRE(r.ok());
  CHECK(r.written > 0);
  CHECK(r.written < big.size());
  CHECK(f.write("more").error == EAGAIN);
}
