// bentos/inference/json.hpp: every JSON shape of inference.md §3..§5, as
// exact bytes (compact, contract key order) and back, and the decoders'
// refusals (EINVAL).

#include <doctest/doctest.h>

#include <bentos/inference.hpp>

#include <cerrno>
#include <string>

namespace inf = bentos::inference;

namespace {

// Decodes `text` with `decode`, re-encodes it and expects the same bytes.
template <class F>
void check_round_trip(const std::string& text, F decode) {
  auto value = decode(inf::parse_json(text));
  CHECK(inf::encode(value) == text);
  CHECK(decode(inf::parse_json(inf::encode(value))) == value);
}

// The errno a throwing expression answers (0 when it does not throw).
template <class F>
int errno_from(F f) {
  try {
    f();
  } catch (const bentos::error::driver_error& e) {
    return e.code();
  }
  return 0;
}

}  // namespace

TEST_CASE("parts encode in the contract's key order, chosen by mime_type") {
  CHECK(inf::encode(inf::part{inf::text_part{"text/plain", "hi"}}) == R"({"mime_type":"text/plain","text":"hi"})");
  CHECK(inf::encode(inf::part{inf::text_part{"text/markdown", "*x*"}}) ==
        R"({"mime_type":"text/markdown","text":"*x*"})");
  CHECK(inf::encode(inf::part{inf::thinking_part{"hmm", "sig"}}) ==
        R"({"mime_type":"text/x-thinking","text":"hmm","signature":"sig"})");
  CHECK(inf::encode(inf::part{inf::thinking_part{"hmm", std::nullopt}}) == R"({"mime_type":"text/x-thinking","text":"hmm"})");
  CHECK(inf::encode(inf::part{inf::redacted_thinking_part{"b64"}}) ==
        R"({"mime_type":"application/x-redacted-thinking","data":"b64"})");
  CHECK(inf::encode(inf::part{inf::image_part{"image/png", "AAA=", inf::image_source::base64}}) ==
        R"({"mime_type":"image/png","data":"AAA=","source":"base64"})");
  CHECK(inf::encode(inf::part{inf::image_part{"image/jpeg", "https://x/y.jpg", inf::image_source::url}}) ==
        R"({"mime_type":"image/jpeg","data":"https://x/y.jpg","source":"url"})");
}

TEST_CASE("parts round trip, and decoding picks the kind by mime_type") {
  for (const char* text : {R"({"mime_type":"text/plain","text":"hi"})", R"({"mime_type":"text/csv","text":"a,b"})",
                           R"({"mime_type":"text/x-thinking","text":"t","signature":"s"})",
                           R"({"mime_type":"text/x-thinking","text":"t"})",
                           R"({"mime_type":"application/x-redacted-thinking","data":"d"})",
                           R"({"mime_type":"image/png","data":"AAA=","source":"base64"})",
                           R"({"mime_type":"image/webp","data":"http://u","source":"url"})"}) {
    CAPTURE(text);
    check_round_trip(text, inf::part_from_json);
  }
  // Defaults: no mime_type is text/plain; an image without source is base64.
  CHECK(inf::part_from_json(inf::parse_json(R"({"text":"x"})")) == inf::part{inf::text_part{"text/plain", "x"}});
  CHECK(inf::part_from_json(inf::parse_json(R"({"mime_type":"image/gif","data":"R0"})")) ==
        inf::part{inf::image_part{"image/gif", "R0", inf::image_source::base64}});
  // "text/x-thinking-ish" is not exactly the thinking type: plain text.
  CHECK(std::holds_alternative<inf::text_part>(
      inf::part_from_json(inf::parse_json(R"({"mime_type":"text/x-thinkingX","text":"x"})"))));
}

TEST_CASE("part decoding refuses what the contract does not allow") {
  for (const char* text : {R"({"mime_type":"application/pdf","data":"x"})", R"({"mime_type":"audio/wav","data":"x"})",
                           R"({"mime_type":"text/plain"})", R"({"mime_type":"text/plain","text":5})",
                           R"({"mime_type":"image/png"})", R"({"mime_type":"image/png","data":"x","source":"ftp"})",
                           R"({"mime_type":"text/x-thinking","text":"t","signature":1})",
                           R"({"mime_type":"application/x-redacted-thinking"})", R"("text")", R"([])",
                           R"({"mime_type":7,"text":"x"})"}) {
    CAPTURE(text);
    CHECK(errno_from([&] { inf::part_from_json(inf::parse_json(text)); }) == EINVAL);
  }
}

TEST_CASE("messages: exact bytes, content always written, optional members left out") {
  inf::message m{inf::role::assistant, {}, {}, std::nullopt};
  CHECK(inf::encode(m) == R"({"role":"assistant","content":[]})");

  inf::function_call call{"call_1", "get_weather", inf::parse_json(R"({"city":"Paris","days":2})")};
  m.content.push_back(inf::text_part{"text/plain", "Let me look."});
  m.function_calls.push_back(call);
  CHECK(inf::encode(m) ==
        R"({"role":"assistant","content":[{"mime_type":"text/plain","text":"Let me look."}],)"
        R"("function_calls":[{"id":"call_1","name":"get_weather","arguments":{"city":"Paris","days":2}}]})");

  inf::message result{inf::role::function_result, {inf::text_part{"text/plain", "18C"}}, {}, "call_1"};
  CHECK(inf::encode(result) ==
        R"({"role":"function_result","content":[{"mime_type":"text/plain","text":"18C"}],"function_call_id":"call_1"})");
}

TEST_CASE("messages round trip byte for byte, argument key order kept") {
  for (const char* text : {
           R"({"role":"system","content":[{"mime_type":"text/plain","text":"Be brief."}]})",
           R"({"role":"user","content":[{"mime_type":"text/plain","text":"h\u00e9\"\\"},{"mime_type":"image/png","data":"AA==","source":"base64"}]})",
           R"({"role":"assistant","content":[{"mime_type":"text/x-thinking","text":"t","signature":"s"}],"function_calls":[{"id":"a","name":"f","arguments":{"z":1,"a":{"y":[1,2],"b":null}}}]})",
           R"({"role":"function_result","content":[],"function_call_id":"a"})",
       }) {
    CAPTURE(text);
    auto m = inf::message_from_json(inf::parse_json(text));
    // \u00e9 decodes to UTF-8 and is written back raw, so compare decoded.
    CHECK(inf::message_from_json(inf::parse_json(inf::encode(m))) == m);
  }
  std::string exact = R"({"role":"assistant","content":[],"function_calls":[{"id":"a","name":"f","arguments":{"z":1,"a":2}}]})";
  CHECK(inf::encode(inf::message_from_json(inf::parse_json(exact))) == exact);
  std::string utf8 = "{\"role\":\"user\",\"content\":[{\"mime_type\":\"text/plain\",\"text\":\"h\xc3\xa9\"}]}";
  CHECK(inf::encode(inf::message_from_json(inf::parse_json(utf8))) == utf8);
}

