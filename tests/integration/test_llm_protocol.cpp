// The llm plugin over the real daemon's socket against mock_llm.py: the
// P4 instantiation of inference.md §2..§5 (config ioctls, queries, input
// and output formats, every chunk type) for both providers.
#include "llm_session.h"

using namespace llm_test;
using bentos::test::DaemonRunner;
using bentos::test::MockLlm;

namespace {

// A stream with every kind of piece the provider can send.
json every_piece(const std::string& stop) {
  return json{{"stop_reason", stop},
              {"usage", {{"input_tokens", 7}, {"output_tokens", 5}, {"cache_read_tokens", 2},
                         {"cache_write_tokens", 3}, {"reasoning_tokens", 1}}},
              {"pieces", json::array({json{{"thinking", "hmm"}, {"signature", "sig"}},
                                      json{{"redacted_thinking", "opaque=="}},
                                      json{{"ping", true}},
                                      json{{"text", "Let me"}},
                                      json{{"text", " check."}},
                                      json{{"tool_call", {{"id", "call_1"}, {"name", "get_weather"}, {"arguments", "{\"city\":"}}}},
                                      json{{"tool_call", {{"id", "call_1"}, {"arguments", "\"Paris\"}"}}}}})}};
}

}  // namespace

TEST_CASE("llm: unstructured in and out, the answer streams as text records, then EOF") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  for (const char* name : {"claude", "local"}) {
    CAPTURE(name);
    mock.script(json{{"pieces", json::array({json{{"text", "Hel"}}, json{{"thinking", "not shown"}}, json{{"text", "lo"}}})}});
    auto c = d.connect(name);
    REQUIRE(c);
    open_session(*c, 1);
    CHECK(ask(*c, 1, "Why is the sky blue?") == std::vector<std::string>{"Hel", "lo", "eof"});
    CHECK(outcome(c->read(1, 100)) == "eof");  // COMPLETE
    json sent = mock.requests().back()["body"];
    // One user message with the text (Anthropic: a text block; OpenAI: a string).
    const json& content = sent["messages"].back()["content"];
    CHECK((content == "Why is the sky blue?" || content[0]["text"] == "Why is the sky blue?"));
  }
}

TEST_CASE("llm: structured output carries every chunk type, exactly (anthropic)") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  mock.script(every_piece("tool_use"));
  auto c = d.connect("claude");
  REQUIRE(c);
  open_session(*c, 1, true);
  std::vector<std::string> records = ask(*c, 1, "weather?");
  CHECK(records == std::vector<std::string>{
                       R"({"v":1,"type":"thinking_delta","text":"hmm"})",
                       R"({"v":1,"type":"redacted_thinking_delta","data":"opaque=="})",
                       R"({"v":1,"type":"text_delta","text":"Let me"})",
                       R"({"v":1,"type":"text_delta","text":" check."})",
                       R"({"v":1,"type":"tool_call_start","id":"call_1","name":"get_weather"})",
                       R"({"v":1,"type":"tool_call_delta","id":"call_1","arguments_delta":"{\"city\":"})",
                       R"({"v":1,"type":"tool_call_delta","id":"call_1","arguments_delta":"\"Paris\"}"})",
                       R"({"v":1,"type":"complete","metadata":{"model":"claude-test","stop_reason":"tool_use","usage":{"input_tokens":7,"output_tokens":5,"cache_read_tokens":2,"cache_write_tokens":3,"reasoning_tokens":null}}})",
                       "eof"});
  CHECK(query_text(*c, 1, kGetMetadata) ==
        R"({"model":"claude-test","stop_reason":"tool_use","usage":{"input_tokens":7,"output_tokens":5,"cache_read_tokens":2,"cache_write_tokens":3,"reasoning_tokens":null}})");
}

TEST_CASE("llm: structured output carries every chunk type, exactly (openai)") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  mock.script(every_piece("tool_use"));  // redacted thinking has no OpenAI form
  auto c = d.connect("local");
  REQUIRE(c);
  open_session(*c, 1, true);
  std::vector<std::string> records = ask(*c, 1, "weather?");
  CHECK(records == std::vector<std::string>{
                       R"({"v":1,"type":"thinking_delta","text":"hmm"})",
                       R"({"v":1,"type":"text_delta","text":"Let me"})",
                       R"({"v":1,"type":"text_delta","text":" check."})",
                       R"({"v":1,"type":"tool_call_start","id":"call_1","name":"get_weather"})",
                       R"({"v":1,"type":"tool_call_delta","id":"call_1","arguments_delta":"{\"city\":"})",
                       R"({"v":1,"type":"tool_call_delta","id":"call_1","arguments_delta":"\"Paris\"}"})",
                       R"({"v":1,"type":"complete","metadata":{"model":"local","stop_reason":"tool_use","usage":{"input_tokens":7,"output_tokens":5,"cache_read_tokens":2,"cache_write_tokens":null,"reasoning_tokens":1}}})",
                       "eof"});
}

