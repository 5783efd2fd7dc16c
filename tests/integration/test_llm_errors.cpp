// Provider errors over the wire (inference.md §6): every HTTP status of the
// table for both providers, the special 400 and 429 cases, error events in
// a 200 stream, transport failures; retries before the first record only,
// with Retry-After honoured; the per-device concurrency limit.
#include "llm_session.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace llm_test;
using bentos::test::DaemonRunner;
using bentos::test::MockLlm;

namespace {

struct Expect {
  int status;
  const char* err;
  const char* kind;
};

const Expect kTable[] = {
    {400, "err:EINVAL", "invalid_request"},    {401, "err:EACCES", "authentication"},
    {402, "err:EDQUOT", "insufficient_quota"}, {403, "err:EPERM", "permission"},
    {404, "err:EINVAL", "invalid_request"},    {413, "err:E2BIG", "context_exceeded"},
    {422, "err:EINVAL", "invalid_request"},    {429, "err:EAGAIN", "rate_limited"},
    {500, "err:EIO", "server_error"},          {502, "err:EIO", "server_error"},
    {503, "err:EIO", "server_error"},          {504, "err:EIO", "server_error"},
    {529, "err:EBUSY", "overloaded"},
};

// A TCP port nobody listens on (bound, then closed).
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

// One call on a fresh session: its records and end, and GET_ERROR (0x81).
std::vector<std::string> call(DaemonRunner& d, const std::string& device, json& last_error, bool structured = false) {
  auto c = d.connect(device);
  REQUIRE(c);
  open_session(*c, 1, structured);
  std::vector<std::string> out = ask(*c, 1, "q");
  last_error = query(*c, 1, kGetLastError);
  return out;
}

long long gap_ms(const json& log, size_t a, size_t b) {
  return (log[b]["received_ns"].get<long long>() - log[a]["received_ns"].get<long long>()) / 1'000'000;
}

}  // namespace

TEST_CASE("llm errors: every status of the table, both providers, kind and errno") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  for (const char* device : {"claude", "local"}) {
    for (const Expect& e : kTable) {
      CAPTURE(device);
      CAPTURE(e.status);
      mock.script(json{{"status", e.status}});
      json err;
      CHECK(call(d, device, err) == std::vector<std::string>{e.err});
      CHECK(err["kind"] == e.kind);
      CHECK_FALSE(err["message"].get<std::string>().empty());
      CHECK(err.contains("provider_code"));
    }
  }
}

TEST_CASE("llm errors: a 400 that says the context is too long, a 429 about quota, a content refusal, an HTML 502") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  json err;
  mock.script(json{{"status", 400}, {"error", {{"message", "prompt is too long: 210000 tokens > 200000 maximum"}}}});
  CHECK(call(d, "claude", err) == std::vector<std::string>{"err:E2BIG"});
  CHECK(err == json::parse(R"({"kind":"context_exceeded","message":"prompt is too long: 210000 tokens > 200000 maximum",)"
                           R"("provider_code":"invalid_request_error"})"));
  mock.script(json{{"status", 400},
                   {"error", {{"code", "context_length_exceeded"},
                              {"message", "This model's maximum context length is 8192 tokens."}}}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"err:E2BIG"});
  CHECK(err["provider_code"] == "context_length_exceeded");
  mock.script(json{{"status", 429}, {"error", {{"type", "insufficient_quota"}, {"code", "insufficient_quota"}}}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"err:EDQUOT"});
  CHECK(err["kind"] == "insufficient_quota");
  mock.script(json{{"status", 400}, {"error", {{"code", "content_policy_violation"}, {"message", "refused"}}}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"err:EPERM"});
  CHECK(err["kind"] == "content_policy");
  mock.script(json{{"status", 502}, {"body", "<html><body>Bad Gateway</body></html>"}});
  CHECK(call(d, "claude", err) == std::vector<std::string>{"err:EIO"});
  CHECK(err == json::parse(R"({"kind":"server_error","message":"the provider answered HTTP 502 without an error message"})"));
}