TEST_CASE("message decoding: content may be missing, nulls read as absent") {
  auto m = inf::message_from_json(inf::parse_json(R"({"role":"user"})"));
  CHECK(m.content.empty());
  CHECK(inf::encode(m) == R"({"role":"user","content":[]})");
  auto n = inf::message_from_json(inf::parse_json(R"({"content":null,"role":"user","function_call_id":null,"extra":1})"));
  CHECK(n == m);
  auto c = inf::message_from_json(inf::parse_json(R"({"role":"assistant","function_calls":[{"id":"i","name":"n"}]})"));
  REQUIRE(c.function_calls.size() == 1);
  CHECK(c.function_calls[0].arguments == inf::json::object());
}

TEST_CASE("message decoding refuses wrong shapes") {
  for (const char* text : {R"({"content":[]})", R"({"role":"robot"})", R"({"role":1})", R"({"role":"user","content":"hi"})",
                           R"({"role":"user","content":[1]})", R"({"role":"user","function_calls":{}})",
                           R"({"role":"user","function_calls":[{"name":"f"}]})",
                           R"({"role":"user","function_calls":[{"id":"i","name":"f","arguments":"{}"}]})",
                           R"({"role":"user","function_call_id":3})", R"([{"role":"user"}])", R"("user")"}) {
    CAPTURE(text);
    CHECK(errno_from([&] { inf::message_from_json(inf::parse_json(text)); }) == EINVAL);
  }
}

TEST_CASE("parse_json refuses invalid JSON and invalid UTF-8 with EINVAL") {
  CHECK(errno_from([] { inf::parse_json("{"); }) == EINVAL);
  CHECK(errno_from([] { inf::parse_json(""); }) == EINVAL);
  CHECK(errno_from([] { inf::parse_json("[1] x"); }) == EINVAL);
  CHECK(errno_from([] { inf::parse_json("\"\xff\""); }) == EINVAL);
  CHECK(errno_from([] { inf::parse_json("\"\xc3\""); }) == EINVAL);
  CHECK(errno_from([] { inf::parse_json("[1]"); }) == 0);
}