TEST_CASE("llm: stop reasons map per provider") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"claude", "end_turn"}, {"claude", "max_tokens"}, {"claude", "stop_sequence"}, {"claude", "tool_use"},
      {"local", "end_turn"},  {"local", "max_tokens"},  {"local", "tool_use"},       {"local", "content_filter"}};
  for (const auto& [name, reason] : cases) {
    CAPTURE(name);
    CAPTURE(reason);
    mock.script(json{{"stop_reason", reason}, {"pieces", json::array({json{{"text", "x"}}})}});
    auto c = d.connect(name);
    REQUIRE(c);
    open_session(*c, 1);
    CHECK(ask(*c, 1, "q") == std::vector<std::string>{"x", "eof"});
    CHECK(query(*c, 1, kGetMetadata)["stop_reason"] == reason);
  }
}

TEST_CASE("llm: structured input, a JSON array or one message per write; bad input answers EINVAL") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  auto c = d.connect("local");
  REQUIRE(c);
  open_session(*c, 1, false, true);
  mock.script(json{{"pieces", json::array({json{{"text", "ok"}}})}});
  const std::string conversation =
      R"([{"role":"user","content":[{"mime_type":"text/plain","text":"hi"}]},)"
      R"({"role":"assistant","content":[{"mime_type":"text/plain","text":"hello"}]},)"
      R"({"role":"user","content":[{"mime_type":"text/plain","text":"again"}]}])";
  // The array split over two writes: the records are concatenated first.
  REQUIRE(outcome(c->write(1, conversation.substr(0, 30))) == "wrote 30");
  CHECK(ask(*c, 1, conversation.substr(30)) == std::vector<std::string>{"ok", "eof"});
  json messages = mock.requests().back()["body"]["messages"];
  CHECK(messages == json::parse(R"([{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},)"
                                R"({"role":"user","content":"again"}])"));

  mock.script(json{{"pieces", json::array({json{{"text", "ok2"}}})}});
  REQUIRE(outcome(c->write(1, R"({"role":"user","content":[{"mime_type":"text/plain","text":"one"}]})")) != "none");
  CHECK(ask(*c, 1, R"({"role":"user","content":[{"mime_type":"text/plain","text":"two"}]})") ==
        std::vector<std::string>{"ok2", "eof"});
  CHECK(mock.requests().back()["body"]["messages"] ==
        json::parse(R"([{"role":"user","content":"one"},{"role":"user","content":"two"}])"));

  const size_t before = mock.requests().size();
  CHECK(ask(*c, 1, "not json") == std::vector<std::string>{"err:EINVAL"});
  CHECK(ask(*c, 1, R"({"role":"user","content":[{"mime_type":"application/pdf","data":"x"}]})") ==
        std::vector<std::string>{"err:EINVAL"});
  CHECK(mock.requests().size() == before);  // the provider was never asked

  auto u = d.connect("local");
  REQUIRE(u);
  open_session(*u, 1);  // unstructured: strict UTF-8
  CHECK(ask(*u, 1, "bad \xff utf-8") == std::vector<std::string>{"err:EINVAL"});
  CHECK(mock.requests().size() == before);
}

