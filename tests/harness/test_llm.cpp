// The llm example (plugins/llm, P4) through bentos/testing.hpp: the plugin
// loaded in process, its provider the in-tree mock (tests/support/mock_llm,
// python3, on a loopback port), so nothing leaves the machine. The answer
// comes from the plugin's HTTP thread; each read waits for it in real time.
// The integration tests (tests/integration/test_llm_*.cpp) cover the rest
// of the protocol over the daemon's sockets; these are its row of
// docs/patterns.md §7 as a driver author would test it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bentos/testing.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mock_llm.h"

namespace bt = bentos::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kPlugin = BENTOS_TEST_PLUGIN_DIR "/llm.so";
// The llm ioctls (docs/llm.md): a config setter and two queries.
constexpr uint32_t kSetMaxTokens = 0x01, kSetOutputFormat = 0x07, kGetLastError = 0x81, kGetInfo = 0x82;

// Why the mock cannot run here ("" when it can).
std::string mock_unavailable() {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) return "python3 (the mock provider) is not in PATH";
  return "";
}

bt::options openai_at(const std::string& base_url) {
  const json config = {{"provider", "openai"}, {"model", "local"}, {"base_url", base_url}, {"max_retries", 0}};
  return {.config = config.dump(), .name = "llm"};
}

// Reads records until end of file or an error (the last element: "eof" or
// the error's description); the answer is in flight from the plugin's
// thread, so each read may wait.
std::vector<std::string> read_answer(bt::file& f) {
  std::vector<std::string> out;
  for (int i = 0; i < 100; ++i) {
    const bt::reply r = f.start_read(65536).wait(10s);
    if (r.eof() || !r.ok()) {
      out.push_back(r.eof() ? "eof" : r.describe());
      return out;
    }
    out.push_back(r.data);
  }
  out.push_back("...");
  return out;
}

// A loopback port nothing listens on.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("llm: the answer streams as text records, then end of file; the request carries the input") {
  if (const std::string why = mock_unavailable(); !why.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  bentos::test::MockLlm mock;
  mock.script(json{{"pieces", json::array({json{{"text", "Hel"}}, json{{"thinking", "not shown"}}, json{{"text", "lo"}}})}});
  bt::host h(kPlugin, openai_at(mock.base_url()));
  auto f = h.open();
  CHECK(f.write("Why is the sky blue?").written == 20);
  CHECK(read_answer(f) == std::vector<std::string>{"Hel", "lo", "eof"});
  const json sent = mock.requests().back()["body"];
  CHECK(sent["model"] == "local");
  CHECK(sent["messages"].back()["content"] == "Why is the sky blue?");
  CHECK(f.release().ok());
}

TEST_CASE("llm: a config ioctl with an int32 payload shapes the request; structured output is JSON records") {
  if (const std::string why = mock_unavailable(); !why.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  bentos::test::MockLlm mock;
  mock.script(json{{"pieces", json::array({json{{"text", "ok"}}})}});
  bt::host h(kPlugin, openai_at(mock.base_url()));
  auto f = h.open();
  CHECK(f.ioctl(kSetMaxTokens, bt::payload::int32(99)).result == 0);
  CHECK(f.ioctl(kSetOutputFormat, std::string(1, '\x01')).result == 0);
  CHECK(f.ioctl(kSetMaxTokens, bt::payload::int32(0)).error == EINVAL);  // refused; 99 stays
  CHECK(f.write("q").ok());
  const std::vector<std::string> records = read_answer(f);
  REQUIRE(records.size() >= 2);
  CHECK(records.back() == "eof");
  CHECK(json::parse(records.front()) == json::parse(R"({"v":1,"type":"text_delta","text":"ok"})"));
  CHECK(mock.requests().back()["body"]["max_tokens"] == 99);
  CHECK(json::parse(f.ioctl(kGetInfo).data)["provider"] == "openai");
}

TEST_CASE("llm: no provider listening: the read answers ECONNREFUSED and GET_LAST_ERROR says why") {
  // No mock needed: nothing listens on the port.
  bt::host h(kPlugin, openai_at("http://127.0.0.1:" + std::to_string(closed_port())));
  auto f = h.open();
  CHECK(f.write("q").ok());
  const bt::reply r = f.start_read().wait(10s);
  CHECK(r.error == ECONNREFUSED);
  const json err = json::parse(f.ioctl(kGetLastError).data);
  CHECK(err["kind"] == "network_error");
  CHECK(err["message"].get<std::string>().find("connection refused") != std::string::npos);
}