TEST_CASE("tools and tool choice") {
  std::string t = R"({"name":"f","description":"does f","input_schema":{"type":"object","properties":{"b":{},"a":{}}}})";
  check_round_trip(t, inf::tool_from_json);
  CHECK(inf::tool_from_json(inf::parse_json(R"({"name":"f","input_schema":{}})")).description.empty());
  for (const char* bad : {R"({"description":"d","input_schema":{}})", R"({"name":"f"})", R"({"name":"f","input_schema":[]})",
                          R"({"name":"f","description":1,"input_schema":{}})", R"(["f"])"}) {
    CAPTURE(bad);
    CHECK(errno_from([&] { inf::tool_from_json(inf::parse_json(bad)); }) == EINVAL);
  }

  using mode = inf::tool_choice::mode;
  CHECK(inf::tool_choice_from_json(inf::parse_json(R"("auto")")) == inf::tool_choice{mode::auto_, ""});
  CHECK(inf::tool_choice_from_json(inf::parse_json(R"("any")")) == inf::tool_choice{mode::any, ""});
  CHECK(inf::tool_choice_from_json(inf::parse_json(R"("none")")) == inf::tool_choice{mode::none, ""});
  CHECK(inf::tool_choice_from_json(inf::parse_json(R"({"type":"any"})")) == inf::tool_choice{mode::any, ""});
  CHECK(inf::tool_choice_from_json(inf::parse_json(R"({"type":"tool","name":"f"})")) == inf::tool_choice{mode::tool, "f"});
  CHECK(inf::encode(inf::tool_choice{mode::none, ""}) == R"({"type":"none"})");
  CHECK(inf::encode(inf::tool_choice{mode::tool, "f"}) == R"({"type":"tool","name":"f"})");
  for (const char* bad : {R"("tool")", R"("sometimes")", R"({"type":"tool"})", R"({"type":"maybe"})", R"({})", "1", "[]"}) {
    CAPTURE(bad);
    CHECK(errno_from([&] { inf::tool_choice_from_json(inf::parse_json(bad)); }) == EINVAL);
  }
}

TEST_CASE("usage and metadata: unknown counts are null, usage optional") {
  inf::usage u{10, 20, std::nullopt, std::nullopt, std::nullopt};
  CHECK(inf::encode(u) ==
        R"({"input_tokens":10,"output_tokens":20,"cache_read_tokens":null,"cache_write_tokens":null,"reasoning_tokens":null})");
  u.cache_read_tokens = 1;
  u.cache_write_tokens = 2;
  u.reasoning_tokens = 3;
  CHECK(inf::encode(u) ==
        R"({"input_tokens":10,"output_tokens":20,"cache_read_tokens":1,"cache_write_tokens":2,"reasoning_tokens":3})");
  check_round_trip(inf::encode(u), inf::usage_from_json);
  check_round_trip(
      R"({"input_tokens":0,"output_tokens":0,"cache_read_tokens":null,"cache_write_tokens":5,"reasoning_tokens":null})",
      inf::usage_from_json);

  inf::metadata m{"claude-x", inf::stop_reason::tool_use, std::nullopt};
  CHECK(inf::encode(m) == R"({"model":"claude-x","stop_reason":"tool_use"})");
  m.usage = inf::usage{1, 2, std::nullopt, std::nullopt, 7};
  CHECK(inf::encode(m) ==
        R"({"model":"claude-x","stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2,)"
        R"("cache_read_tokens":null,"cache_write_tokens":null,"reasoning_tokens":7}})");
  check_round_trip(inf::encode(m), inf::metadata_from_json);
  for (const char* r : {"end_turn", "max_tokens", "stop_sequence", "tool_use", "content_filter"}) {
    check_round_trip(std::string(R"({"model":"m","stop_reason":")") + r + "\"}", inf::metadata_from_json);
  }
  for (const char* bad : {R"({"model":"m","stop_reason":"done"})", R"({"stop_reason":"end_turn"})",
                          R"({"model":"m","stop_reason":"end_turn","usage":{"input_tokens":1}})",
                          R"({"model":"m","stop_reason":"end_turn","usage":{"input_tokens":-1,"output_tokens":1}})",
                          R"({"model":"m","stop_reason":"end_turn","usage":{"input_tokens":1.5,"output_tokens":1}})",
                          R"({"model":"m","stop_reason":"end_turn","usage":{"input_tokens":18446744073709551615,"output_tokens":1}})"}) {
    CAPTURE(bad);
    CHECK(errno_from([&] { inf::metadata_from_json(inf::parse_json(bad)); }) == EINVAL);
  }
}

