// What the llm plugin sends (inference.md §8), as mock_llm.py recorded it:
// URL, headers and the exact JSON body for both providers.
#include "llm_session.h"

using namespace llm_test;
using bentos::test::DaemonRunner;
using bentos::test::MockLlm;

namespace {

// A conversation with every message shape: system messages, a user turn
// with an image, an assistant turn with thinking, redacted thinking and a
// function call, the function's result, and a function_result without a
// call id.
const char* kConversation = R"([
 {"role":"system","content":[{"mime_type":"text/plain","text":"You are terse."}]},
 {"role":"system","content":[{"mime_type":"text/plain","text":"Answer in French."}]},
 {"role":"user","content":[{"mime_type":"text/plain","text":"What is this?"},
                           {"mime_type":"image/png","data":"iVBORw0KGgo=","source":"base64"}]},
 {"role":"assistant","content":[{"mime_type":"text/x-thinking","text":"think","signature":"sig1"},
                                {"mime_type":"text/x-thinking","text":"unsigned"},
                                {"mime_type":"application/x-redacted-thinking","data":"zzz"},
                                {"mime_type":"text/plain","text":"Let me look."}],
  "function_calls":[{"id":"call_9","name":"lookup","arguments":{"q":"png"}}]},
 {"role":"function_result","content":[{"mime_type":"text/plain","text":"a logo"}],"function_call_id":"call_9"},
 {"role":"function_result","content":[{"mime_type":"text/plain","text":"loose result"}]},
 {"role":"assistant","content":[]}
])";

const char* kTools = R"([{"name":"lookup","description":"Look it up","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}])";

json send_conversation(DaemonRunner& d, MockLlm& mock, const std::string& device, const std::string& tool_choice,
                       bool with_system = false) {
  mock.script(json{{"pieces", json::array({json{{"text", "ok"}}})}});
  auto c = d.connect(device);
  REQUIRE(c);
  open_session(*c, 1, false, true);
  REQUIRE(outcome(c->ioctl(1, kSetTools, kTools)) == "ioctl:0:");
  REQUIRE(outcome(c->ioctl(1, kSetToolChoice, tool_choice)) == "ioctl:0:");
  REQUIRE(outcome(c->ioctl(1, kSetStop, R"(["STOP","END"])")) == "ioctl:0:");
  REQUIRE(outcome(c->ioctl(1, kSetThinkingBudget, le32(1024))) == "ioctl:0:");
  REQUIRE(outcome(c->ioctl(1, kSetExtra, R"({"top_k":5,"stream":false})")) == "ioctl:0:");
  if (with_system) REQUIRE(outcome(c->ioctl(1, kSetSystem, "Configured system.")) == "ioctl:0:");
  CHECK(ask(*c, 1, kConversation) == std::vector<std::string>{"ok", "eof"});
  return mock.requests().back();
}

}  // namespace

TEST_CASE("llm anthropic: URL, headers and the whole body") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock, json{{"default_max_tokens", 333}}), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  json req = send_conversation(d, mock, "claude", R"("any")");
  CHECK(req["path"] == "/v1/messages");
  CHECK(req["headers"]["x-api-key"] == kTestKey);
  CHECK(req["headers"]["anthropic-version"] == "2023-06-01");
  CHECK(req["headers"]["content-type"] == "application/json");
  CHECK_FALSE(req["headers"].contains("authorization"));
  const json expected = json::parse(R"({
    "model":"claude-test","max_tokens":333,"system":"You are terse.\n\nAnswer in French.",
    "messages":[
      {"role":"user","content":[{"type":"text","text":"What is this?"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"think","signature":"sig1"},
        {"type":"thinking","thinking":"unsigned","signature":""},
        {"type":"text","text":"Let me look."},
        {"type":"tool_use","id":"call_9","name":"lookup","input":{"q":"png"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_9","content":[{"type":"text","text":"a logo"}]}]},
      {"role":"user","content":[{"type":"text","text":"loose result"}]},
      {"role":"assistant","content":[{"type":"text","text":""}]}],
    "stream":true,
    "stop_sequences":["STOP","END"],
    "tools":[{"name":"lookup","description":"Look it up","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}],
    "tool_choice":{"type":"any"},
    "thinking":{"type":"enabled","budget_tokens":1024},
    "top_k":5})");
  CHECK(req["body"] == expected);
}

TEST_CASE("llm anthropic: SET_SYSTEM wins over system messages; tool_choice none is not sent") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  json body = send_conversation(d, mock, "claude", R"("none")", true)["body"];
  CHECK(body["system"] == "Configured system.");
  CHECK_FALSE(body.contains("tool_choice"));
  CHECK(body["max_tokens"] == 4096);  // the default default
  body = send_conversation(d, mock, "claude", R"({"type":"auto"})")["body"];
  CHECK(body["tool_choice"] == json::parse(R"({"type":"auto"})"));
}

TEST_CASE("llm openai: URL, no Authorization without a key, and the whole body") {
  MockLlm mock;
  DaemonRunner d(pair_manifest(mock), bentos::test::trust_args(), {}, key_env());
  REQUIRE(d.ready());
  json req = send_conversation(d, mock, "local", R"({"type":"tool","name":"lookup"})");
  CHECK(req["path"] == "/v1/chat/completions");
  CHECK_FALSE(req["headers"].contains("authorization"));
  CHECK_FALSE(req["headers"].contains("x-api-key"));
  const json expected = json::parse(R"({
    "model":"local",
    "messages":[
      {"role":"system","content":"You are terse.\n\nAnswer in French."},
      {"role":"user","content":[{"type":"text","text":"What is this?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
      {"role":"assistant","content":"Let me look.",
       "tool_calls":[{"id":"call_9","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"png\"}"}}]},
      {"role":"tool","tool_call_id":"call_9","content":"a logo"},
      {"role":"user","content":"loose result"},
      {"role":"assistant","content":""}],
    "max_tokens":4096,
    "stream":true,
    "stream_options":{"include_usage":true},
    "stop":["STOP","END"],
    "tools":[{"type":"function","function":{"name":"lookup","description":"Look it up",
              "parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
    "tool_choice":{"type":"function","function":{"name":"lookup"}},
    "top_k":5})");
  CHECK(req["body"] == expected);
  CHECK_FALSE(req["body"].contains("thinking"));  // thinking_budget has no OpenAI form
  json body = send_conversation(d, mock, "local", R"("any")", true)["body"];
  CHECK(body["tool_choice"] == "required");
  CHECK(body["messages"][0] == json::parse(R"({"role":"system","content":"Configured system."})"));
}

TEST_CASE("llm openai: a configured key goes in Authorization: Bearer") {
  MockLlm mock;
  mock.config(json{{"api_key", "sk-openai-test-1"}});
  DaemonRunner d(pair_manifest(mock, json::object(), json{{"api_key_env", "OPENAI_TEST_KEY"}}),
                 bentos::test::trust_args(), {}, {"OPENAI_TEST_KEY=sk-openai-test-1"});
  REQUIRE(d.ready());
  mock.script(json{{"pieces", json::array({json{{"text", "ok"}}})}});
  auto c = d.connect("local");
  REQUIRE(c);
  open_session(*c, 1);
  CHECK(ask(*c, 1, "hi") == std::vector<std::string>{"ok", "eof"});
  CHECK(mock.requests().back()["headers"]["authorization"] == "Bearer sk-openai-test-1");
}
