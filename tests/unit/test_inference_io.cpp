// bentos/inference/io.hpp, utf8.hpp and errors.hpp: both input formats
// (and their refusals), both output formats per chunk type, the errno table
// of inference.md §6, and how HTTP answers and error types become kinds.

#include <doctest/doctest.h>

#include <bentos/inference.hpp>

#include <cerrno>
#include <string>
#include <vector>

namespace inf = bentos::inference;
using bentos::record_list;

namespace {

int decode_errno(const record_list& records, inf::format fmt) {
  try {
    inf::decode_input(records, fmt);
  } catch (const bentos::error::driver_error& e) {
    return e.code();
  }
  return 0;
}

inf::message user_text(std::string text) {
  return inf::message{inf::role::user, {inf::text_part{"text/plain", std::move(text)}}, {}, std::nullopt};
}

}  // namespace

TEST_CASE("strict UTF-8") {
  CHECK(inf::valid_utf8(""));
  CHECK(inf::valid_utf8("plain ascii\n"));
  CHECK(inf::valid_utf8("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"));
  CHECK(inf::valid_utf8(std::string("a\0b", 3)));
  for (const char* bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x41", "\xe0\x9f\xbf", "\xed\xa0\x80",
                          "\xed\xbf\xbf", "\xe1\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                          "\xf0\x90\x80", "\xff", "ok\xfe"}) {
    CAPTURE(bad);
    CHECK_FALSE(inf::valid_utf8(bad));
  }
}

TEST_CASE("unstructured input: the records concatenated are one user text message") {
  CHECK(inf::decode_input({"Why is the sky ", "blue?\n"}, inf::format::unstructured) ==
        std::vector<inf::message>{user_text("Why is the sky blue?\n")});
  CHECK(inf::decode_input({}, inf::format::unstructured) == std::vector<inf::message>{user_text("")});
  CHECK(inf::decode_input({""}, inf::format::unstructured) == std::vector<inf::message>{user_text("")});
  // A character split across two writes is still one character.
  CHECK(inf::decode_input({"caf\xc3", "\xa9"}, inf::format::unstructured) ==
        std::vector<inf::message>{user_text("caf\xc3\xa9")});
  // JSON is just text here.
  CHECK(inf::decode_input({R"([{"role":"user"}])"}, inf::format::unstructured) ==
        std::vector<inf::message>{user_text(R"([{"role":"user"}])")});
  CHECK(decode_errno({"ok", "\xff"}, inf::format::unstructured) == EINVAL);
  CHECK(decode_errno({"caf\xc3"}, inf::format::unstructured) == EINVAL);
}

TEST_CASE("structured input: a JSON array of messages, possibly over several writes") {
  const std::string array = R"([{"role":"system","content":[{"mime_type":"text/plain","text":"Be brief."}]},)"
                            R"({"role":"user","content":[{"mime_type":"text/plain","text":"Hi"}]}])";
  auto one = inf::decode_input({array}, inf::format::structured);
  REQUIRE(one.size() == 2);
  CHECK(one[0].role == inf::role::system);
  CHECK(one[1] == user_text("Hi"));
  auto split = inf::decode_input({array.substr(0, 10), array.substr(10, 30), array.substr(40)}, inf::format::structured);
  CHECK(split == one);
}

TEST_CASE("structured input: otherwise one JSON message per record") {
  auto msgs = inf::decode_input({R"({"role":"user","content":[{"mime_type":"text/plain","text":"a"}]})",
                                 R"({"role":"assistant","content":[{"mime_type":"text/plain","text":"b"}]})",
                                 R"({"role":"user","content":[{"mime_type":"text/plain","text":"c"}]})"},
                                inf::format::structured);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[1].role == inf::role::assistant);
  CHECK(msgs[2] == user_text("c"));
  CHECK(inf::decode_input({R"({"role":"user"})"}, inf::format::structured).size() == 1);
}

