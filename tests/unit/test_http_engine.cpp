// HttpEngine against mock_llm.py: streamed bytes arrive as the server sends
// them, many slow streams share the one engine thread, cancel() closes the
// connection at once and silences the handler, and failures are classified
// (refused, lost connection, idle timeout). Time bounds are generous (a
// loaded 2-core machine); the 100 ms cancellation contract is checked on
// the best of several tries and reported for each.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_engine.h"
#include "mock_llm.h"
#include "sse_parser.h"

using namespace std::chrono_literals;
using bentos::llm::HttpCompletion;
using bentos::llm::HttpEngine;
using bentos::llm::HttpError;
using bentos::llm::HttpHandler;
using bentos::llm::HttpRequest;
using bentos::llm::HttpResponse;
using bentos::llm::SseEvent;
using bentos::llm::SseParser;
using bentos::test::MockLlm;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

long long ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Everything one transfer's handler saw, with arrival times. The handler
// writes on the engine thread; the test reads under the mutex.
struct Record {
  std::mutex mutex;
  std::condition_variable cv;
  int responses = 0, completions = 0, body_calls = 0;
  HttpResponse response;
  std::string body;
  std::vector<SseEvent> events;
  std::vector<Clock::time_point> event_times;
  SseParser parser;
  HttpCompletion completion;
  Clock::time_point first_body{}, completed{};
  std::atomic<bool> cancel_returned{false};
  std::atomic<int> calls_after_cancel{0};

  HttpHandler handler() {
    return HttpHandler{
        [this](const HttpResponse& r) {
          if (cancel_returned) ++calls_after_cancel;
          std::lock_guard lock(mutex);
          ++responses;
          response = r;
        },
        [this](std::string_view bytes) {
          if (cancel_returned) ++calls_after_cancel;
          std::lock_guard lock(mutex);
          if (body_calls++ == 0) first_body = Clock::now();
          body.append(bytes);
          parser.feed(bytes, events);
          event_times.resize(events.size(), Clock::now());
          cv.notify_all();
        },
        [this](const HttpCompletion& c) {
          if (cancel_returned) ++calls_after_cancel;
          std::lock_guard lock(mutex);
          ++completions;
          completion = c;
          completed = Clock::now();
          cv.notify_all();
        }};
  }
  bool wait_complete(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return completions > 0; });
  }
  bool wait_body(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return body_calls > 0 || completions > 0; });
  }
  std::vector<std::string> texts() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.type != "content_block_delta") continue;
      const auto v = json::parse(e.data);
      if (v["delta"]["type"] == "text_delta") out.push_back(v["delta"]["text"]);
    }
    return out;
  }
};

HttpRequest anthropic_request(const MockLlm& mock, long idle_ms = 20'000) {
  HttpRequest r;
  r.url = mock.base_url() + "/v1/messages";
  r.headers = {"content-type: application/json", "x-api-key: test-key", "anthropic-version: 2023-06-01",
               "accept: text/event-stream"};
  r.body = R"({"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  r.idle_timeout_ms = idle_ms;
  return r;
}

json text_pieces(int n) {
  json pieces = json::array();
  for (int i = 0; i < n; ++i) pieces.push_back({{"text", "p" + std::to_string(i)}});
  return pieces;
}

// A port that refuses connections: bound, never listening, kept open so
// nobody else gets it meanwhile.
struct RefusingPort {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = 0;
  RefusingPort() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd); }
};

}  // namespace

