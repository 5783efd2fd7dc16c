// bentos/testing.hpp itself: a driver class compiled into this test binary,
// answers from another thread, payload helpers, and the plugin bugs the
// harness must turn into failures (completing twice, the wrong kind, after
// the connection went).
#include <bentos/driver.hpp>
#include <bentos/testing.hpp>
#include <doctest/doctest.h>

#include <fcntl.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bt = bentos::testing;
using namespace std::chrono_literals;

namespace {

// P2 through the C++ layer, answering each request from a thread of its
// own a few milliseconds later. Owned by the host; on_request runs on the
// loop, the answers on the driver's threads, joined in the destructor.
class LateUpper {
 public:
  LateUpper(const bentos::device_config&, bentos::host_handle) {}
  ~LateUpper() {
    for (auto& t : threads_) t.join();
  }
  void on_request(std::string_view request, bentos::reply r) {
    threads_.emplace_back([text = std::string(request), r] {
      std::this_thread::sleep_for(5ms);
      std::string out = text;
      for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      r.send(out);
    });
  }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace

BENTOS_WRITE_READ_DRIVER(LateUpper, "late-upper", "1.0", "answers upper-cased, later, from a thread");

namespace {

// P2 through the C ABI, misbehaving on purpose: the request text says how.
// "twice": answers twice; "count": answers a read with a write's kind;
// "keep": keeps the call for complete_kept() to answer later. Loop thread.
struct Misbehaving {
  const bentos_host_services* services = nullptr;
  bentos_call* kept = nullptr;
};
Misbehaving g_misbehaving;

int32_t misbehaving_create(bentos_host*, const bentos_host_services* services, const char*, uint64_t,
                           void** instance, char*, uint64_t) {
  g_misbehaving = Misbehaving{services, nullptr};
  *instance = &g_misbehaving;
  return 0;
}
void misbehaving_destroy(void*) {}

int32_t misbehaving_request(void*, void*, bentos_call* call, const uint8_t* data, uint64_t len) {
  const std::string text(reinterpret_cast<const char*>(data), len);
  const bentos_host_services* s = g_misbehaving.services;
  if (text == "twice") {
    s->complete_bytes(call, "one", 3);
    s->complete_bytes(call, "two", 3);
  } else if (text == "count") {
    s->complete_count(call, 1);
  } else if (text == "keep") {
    g_misbehaving.kept = call;
  } else {
    s->complete_bytes(call, "fine", 4);
  }
  return 0;
}

int32_t complete_kept() { return g_misbehaving.services->complete_bytes(g_misbehaving.kept, "late", 4); }

const bentos_write_read_ops kMisbehavingOps = {sizeof(bentos_write_read_ops), 0, nullptr, nullptr,
                                               &misbehaving_request};

const bentos_driver* misbehaving_entry(uint32_t, uint32_t) {
  static bentos_driver d = [] {
    bentos_driver x{};
    x.struct_size = sizeof x;
    x.abi_major = BENTOS_ABI_MAJOR;
    x.abi_minor = BENTOS_ABI_MINOR;
    x.pattern = BENTOS_PATTERN_WRITE_READ;
    x.name = "misbehaving";
    x.version = "1.0";
    x.description = "breaks the completion rules on request";
    x.create = &misbehaving_create;
    x.destroy = &misbehaving_destroy;
    x.ops = &kMisbehavingOps;
    return x;
  }();
  return &d;
}

}  // namespace

TEST_CASE("a driver class from the test binary, answering from its own thread") {
  bt::host h(&bentos_driver_entry_v1);
  auto f = h.open();
  CHECK(f.write("hello").ok());
  auto answer = f.start_read();
  CHECK(answer.wait(1s).data == "HELLO");
  CHECK(f.write("again").ok());
  CHECK(f.read().data == "AGAIN");  // read() waits too
}

TEST_CASE("payload helpers encode little-endian and decode the same") {
  bt::reply r;
  r.data = bt::payload::int32(-2);
  CHECK(r.data == std::string("\xfe\xff\xff\xff", 4));
  CHECK(r.as_int32() == -2);
  r.data = bt::payload::float64(0.25);
  CHECK(r.as_float64() == 0.25);
  CHECK_THROWS_AS(r.as_int32(), bt::failure);  // 8 bytes are not an int32
  CHECK(bt::payload::json(R"({"a": 1})") == R"({"a": 1})");
  CHECK_THROWS_AS(bt::payload::json("{a"), bt::failure);
}

TEST_CASE("completing twice fails the next op, naming the bug") {
  bt::host h(&misbehaving_entry);
  auto f = h.open();
  CHECK(f.write("twice").ok());
  CHECK_THROWS_WITH_AS(f.read(), doctest::Contains("already answered"), bt::failure);
  // Reported once: the session goes on.
  CHECK(f.write("ok").ok());
  CHECK(f.read().data == "fine");
}

TEST_CASE("an expected plugin error is taken, and then nothing fails") {
  bt::host h(&misbehaving_entry);
  auto f = h.open();
  CHECK(f.write("count").ok());
  const auto r = f.start_read();
  h.expect_plugin_error("complete_count");
  CHECK(h.plugin_errors().empty());
  CHECK_THROWS_WITH_AS(h.expect_plugin_error("complete_count"), doctest::Contains("there is none"),
                       bt::failure);
}

TEST_CASE("the wrong completion kind answers EIO and is a plugin error") {
  bt::host h(&misbehaving_entry);
  auto f = h.open();
  CHECK(f.write("count").ok());
  auto answer = f.start_read();
  CHECK_THROWS_AS(answer.wait(), bt::failure);
  CHECK(h.plugin_errors().empty());  // reported by the throw
}

TEST_CASE("completing after the connection went is a plugin error") {
  bt::host h(&misbehaving_entry);
  auto& c = h.connect();
  auto f = c.open();
  CHECK(f.write("keep").ok());
  auto never = f.start_read();
  CHECK_FALSE(never.ready());
  c.disconnect();
  CHECK(complete_kept() == -ESTALE);
  h.expect_plugin_error("its connection closed");
}

TEST_CASE("a read that gets no answer times out with a hint") {
  bt::host h(&misbehaving_entry);
  auto f = h.open();
  CHECK(f.write("keep").ok());
  CHECK_THROWS_WITH_AS(f.start_read().wait(20ms), doctest::Contains("no answer within 20 ms"), bt::failure);
  CHECK(complete_kept() == 0);  // answered now: the harness drops the late reply
}

TEST_CASE("logs are captured with the device name") {
  bt::host h(BENTOS_TEST_PLUGIN_DIR "/kv.so", {.name = "store"});
  bool seen = false;
  for (const auto& line : h.logs()) seen = seen || line.find("store: store ready") != std::string::npos;
  CHECK(seen);
}

TEST_CASE("a plugin named relative to the current folder loads, as ./NAME.so in a project") {
  const auto relative = std::filesystem::relative(BENTOS_TEST_PLUGIN_DIR "/kv.so");
  REQUIRE(relative.is_relative());
  bt::host h(relative.string());
  auto f = h.open();
  CHECK(f.write("a=1").ok());
  CHECK(f.read().data == "OK\n");
}

TEST_CASE("a plugin error no op reported aborts the run at destruction, with the message") {
  // In a child process: the abort would end this test binary too.
  int out[2];
  REQUIRE(pipe(out) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], STDERR_FILENO);
    // Not doctest's crash handler: it would report the expected abort as a
    // failed test case on stdout, which scripts/test.sh counts.
    signal(SIGABRT, SIG_DFL);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    {
      bt::host h(&misbehaving_entry);
      auto f = h.open();
      f.write("keep");
      complete_kept();
      complete_kept();  // the second is the bug; no op follows to report it
    }
    _exit(0);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(text.find("no op reported") != std::string::npos);
  CHECK(text.find("already answered") != std::string::npos);
}