TEST_CASE("structured input: everything else is EINVAL") {
  const inf::format s = inf::format::structured;
  CHECK(decode_errno({}, s) == EINVAL);                                      // no message at all
  CHECK(decode_errno({"[]"}, s) == EINVAL);                                  // an empty conversation
  CHECK(decode_errno({"Why is the sky blue?"}, s) == EINVAL);                // text
  CHECK(decode_errno({R"({"role":"user"})", ""}, s) == EINVAL);              // an empty record
  CHECK(decode_errno({R"({"role":"user",)", R"("content":[]})"}, s) == EINVAL);  // one message over two writes
  CHECK(decode_errno({R"([{"role":"user"},1])"}, s) == EINVAL);              // an array with a non-message
  CHECK(decode_errno({R"([{"role":"robot"}])"}, s) == EINVAL);
  CHECK(decode_errno({R"("hello")"}, s) == EINVAL);                          // JSON, but not a message
  CHECK(decode_errno({"{\"role\":\"user\",\"content\":[{\"text\":\"\xff\"}]}"}, s) == EINVAL);  // invalid UTF-8
  CHECK(decode_errno({R"({"role":"user","content":[{"mime_type":"video/mp4","data":"x"}]})"}, s) == EINVAL);
}

TEST_CASE("structured output: every chunk is one compact JSON record") {
  const inf::format s = inf::format::structured;
  std::vector<inf::chunk> chunks{inf::text_delta{"Hi"},       inf::thinking_delta{"hmm"},
                                 inf::redacted_thinking_delta{"x"}, inf::tool_call_start{"t1", "f"},
                                 inf::tool_call_delta{"t1", "{"},   inf::complete{{"m", inf::stop_reason::end_turn, {}}},
                                 inf::text_delta{""}};
  for (const inf::chunk& c : chunks) {
    CAPTURE(c.index());
    auto record = inf::encode_output(c, s);
    REQUIRE(record);
    CHECK(*record == inf::encode(c));
    CHECK(inf::chunk_from_json(inf::parse_json(*record)) == c);
  }
  CHECK(*inf::encode_output(inf::text_delta{"Hi"}, s) == R"({"v":1,"type":"text_delta","text":"Hi"})");
}

TEST_CASE("unstructured output: only text_delta's text; everything else no record") {
  const inf::format u = inf::format::unstructured;
  CHECK(inf::encode_output(inf::text_delta{"The sky"}, u) == std::optional<std::string>("The sky"));
  CHECK(inf::encode_output(inf::text_delta{"{\"v\":1}"}, u) == std::optional<std::string>("{\"v\":1}"));
  CHECK_FALSE(inf::encode_output(inf::text_delta{""}, u));  // would be a zero-length record
  CHECK_FALSE(inf::encode_output(inf::thinking_delta{"hmm"}, u));
  CHECK_FALSE(inf::encode_output(inf::redacted_thinking_delta{"x"}, u));
  CHECK_FALSE(inf::encode_output(inf::tool_call_start{"t", "f"}, u));
  CHECK_FALSE(inf::encode_output(inf::tool_call_delta{"t", "{}"}, u));
  CHECK_FALSE(inf::encode_output(inf::complete{{"m", inf::stop_reason::end_turn, {}}}, u));
}

TEST_CASE("the errno table of §6") {
  using k = inf::error_kind;
  CHECK(inf::errno_of(k::invalid_request) == 22);
  CHECK(inf::errno_of(k::authentication) == 13);
  CHECK(inf::errno_of(k::permission) == 1);
  CHECK(inf::errno_of(k::context_exceeded) == 7);
  CHECK(inf::errno_of(k::rate_limited) == 11);
  CHECK(inf::errno_of(k::insufficient_quota) == 122);
  CHECK(inf::errno_of(k::server_error) == 5);
  CHECK(inf::errno_of(k::overloaded) == 16);
  CHECK(inf::errno_of(k::network_error) == 104);
  CHECK(inf::errno_of(k::timeout) == 110);
  CHECK(inf::errno_of(k::content_policy) == 1);
  CHECK(inf::errno_of(k::unknown) == 5);
  // A refused connection says so.
  CHECK(inf::errno_of(inf::provider_error{k::network_error, "refused", std::nullopt, ECONNREFUSED}) == 111);
  CHECK(inf::errno_of(inf::provider_error{k::network_error, "reset", std::nullopt, std::nullopt}) == 104);
  CHECK(inf::errno_of(inf::provider_error{k::timeout, "idle", std::nullopt, 0}) == 110);
}