TEST_CASE("HttpEngine: a stream arrives piece by piece, before the response ends") {
  MockLlm mock;
  mock.script({{"pieces", text_pieces(10)}, {"pace_ms", 100}});
  HttpEngine engine;
  Record rec;
  engine.start(anthropic_request(mock), rec.handler());
  REQUIRE(rec.wait_complete());
  CHECK(rec.completion.ok());
  CHECK(rec.responses == 1);
  CHECK(rec.response.status == 200);
  CHECK(rec.response.header("content-type").value_or("") == "text/event-stream; charset=utf-8");
  const auto texts = rec.texts();
  REQUIRE(texts.size() == 10);
  CHECK(texts.front() == "p0");
  CHECK(rec.events.back().type == "message_stop");
  // The pieces are paced 100 ms apart (about 1 s in all): the first must
  // have arrived long before the last, not all at the end.
  std::lock_guard lock(rec.mutex);
  size_t first_text = 0;
  while (rec.events[first_text].type != "content_block_delta") ++first_text;
  const auto spread = ms_between(rec.event_times[first_text], rec.completed);
  MESSAGE("first piece arrived " << spread << " ms before the completion");
  CHECK(spread >= 500);
  CHECK(rec.body_calls >= 10);
  CHECK(engine.transfer_count() == 0);

  // The mock saw our request as sent.
  const auto log = mock.requests();
  REQUIRE(log.size() == 1);
  CHECK(log[0]["headers"]["x-api-key"] == "test-key");
  CHECK(log[0]["headers"]["anthropic-version"] == "2023-06-01");
  CHECK(log[0]["body"]["max_tokens"] == 64);
  CHECK(log[0]["completed"] == true);
}