TEST_CASE("llm errors: an error event inside a 200 stream, before and after output") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  json err;
  mock.script(json{{"pieces", json::array({json{{"text", "par"}}, json{{"error", {{"type", "overloaded_error"}}}}})}});
  CHECK(call(d, "claude", err, true) ==
        std::vector<std::string>{R"({"v":1,"type":"text_delta","text":"par"})", "err:EBUSY"});
  CHECK(err == json::parse(R"({"kind":"overloaded","message":"Overloaded","provider_code":"overloaded_error"})"));
  mock.script(json{{"pieces", json::array({json{{"error", {{"type", "invalid_request_error"}, {"message", "bad"}}}}})}});
  CHECK(call(d, "claude", err) == std::vector<std::string>{"err:EINVAL"});
  CHECK(err["kind"] == "invalid_request");
  mock.script(json{{"pieces", json::array({json{{"error", {{"type", "server_error"}, {"message", "boom"}}}}})}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"err:EIO"});
  CHECK(err["kind"] == "server_error");
}

TEST_CASE("llm errors: refused, dropped mid-stream, stalled past idle_timeout_ms") {
  MockLlm mock;
  const int port = closed_port();
  json devices = json::array({device("nowhere", "openai", mock, json{{"base_url", "http://127.0.0.1:" + std::to_string(port)}}),
                              device("local", "openai", mock, json{{"idle_timeout_ms", 300}})});
  DaemonRunner d(devices.dump(), bentos::test::trust_args());
  REQUIRE(d.ready());
  json err;
  CHECK(call(d, "nowhere", err) == std::vector<std::string>{"err:ECONNREFUSED"});
  CHECK(err["kind"] == "network_error");
  CHECK(err["message"].get<std::string>().find("connection refused") != std::string::npos);

  mock.script(json{{"pieces", json::array({json{{"text", "a"}}, json{{"drop", true}}})}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"a", "err:ECONNRESET"});
  CHECK(err["kind"] == "network_error");

  mock.script(json{{"pieces", json::array({json{{"text", "a"}}, json{{"stall", true}}})}});
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(call(d, "local", err) == std::vector<std::string>{"a", "err:ETIMEDOUT"});
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= std::chrono::milliseconds(290));
  CHECK(took < std::chrono::seconds(5));
  CHECK(err["kind"] == "timeout");
}

TEST_CASE("llm retries: retryable failures before the first record, Retry-After honoured") {
  MockLlm mock;
  json devices = json::array({device("local", "openai", mock, json{{"max_retries", 2}}),
                              device("once", "openai", mock, json{{"max_retries", 1}})});
  DaemonRunner d(devices.dump(), bentos::test::trust_args());
  REQUIRE(d.ready());
  json err;
  // 503 with Retry-After: 1, then 529, then success: three requests.
  mock.script(json::array({json{{"status", 503}, {"headers", {{"Retry-After", "1"}}}}, json{{"status", 529}},
                           json{{"pieces", json::array({json{{"text", "finally"}}})}}}));
  CHECK(call(d, "local", err) == std::vector<std::string>{"finally", "eof"});
  json log = mock.requests();
  REQUIRE(log.size() == 3);
  CHECK(gap_ms(log, 0, 1) >= 990);  // Retry-After: 1 s
  CHECK(gap_ms(log, 1, 2) >= 120);  // backoff: 250 ms doubled, jittered to half at least
  CHECK(gap_ms(log, 1, 2) < 2000);
  CHECK(log[2]["body"] == log[0]["body"]);  // the same request each time

  // An error event before any output is retried too.
  mock.reset();
  mock.script(json::array({json{{"pieces", json::array({json{{"error", {{"type", "server_error"}}}}})}},
                           json{{"pieces", json::array({json{{"text", "ok"}}})}}}));
  CHECK(call(d, "local", err) == std::vector<std::string>{"ok", "eof"});
  CHECK(mock.requests().size() == 2);

  // Out of retries: the last error, after 1 + max_retries requests.
  mock.reset();
  mock.script(json{{"status", 500}, {"times", 5}});
  CHECK(call(d, "once", err) == std::vector<std::string>{"err:EIO"});
  CHECK(mock.requests().size() == 2);

  // Not retryable: one request.
  mock.reset();
  mock.script(json{{"status", 400}, {"times", 5}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"err:EINVAL"});
  CHECK(mock.requests().size() == 1);
  mock.reset();
}