TEST_CASE("retryable kinds") {
  using k = inf::error_kind;
  for (k kind : {k::rate_limited, k::overloaded, k::server_error, k::network_error}) CHECK(inf::retryable(kind));
  for (k kind : {k::invalid_request, k::authentication, k::permission, k::context_exceeded, k::insufficient_quota,
                 k::timeout, k::content_policy, k::unknown}) {
    CHECK_FALSE(inf::retryable(kind));
  }
}

TEST_CASE("HTTP status classification") {
  using k = inf::error_kind;
  CHECK(inf::classify_http(400) == k::invalid_request);
  CHECK(inf::classify_http(404) == k::invalid_request);
  CHECK(inf::classify_http(422) == k::invalid_request);
  CHECK(inf::classify_http(401) == k::authentication);
  CHECK(inf::classify_http(403) == k::permission);
  CHECK(inf::classify_http(413) == k::context_exceeded);
  CHECK(inf::classify_http(429) == k::rate_limited);
  CHECK(inf::classify_http(402) == k::insufficient_quota);
  for (int s : {500, 502, 503, 504}) CHECK(inf::classify_http(s) == k::server_error);
  CHECK(inf::classify_http(529) == k::overloaded);
  for (int s : {405, 409, 418, 501, 505, 302}) {
    CAPTURE(s);
    CHECK(inf::classify_http(s) == k::unknown);
  }
  // Refinements by the body.
  CHECK(inf::classify_http(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum") ==
        k::context_exceeded);
  CHECK(inf::classify_http(400, "", "This model's maximum context length is 8192 tokens") == k::context_exceeded);
  CHECK(inf::classify_http(400, "context_length_exceeded", "") == k::context_exceeded);
  CHECK(inf::classify_http(400, "invalid_request_error", "max_tokens: must be positive") == k::invalid_request);
  CHECK(inf::classify_http(404, "not_found_error", "model: context window") == k::invalid_request);
  CHECK(inf::classify_http(429, "insufficient_quota", "You exceeded your current quota") == k::insufficient_quota);
  CHECK(inf::classify_http(429, "rate_limit_error", "Number of requests has exceeded your rate limit") == k::rate_limited);
  // A status outside the table falls back to the type.
  CHECK(inf::classify_http(418, "overloaded_error") == k::overloaded);
}

TEST_CASE("error events in a 200 stream are classified by their type") {
  using k = inf::error_kind;
  CHECK(inf::classify_http(200, "invalid_request_error") == k::invalid_request);
  CHECK(inf::classify_http(200, "authentication_error") == k::authentication);
  CHECK(inf::classify_http(200, "permission_error") == k::permission);
  CHECK(inf::classify_http(200, "not_found_error") == k::invalid_request);
  CHECK(inf::classify_http(200, "request_too_large") == k::context_exceeded);
  CHECK(inf::classify_http(200, "rate_limit_error") == k::rate_limited);
  CHECK(inf::classify_http(200, "api_error") == k::server_error);
  CHECK(inf::classify_http(200, "overloaded_error") == k::overloaded);
  CHECK(inf::classify_http(0, "overloaded_error") == k::overloaded);
  CHECK(inf::classify_http(200, "invalid_request_error", "prompt is too long") == k::context_exceeded);
  CHECK(inf::classify_http(200, "something_new") == k::unknown);
  CHECK(inf::classify_http(200) == k::unknown);
  CHECK(inf::kind_from_error_type("insufficient_quota") == k::insufficient_quota);
}

TEST_CASE("provider_failure carries the error and its errno") {
  inf::provider_error e{inf::error_kind::authentication, "no API key configured", std::nullopt, std::nullopt};
  inf::provider_failure f(e);
  CHECK(f.code() == EACCES);
  CHECK(f.failure() == e);
  CHECK(std::string(f.what()) == "authentication: no API key configured");
}