TEST_CASE("HttpEngine: an OpenAI-style stream, bearer key, usage chunk and [DONE]") {
  MockLlm mock;
  mock.config({{"api_key", "sk-test"}});
  mock.script({{"pieces", json::array({{{"thinking", "hm"}}, {{"text", "Hi"}},
                                        {{"tool_call", {{"id", "c1"}, {"name", "f"}, {"arguments", "{}"}}}}})},
               {"stop_reason", "tool_use"},
               {"usage", {{"input_tokens", 3}, {"output_tokens", 4}}}});
  HttpEngine engine;
  Record rec;
  HttpRequest r;
  r.url = mock.base_url() + "/v1/chat/completions";
  r.headers = {"content-type: application/json", "authorization: Bearer sk-test"};
  r.body = R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";
  engine.start(r, rec.handler());
  REQUIRE(rec.wait_complete());
  CHECK(rec.completion.ok());
  CHECK(rec.response.status == 200);
  std::lock_guard lock(rec.mutex);
  REQUIRE(rec.events.size() == 8);  // role, thinking, text, call start, call args, finish, usage, [DONE]
  CHECK(json::parse(rec.events[1].data)["choices"][0]["delta"]["reasoning_content"] == "hm");
  CHECK(json::parse(rec.events[2].data)["choices"][0]["delta"]["content"] == "Hi");
  CHECK(json::parse(rec.events[3].data)["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "f");
  CHECK(json::parse(rec.events[5].data)["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(json::parse(rec.events[6].data)["usage"]["prompt_tokens"] == 3);
  CHECK(rec.events[7].data == "[DONE]");
}

TEST_CASE("HttpEngine: server send time to handler arrival, with the mock's {t} stamps") {
  MockLlm mock;
  json pieces = json::array();
  for (int i = 0; i < 20; ++i) pieces.push_back({{"text", "{t}"}});
  mock.script({{"pieces", pieces}, {"pace_ms", 5}, {"stamp", true}});
  HttpEngine engine;
  Record rec;
  std::vector<long long> latency_us;
  HttpHandler h = rec.handler();
  auto inner = h.on_body;
  SseParser parser;
  h.on_body = [&](std::string_view bytes) {
    const long long arrived = now_ns();
    std::vector<SseEvent> events;
    parser.feed(bytes, events);
    for (const auto& e : events) {
      const auto v = json::parse(e.data);
      if (v["type"] == "content_block_delta") latency_us.push_back((arrived - std::stoll(v["delta"]["text"].get<std::string>())) / 1000);
    }
    inner(bytes);
  };
  engine.start(anthropic_request(mock), std::move(h));
  REQUIRE(rec.wait_complete());
  REQUIRE(latency_us.size() == 20);
  std::sort(latency_us.begin(), latency_us.end());
  MESSAGE("send-to-handler latency: median " << latency_us[10] << " us, max " << latency_us.back() << " us");
  CHECK(latency_us.front() >= 0);       // one clock on both sides
  CHECK(latency_us[10] < 1'000'000);    // not buffered until the end
}

TEST_CASE("HttpEngine: 64 concurrent slow streams take about as long as one") {
  constexpr int kStreams = 64;
  MockLlm mock;
  mock.script({{"pieces", text_pieces(10)}, {"pace_ms", 100}, {"times", kStreams}});
  HttpEngine engine;
  std::vector<std::unique_ptr<Record>> recs;
  const auto t0 = Clock::now();
  for (int i = 0; i < kStreams; ++i) {
    recs.push_back(std::make_unique<Record>());
    engine.start(anthropic_request(mock), recs.back()->handler());
  }
  CHECK(engine.transfer_count() <= static_cast<size_t>(kStreams));
  for (auto& r : recs) REQUIRE(r->wait_complete(60s));
  const auto elapsed = ms_between(t0, Clock::now());
  MESSAGE(kStreams << " streams of ~1 s each took " << elapsed << " ms");
  for (auto& r : recs) {
    CHECK(r->completion.ok());
    CHECK(r->response.status == 200);
    CHECK(r->texts().size() == 10);
  }
  // One after the other would take 64 s; sharing one thread must not
  // serialize them.
  CHECK(elapsed < 10'000);
  CHECK(engine.transfer_count() == 0);
  CHECK(mock.requests().size() == kStreams);
}

TEST_CASE("HttpEngine: cancel closes the connection at once (the 100 ms contract)") {
  MockLlm mock;
  HttpEngine engine;
  constexpr int kTries = 5;
  mock.script({{"pieces", json::array({{{"text", "a"}}, {{"stall", true}}})}, {"times", kTries}});
  std::vector<long long> close_ms;
  for (int i = 0; i < kTries; ++i) {
    Record rec;
    const auto id = engine.start(anthropic_request(mock), rec.handler());
    REQUIRE(rec.wait_body());
    const long long t0 = now_ns();
    CHECK(engine.cancel(id));
    rec.cancel_returned = true;
    // cancel() returned only after the handler's last call.
    CHECK(rec.completions == 1);
    CHECK(rec.completion.error == HttpError::cancelled);
    CHECK_FALSE(engine.cancel(id));  // already over
    REQUIRE(mock.wait_requests([i](const json& log) {
      return log.size() > static_cast<size_t>(i) && log[i]["closed_early"] == true;
    }));
    close_ms.push_back((mock.requests()[i]["closed_ns"].get<long long>() - t0) / 1'000'000);
    CHECK(rec.calls_after_cancel == 0);
  }
  std::string all;
  for (auto ms : close_ms) all += std::to_string(ms) + " ";
  MESSAGE("cancel() to the mock seeing the close, ms: " << all);
  // Scheduling on a loaded machine may delay one try; the mechanism itself
  // must not (a missed wakeup would cost the engine's 1 s poll bound).
  CHECK(*std::min_element(close_ms.begin(), close_ms.end()) < 100);
  CHECK(*std::max_element(close_ms.begin(), close_ms.end()) < 900);
  CHECK(engine.transfer_count() == 0);
}

TEST_CASE("HttpEngine: no handler call after cancel() returns, whenever it is called") {
  constexpr int kTransfers = 24;
  MockLlm mock;
  mock.script({{"pieces", text_pieces(400)}, {"pace_ms", 1}, {"times", kTransfers}});
  HttpEngine engine;
  std::vector<std::unique_ptr<Record>> recs;
  std::vector<bentos::llm::TransferId> ids;
  for (int i = 0; i < kTransfers; ++i) {
    recs.push_back(std::make_unique<Record>());
    ids.push_back(engine.start(anthropic_request(mock), recs.back()->handler()));
  }
  // Cancel at spread-out moments: at once (maybe before the engine took the
  // start), and while bytes are flowing.
  for (int i = 0; i < kTransfers; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(i * 5));
    const bool cancelled = engine.cancel(ids[i]);
    recs[i]->cancel_returned = true;
    std::lock_guard lock(recs[i]->mutex);
    CHECK(recs[i]->completions == 1);  // the completion came before cancel() returned
    if (cancelled) CHECK(recs[i]->completion.error == HttpError::cancelled);
  }
  std::this_thread::sleep_for(300ms);  // time for a wrongly late call to show
  for (auto& r : recs) {
    CHECK(r->calls_after_cancel == 0);
    CHECK(r->completions == 1);
  }
  CHECK(engine.transfer_count() == 0);
}

TEST_CASE("HttpEngine: a handler cancelling its own transfer gets only on_complete(cancelled) after") {
  MockLlm mock;
  mock.script({{"pieces", text_pieces(200)}, {"pace_ms", 2}});
  HttpEngine engine;
  Record rec;
  bentos::llm::TransferId id = 0;
  std::atomic<bool> ready{false};
  std::atomic<int> after{0};
  std::atomic<bool> cancel_result{false};
  HttpHandler h = rec.handler();
  auto inner_body = h.on_body;
  auto inner_complete = h.on_complete;
  h.on_body = [&](std::string_view bytes) {
    if (rec.cancel_returned) ++after;
    inner_body(bytes);
    if (ready && !rec.cancel_returned) {
      cancel_result = engine.cancel(id);
      rec.cancel_returned = true;
    }
  };
  h.on_complete = [&](const HttpCompletion& c) {
    rec.cancel_returned = false;  // on_complete is the one call allowed after
    inner_complete(c);
  };
  id = engine.start(anthropic_request(mock), std::move(h));
  ready = true;
  REQUIRE(rec.wait_complete());
  CHECK(cancel_result);
  CHECK(after == 0);
  CHECK(rec.completions == 1);
  CHECK(rec.completion.error == HttpError::cancelled);
  CHECK(mock.wait_requests([](const json& log) { return log.size() == 1 && log[0]["closed_early"] == true; }));
}

TEST_CASE("HttpEngine: a refused connection is classified as such") {
  RefusingPort refusing;
  HttpEngine engine;
  Record rec;
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(refusing.port) + "/v1/messages";
  r.body = "{}";
  engine.start(r, rec.handler());
  REQUIRE(rec.wait_complete());
  CHECK(rec.completion.error == HttpError::connection_refused);
  CHECK_FALSE(rec.completion.message.empty());
  CHECK(rec.responses == 0);
  MESSAGE("curl says: " << rec.completion.message);
}

TEST_CASE("HttpEngine: a connection lost mid-stream is a network error") {
  MockLlm mock;
  mock.script({{"pieces", json::array({{{"text", "a"}}, {{"drop", true}}})}});
  HttpEngine engine;
  Record rec;
  engine.start(anthropic_request(mock), rec.handler());
  REQUIRE(rec.wait_complete());
  CHECK(rec.completion.error == HttpError::network);
  CHECK(rec.response.status == 200);
  CHECK(rec.texts() == std::vector<std::string>{"a"});
  MESSAGE("curl says: " << rec.completion.message);
}

TEST_CASE("HttpEngine: idle timeout") {
  MockLlm mock;
  HttpEngine engine;

  SUBCASE("silence after some bytes") {
    mock.script({{"pieces", json::array({{{"text", "a"}}, {{"stall_ms", 20'000}}})}});
    Record rec;
    engine.start(anthropic_request(mock, 400), rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.completion.error == HttpError::idle_timeout);
    const auto waited = ms_between(rec.first_body, rec.completed);
    MESSAGE("idle for " << waited << " ms before the timeout");
    CHECK(waited >= 350);  // the last byte came a little after first_body
    CHECK(waited < 5'000);
    CHECK(rec.texts() == std::vector<std::string>{"a"});
    CHECK(mock.wait_requests([](const json& log) { return log.size() == 1 && log[0]["closed_early"] == true; }));
  }
  SUBCASE("no byte at all: the provider never answers") {
    mock.script({{"delay_ms", 20'000}});
    Record rec;
    const auto t0 = Clock::now();
    engine.start(anthropic_request(mock, 400), rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.completion.error == HttpError::idle_timeout);
    CHECK(rec.responses == 0);
    CHECK(ms_between(t0, rec.completed) >= 400);
  }
  SUBCASE("a slow but steady stream is not idle") {
    mock.script({{"pieces", text_pieces(8)}, {"pace_ms", 150}});
    Record rec;
    const auto t0 = Clock::now();
    engine.start(anthropic_request(mock, 1'000), rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.completion.ok());
    CHECK(ms_between(t0, rec.completed) > 1'000);  // longer than the idle limit in all
    CHECK(rec.texts().size() == 8);
  }
}

TEST_CASE("HttpEngine: an error status comes with its headers and body, and completes ok") {
  MockLlm mock;
  HttpEngine engine;
  SUBCASE("Anthropic 429 with Retry-After") {
    mock.script({{"status", 429}, {"headers", {{"Retry-After", "7"}}}});
    Record rec;
    engine.start(anthropic_request(mock), rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.completion.ok());
    CHECK(rec.response.status == 429);
    CHECK(rec.response.retry_after() == std::chrono::milliseconds(7'000));
    const auto body = json::parse(rec.body);
    CHECK(body["type"] == "error");
    CHECK(body["error"]["type"] == "rate_limit_error");
  }
  SUBCASE("Anthropic 529 overloaded") {
    mock.script({{"status", 529}});
    Record rec;
    engine.start(anthropic_request(mock), rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.response.status == 529);
    CHECK(json::parse(rec.body)["error"]["type"] == "overloaded_error");
    CHECK_FALSE(rec.response.retry_after().has_value());
  }
  SUBCASE("OpenAI 401 with no Authorization header") {
    mock.config({{"api_key", "sk-test"}});
    Record rec;
    HttpRequest r;
    r.url = mock.base_url() + "/v1/chat/completions";
    r.headers = {"content-type: application/json"};
    r.body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
    engine.start(r, rec.handler());
    REQUIRE(rec.wait_complete());
    CHECK(rec.response.status == 401);
    CHECK(json::parse(rec.body)["error"]["code"] == "invalid_api_key");
    CHECK_FALSE(mock.requests()[0]["headers"].contains("authorization"));
  }
}

TEST_CASE("HttpEngine: destruction aborts running transfers with on_complete(cancelled)") {
  MockLlm mock;
  mock.script({{"pieces", json::array({{{"text", "a"}}, {{"stall", true}}})}, {"times", 3}});
  std::vector<std::unique_ptr<Record>> recs;
  {
    HttpEngine engine;
    for (int i = 0; i < 3; ++i) {
      recs.push_back(std::make_unique<Record>());
      engine.start(anthropic_request(mock), recs.back()->handler());
    }
    for (auto& r : recs) REQUIRE(r->wait_body());
  }
  for (auto& r : recs) {
    CHECK(r->completions == 1);
    CHECK(r->completion.error == HttpError::cancelled);
  }
  CHECK(mock.wait_requests([](const json& log) {
    return log.size() == 3 && std::all_of(log.begin(), log.end(), [](const json& e) { return e["closed_early"] == true; });
  }));
}

TEST_CASE("HttpEngine: a handler may start the next transfer from on_complete (a retry)") {
  MockLlm mock;
  mock.script(json::array({{{"status", 503}}, {{"pieces", text_pieces(2)}}}));
  HttpEngine engine;
  Record second;
  std::atomic<long> first_status{0};
  HttpHandler first{[&](const HttpResponse& r) { first_status = r.status; }, nullptr,
                    [&](const HttpCompletion&) { engine.start(anthropic_request(mock), second.handler()); }};
  engine.start(anthropic_request(mock), std::move(first));
  REQUIRE(second.wait_complete());
  CHECK(first_status == 503);
  CHECK(second.completion.ok());
  CHECK(second.texts().size() == 2);
}

TEST_CASE("HttpEngine: start_delay holds the transfer on the engine thread, others run meanwhile") {
  MockLlm mock;
  mock.script({{"pieces", text_pieces(1)}, {"times", 2}});
  HttpEngine engine;
  Record delayed, prompt;
  HttpRequest r = anthropic_request(mock);
  r.start_delay = 400ms;
  const auto t0 = Clock::now();
  const long long t0_ns = now_ns();
  engine.start(std::move(r), delayed.handler());
  engine.start(anthropic_request(mock), prompt.handler());
  REQUIRE(prompt.wait_complete());
  CHECK(ms_between(t0, prompt.completed) < 380);  // not queued behind the delayed one
  REQUIRE(delayed.wait_complete());
  CHECK(delayed.completion.ok());
  CHECK(delayed.texts().size() == 1);
  const json log = mock.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[1]["received_ns"].get<long long>() - t0_ns >= 400'000'000LL);  // never early
}

TEST_CASE("HttpEngine: cancel during start_delay ends it at once and sends nothing") {
  MockLlm mock;
  HttpEngine engine;
  for (bool soon : {false, true}) {
    CAPTURE(soon);
    Record rec;
    HttpRequest r = anthropic_request(mock);
    r.start_delay = 2s;
    const auto id = engine.start(std::move(r), rec.handler());
    std::this_thread::sleep_for(50ms);
    const auto t0 = Clock::now();
    if (soon) {
      engine.cancel_soon(id);
    } else {
      CHECK(engine.cancel(id));
      CHECK(rec.completions == 1);  // cancel() waited for it
    }
    REQUIRE(rec.wait_complete(1s));
    CHECK(ms_between(t0, rec.completed) < 500);
    CHECK(rec.completion.error == HttpError::cancelled);
    CHECK(rec.responses == 0);
  }
  std::this_thread::sleep_for(100ms);
  CHECK(mock.requests().empty());
  CHECK(engine.transfer_count() == 0);
}

TEST_CASE("HttpEngine: cancel_soon returns at once and the connection still closes within the contract") {
  MockLlm mock;
  HttpEngine engine;
  mock.script({{"pieces", json::array({{{"text", "a"}}, {{"stall", true}}})}});
  Record rec;
  const auto id = engine.start(anthropic_request(mock), rec.handler());
  REQUIRE(rec.wait_body());
  const long long t0 = now_ns();
  engine.cancel_soon(id);
  REQUIRE(rec.wait_complete(2s));
  CHECK(rec.completion.error == HttpError::cancelled);
  REQUIRE(mock.wait_requests([](const json& log) { return !log.empty() && log[0]["closed_early"] == true; }));
  const long long ms = (mock.requests()[0]["closed_ns"].get<long long>() - t0) / 1'000'000;
  MESSAGE("cancel_soon() to the mock seeing the close: " << ms << " ms");
  CHECK(ms < 300);
  engine.cancel_soon(id);  // already over: a no-op
  CHECK(engine.transfer_count() == 0);
}

TEST_CASE("HttpResponse: header lookup and Retry-After forms") {
  HttpResponse r;
  r.headers = {{"Content-Type", "application/json"}, {"retry-after", "2.5"}};
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("CONTENT-TYPE") == "application/json");
  CHECK_FALSE(r.header("x-missing"));
  CHECK(r.retry_after() == std::chrono::milliseconds(2'500));

  r.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  const auto date = std::chrono::system_clock::from_time_t(1445412480);  // that date
  CHECK(r.retry_after(date - std::chrono::seconds(30)) == std::chrono::milliseconds(30'000));
  CHECK(r.retry_after(date + std::chrono::seconds(30)) == std::chrono::milliseconds(0));  // past: no wait

  for (const char* bad : {"", "soon", "-1", "5s", "1.2.3"}) {
    r.headers = {{"Retry-After", bad}};
    CAPTURE(bad);
    CHECK_FALSE(r.retry_after().has_value());
  }
}