TEST_CASE("llm retries: never after a record was delivered") {
  MockLlm mock;
  DaemonRunner d(json::array({device("local", "openai", mock, json{{"max_retries", 2}})}).dump(), bentos::test::trust_args());
  REQUIRE(d.ready());
  json err;
  mock.script(json{{"times", 3}, {"pieces", json::array({json{{"text", "half"}}, json{{"drop", true}}})}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"half", "err:ECONNRESET"});
  CHECK(mock.requests().size() == 1);
  mock.reset();
  mock.script(json{{"times", 3}, {"pieces", json::array({json{{"text", "half"}}, json{{"error", {{"type", "server_error"}}}}})}});
  CHECK(call(d, "local", err) == std::vector<std::string>{"half", "err:EIO"});
  CHECK(mock.requests().size() == 1);
  mock.reset();
}

TEST_CASE("llm retries: a DROP during the backoff stops it; no further request") {
  MockLlm mock;
  DaemonRunner d(json::array({device("local", "openai", mock, json{{"max_retries", 2}})}).dump(), bentos::test::trust_args());
  REQUIRE(d.ready());
  mock.script(json{{"status", 503}, {"headers", {{"Retry-After", "1"}}}, {"times", 3}});
  auto c = d.connect("local");
  REQUIRE(c);
  open_session(*c, 1);
  REQUIRE(outcome(c->write(1, "q")) == "wrote 1");
  REQUIRE(outcome(c->flush(1)) == "ok");
  REQUIRE(mock.wait_requests([](const json& log) { return log.size() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(outcome(c->ioctl(1, kDrop)) == "ioctl:0:");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(mock.requests().size() == 1);
  // The session goes on: the next call is a fresh one.
  mock.reset();
  mock.script(json{{"pieces", json::array({json{{"text", "next"}}})}});
  CHECK(ask(*c, 1, "again") == std::vector<std::string>{"next", "eof"});
}

TEST_CASE("llm: beyond max_concurrent_calls a submit answers EAGAIN with a clear GET_ERROR") {
  MockLlm mock;
  DaemonRunner d(json::array({device("local", "openai", mock, json{{"max_concurrent_calls", 2}})}).dump(),
                 bentos::test::trust_args());
  REQUIRE(d.ready());
  mock.script(json{{"times", 2}, {"pieces", json::array({json{{"text", "slow"}}, json{{"stall", true}}})}});
  auto a = d.connect("local");
  auto b = d.connect("local");
  auto c = d.connect("local");
  REQUIRE((a && b && c));
  for (auto* s : {a.get(), b.get()}) {
    open_session(*s, 1);
    REQUIRE(outcome(s->write(1, "q")) == "wrote 1");
    CHECK(outcome(s->read(1, 100)) == "data:slow");
  }
  open_session(*c, 1);
  CHECK(ask(*c, 1, "q") == std::vector<std::string>{"err:EAGAIN"});
  json err = query(*c, 1, kGetLastError);
  CHECK(err["kind"] == "rate_limited");
  CHECK(err["message"].get<std::string>().find("max_concurrent_calls is 2") != std::string::npos);
  CHECK(mock.requests().size() == 2);  // never sent
  // A slot frees when a call ends (here: DROP aborts it).
  CHECK(outcome(a->ioctl(1, kDrop)) == "ioctl:0:");
  mock.script(json{{"pieces", json::array({json{{"text", "now"}}})}});
  std::vector<std::string> got;
  for (int i = 0; i < 50; ++i) {
    got = ask(*c, 1, "q");
    if (got.front() != "err:EAGAIN") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(got == std::vector<std::string>{"now", "eof"});
}