TEST_CASE("llm: every config ioctl accepted, every malformed payload EINVAL, config while busy EBUSY") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  auto c = d.connect("claude");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, kRdwr)) == "opened");
  const std::vector<std::pair<uint32_t, std::string>> good = {
      {kSetMaxTokens, le32(100)},
      {kSetTemperature, le64f(0.5)},
      {kSetTopP, le64f(0.9)},
      {kSetStop, R"(["END"])"},
      {kSetThinkingBudget, le32(2048)},
      {kSetInputFormat, std::string(1, '\0')},
      {kSetOutputFormat, std::string(1, '\0')},
      {kSetTools, R"([{"name":"f","description":"d","input_schema":{"type":"object"}}])"},
      {kSetToolChoice, R"({"type":"tool","name":"f"})"},
      {kSetExtra, R"({"metadata":{"user_id":"u1"}})"},
      {kSetSystem, "Be brief."},
      {(1u << 30) | (4u << 16) | kSetMaxTokens, le32(99)},  // _IOW(0, 1, int32)
  };
  for (const auto& [cmd, payload] : good) {
    CAPTURE(cmd);
    CHECK(outcome(c->ioctl(1, cmd, payload)) == "ioctl:0:");
  }
  CHECK(state_of(*c, 1) == 1);  // CONFIGURED
  const std::vector<std::pair<uint32_t, std::string>> bad = {
      {kSetMaxTokens, "\x01\x02"},           {kSetMaxTokens, le32(0)},
      {kSetTemperature, "\0\0\0\0"},         {kSetTopP, le64f(-1.0)},
      {kSetStop, "[1]"},                     {kSetStop, "not json"},
      {kSetThinkingBudget, "\x01"},          {kSetInputFormat, std::string(1, '\x02')},
      {kSetOutputFormat, ""},                {kSetTools, "{}"},
      {kSetToolChoice, R"("sometimes")"},    {kSetExtra, "[]"},
      {kSetSystem, "\xff\xfe"},              {0x0C, ""},  // unknown number: no such query either
      {0x83, ""},
  };
  for (const auto& [cmd, payload] : bad) {
    CAPTURE(cmd);
    CHECK(outcome(c->ioctl(1, cmd, payload)) == "err:EINVAL");
  }
  // The config survived the bad ones: the request shows the good values.
  mock.script(json{{"pieces", json::array({json{{"stall_ms", 400}}, json{{"text", "ok"}}})}});
  REQUIRE(outcome(c->write(1, "q")) == "wrote 1");
  REQUIRE(outcome(c->flush(1)) == "ok");
  CHECK(outcome(c->ioctl(1, kSetMaxTokens, le32(5))) == "err:EBUSY");  // PROCESSING
  CHECK(query(*c, 1, kGetInfo)["provider"] == "anthropic");          // queries: any state
  CHECK(read_all(*c, 1) == std::vector<std::string>{"ok", "eof"});
  json body = mock.requests().back()["body"];
  CHECK(body["max_tokens"] == 99);
  CHECK(body["temperature"] == 0.5);
  CHECK(body["top_p"] == 0.9);
  CHECK(body["stop_sequences"] == json::parse(R"(["END"])"));
  CHECK(body["thinking"] == json::parse(R"({"type":"enabled","budget_tokens":2048})"));
  CHECK(body["tool_choice"] == json::parse(R"({"type":"tool","name":"f"})"));
  CHECK(body["metadata"] == json::parse(R"({"user_id":"u1"})"));
  CHECK(body["system"] == "Be brief.");
}

TEST_CASE("llm: GET_INFO with the device's overrides, GET_METADATA/GET_ERROR lifecycle, RESET clears both") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock, json{{"max_context_tokens", 1000}, {"supports_images", false}}),
                 bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  auto c = d.connect("claude");
  REQUIRE(c);
  REQUIRE(outcome(c->open(1, kRdwr)) == "opened");
  CHECK(query_text(*c, 1, kGetInfo) ==
        R"({"model":"claude-test","provider":"anthropic","max_context_tokens":1000,"max_output_tokens":8192,)"
        R"("supports_thinking":true,"supports_tools":true,"supports_images":false,"supports_streaming":true,)"
        R"("supported_input_formats":["unstructured","structured"],"supported_output_formats":["unstructured","structured"],)"
        R"("supported_stop_reasons":["end_turn","max_tokens","stop_sequence","tool_use"]})");
  CHECK(query(*c, 1, kGetMetadata).dump() == "{}");
  CHECK(query(*c, 1, kGetLastError).dump() == "{}");

  mock.script(json{{"status", 429}});
  CHECK(ask(*c, 1, "q") == std::vector<std::string>{"err:EAGAIN"});
  CHECK(outcome(c->ioctl(1, kGetError)) == "ioctl:11:");  // framework GET_ERROR: the errno
  json err = query(*c, 1, kGetLastError);
  CHECK(err["kind"] == "rate_limited");
  CHECK(err["provider_code"] == "rate_limit_error");
  CHECK(query(*c, 1, kGetMetadata).dump() == "{}");

  mock.script(json{{"pieces", json::array({json{{"text", "fine"}}})}});
  CHECK(ask(*c, 1, "q") == std::vector<std::string>{"fine", "eof"});
  CHECK(query(*c, 1, kGetMetadata)["model"] == "claude-test");
  CHECK(query(*c, 1, kGetLastError)["kind"] == "rate_limited");  // a success does not clear it

  CHECK(outcome(c->ioctl(1, kReset)) == "ioctl:0:");
  CHECK(query(*c, 1, kGetMetadata).dump() == "{}");
  CHECK(query(*c, 1, kGetLastError).dump() == "{}");

  auto l = d.connect("local");
  REQUIRE(l);
  REQUIRE(outcome(l->open(1, kRdwr)) == "opened");
  json info = query(*l, 1, kGetInfo);
  CHECK(info["provider"] == "openai");
  CHECK(info["model"] == "local");
  CHECK(info["supported_stop_reasons"] == json::parse(R"(["end_turn","max_tokens","tool_use","content_filter"])"));
}