TEST_CASE("provider errors: kind, message, optional provider_code; never the errno hint") {
  inf::provider_error e{inf::error_kind::rate_limited, "slow down", "rate_limit_error", ECONNREFUSED};
  CHECK(inf::encode(e) == R"({"kind":"rate_limited","message":"slow down","provider_code":"rate_limit_error"})");
  e.provider_code.reset();
  CHECK(inf::encode(e) == R"({"kind":"rate_limited","message":"slow down"})");
  for (const char* k : {"invalid_request", "authentication", "permission", "context_exceeded", "rate_limited",
                        "insufficient_quota", "server_error", "overloaded", "network_error", "timeout",
                        "content_policy", "unknown"}) {
    check_round_trip(std::string(R"({"kind":")") + k + R"(","message":"m","provider_code":"c"})",
                     inf::provider_error_from_json);
  }
  CHECK(errno_from([] { inf::provider_error_from_json(inf::parse_json(R"({"kind":"oops","message":"m"})")); }) == EINVAL);
  CHECK(errno_from([] { inf::provider_error_from_json(inf::parse_json(R"({"kind":"unknown"})")); }) == EINVAL);
}

TEST_CASE("capabilities: GET_INFO's keys in order") {
  inf::capabilities c;
  c.model = "claude-sonnet-4-5";
  c.provider = "anthropic";
  c.max_context_tokens = 200000;
  c.max_output_tokens = 64000;
  c.supports_thinking = true;
  c.supports_tools = true;
  c.supports_images = true;
  c.supported_output_formats = {inf::format::structured};
  c.supported_stop_reasons = {inf::stop_reason::end_turn, inf::stop_reason::content_filter};
  std::string text =
      R"({"model":"claude-sonnet-4-5","provider":"anthropic","max_context_tokens":200000,"max_output_tokens":64000,)"
      R"("supports_thinking":true,"supports_tools":true,"supports_images":true,"supports_streaming":true,)"
      R"("supported_input_formats":["unstructured","structured"],"supported_output_formats":["structured"],)"
      R"("supported_stop_reasons":["end_turn","content_filter"]})";
  CHECK(inf::encode(c) == text);
  check_round_trip(text, inf::capabilities_from_json);
  std::string bad = text;
  bad.replace(bad.find("\"structured\"]"), 12, "\"xml\"");
  CHECK(errno_from([&] { inf::capabilities_from_json(inf::parse_json(bad)); }) == EINVAL);
}

TEST_CASE("chunks: \"v\":1 first, then type, then the fields") {
  CHECK(inf::encode(inf::chunk{inf::text_delta{"Hel"}}) == R"({"v":1,"type":"text_delta","text":"Hel"})");
  CHECK(inf::encode(inf::chunk{inf::thinking_delta{"So"}}) == R"({"v":1,"type":"thinking_delta","text":"So"})");
  CHECK(inf::encode(inf::chunk{inf::redacted_thinking_delta{"EqQ="}}) ==
        R"({"v":1,"type":"redacted_thinking_delta","data":"EqQ="})");
  CHECK(inf::encode(inf::chunk{inf::tool_call_start{"toolu_1", "get_weather"}}) ==
        R"({"v":1,"type":"tool_call_start","id":"toolu_1","name":"get_weather"})");
  CHECK(inf::encode(inf::chunk{inf::tool_call_delta{"toolu_1", R"({"city": "Pa)"}}) ==
        R"({"v":1,"type":"tool_call_delta","id":"toolu_1","arguments_delta":"{\"city\": \"Pa"})");
  inf::metadata m{"m", inf::stop_reason::end_turn, inf::usage{3, 4, 0, std::nullopt, std::nullopt}};
  CHECK(inf::encode(inf::chunk{inf::complete{m}}) ==
        R"({"v":1,"type":"complete","metadata":{"model":"m","stop_reason":"end_turn","usage":{"input_tokens":3,)"
        R"("output_tokens":4,"cache_read_tokens":0,"cache_write_tokens":null,"reasoning_tokens":null}}})");
}

TEST_CASE("chunks round trip and refuse a missing version or unknown type") {
  for (const char* text : {R"({"v":1,"type":"text_delta","text":"a\nb"})", R"({"v":1,"type":"thinking_delta","text":""})",
                           R"({"v":1,"type":"redacted_thinking_delta","data":"x"})",
                           R"({"v":1,"type":"tool_call_start","id":"i","name":"n"})",
                           R"({"v":1,"type":"tool_call_delta","id":"i","arguments_delta":"{"})",
                           R"({"v":1,"type":"complete","metadata":{"model":"m","stop_reason":"max_tokens"}})"}) {
    CAPTURE(text);
    check_round_trip(text, inf::chunk_from_json);
  }
  for (const char* bad : {R"({"type":"text_delta","text":"a"})", R"({"v":2,"type":"text_delta","text":"a"})",
                          R"({"v":1,"type":"sound","text":"a"})", R"({"v":1,"type":"text_delta"})",
                          R"({"v":1,"type":"complete"})", R"({"v":1,"type":"tool_call_start","id":"i"})"}) {
    CAPTURE(bad);
    CHECK(errno_from([&] { inf::chunk_from_json(inf::parse_json(bad)); }) == EINVAL);
  }
}

TEST_CASE("invalid UTF-8 from a provider is written as U+FFFD, never a throw") {
  CHECK(inf::encode(inf::chunk{inf::text_delta{"a\xff"}}) == "{\"v\":1,\"type\":\"text_delta\",\"text\":\"a\xef\xbf\xbd\"}");
}
