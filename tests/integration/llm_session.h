// Shared by the llm integration tests: a daemon serving llm devices that
// point at one MockLlm, and small helpers to drive a session over the
// device socket (open, ioctls, write, read every record).
//
// Owned by one test; its thread only.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon_runner.h"
#include "mock_llm.h"
#include "outcome.h"

namespace llm_test {

using json = nlohmann::json;
using bentos::test::outcome;

constexpr int32_t kRdwr = 2;
constexpr uint32_t kGetState = 0xBE00, kDrop = 0xBE02, kReset = 0xBE03, kGetError = 0xBE04;
constexpr uint32_t kSetMaxTokens = 0x01, kSetTemperature = 0x02, kSetTopP = 0x03, kSetStop = 0x04,
                   kSetThinkingBudget = 0x05, kSetInputFormat = 0x06, kSetOutputFormat = 0x07, kSetTools = 0x08,
                   kSetToolChoice = 0x09, kSetExtra = 0x0A, kSetSystem = 0x0B;
constexpr uint32_t kGetMetadata = 0x80, kGetLastError = 0x81, kGetInfo = 0x82;

inline std::string le32(int32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff);
  return s;
}

inline std::string le64f(double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return s;
}

// One llm device's manifest entry pointing at the mock.
inline json device(const std::string& name, const std::string& provider, const bentos::test::MockLlm& mock,
                   json extra = json::object()) {
  json config = {{"provider", provider}, {"model", provider == "anthropic" ? "claude-test" : "local"},
                 {"base_url", mock.base_url()}, {"max_retries", 0}};
  for (auto& [k, v] : extra.items()) config[k] = v;
  return json{{"name", name}, {"plugin", "llm.so"}, {"config", config}};
}

// The usual pair: "claude" (anthropic, key from ANTHROPIC_TEST_KEY) and
// "local" (openai, no key).
inline std::string pair_manifest(const bentos::test::MockLlm& mock, json claude_extra = json::object(),
                                 json local_extra = json::object()) {
  json claude_cfg = {{"api_key_env", "ANTHROPIC_TEST_KEY"}};
  for (auto& [k, v] : claude_extra.items()) claude_cfg[k] = v;
  return json::array({device("claude", "anthropic", mock, claude_cfg), device("local", "openai", mock, local_extra)})
      .dump();
}

constexpr const char* kTestKey = "sk-ant-test-7f3a9c1e55d2";

inline std::vector<std::string> key_env() { return {std::string("ANTHROPIC_TEST_KEY=") + kTestKey}; }

// A query's JSON answer ("ioctl:0:" replies carry the bytes in data).
inline json query(bentos::client::Connection& c, uint64_t fh, uint32_t cmd) {
  auto r = c.ioctl(fh, cmd);
  REQUIRE(r);
  REQUIRE(r->kind == bentos::wire::ReplyKind::ioctl);
  return json::parse(r->data);
}

// A query's exact bytes (to check key order and spacing).
inline std::string query_text(bentos::client::Connection& c, uint64_t fh, uint32_t cmd) {
  auto r = c.ioctl(fh, cmd);
  REQUIRE(r);
  REQUIRE(r->kind == bentos::wire::ReplyKind::ioctl);
  return r->data;
}

inline int state_of(bentos::client::Connection& c, uint64_t fh) {
  auto r = c.ioctl(fh, kGetState);
  return r && r->kind == bentos::wire::ReplyKind::ioctl ? r->result : -1;
}

// Reads records until EOF or an error: the records, then "eof" or "err:E...".
inline std::vector<std::string> read_all(bentos::client::Connection& c, uint64_t fh, int timeout_ms = 10000) {
  std::vector<std::string> out;
  for (int i = 0; i < 1000; ++i) {
    const std::string o = outcome(c.read(fh, 65536, timeout_ms));
    if (o.rfind("data:", 0) != 0) {
      out.push_back(o);
      return out;
    }
    out.push_back(o.substr(5));
  }
  out.push_back("...");
  return out;
}

// Structured output records as JSON (the last element, the end, dropped
// into `end`).
inline std::vector<json> chunks_of(const std::vector<std::string>& records, std::string& end) {
  std::vector<json> out;
  for (size_t i = 0; i + 1 < records.size(); ++i) out.push_back(json::parse(records[i]));
  end = records.empty() ? "" : records.back();
  return out;
}

inline void open_session(bentos::client::Connection& c, uint64_t fh, bool structured_out = false,
                         bool structured_in = false) {
  REQUIRE(outcome(c.open(fh, kRdwr)) == "opened");
  if (structured_out) REQUIRE(outcome(c.ioctl(fh, kSetOutputFormat, std::string(1, '\x01'))) == "ioctl:0:");
  if (structured_in) REQUIRE(outcome(c.ioctl(fh, kSetInputFormat, std::string(1, '\x01'))) == "ioctl:0:");
}

// Writes `input` and reads the whole answer.
inline std::vector<std::string> ask(bentos::client::Connection& c, uint64_t fh, const std::string& input) {
  REQUIRE(outcome(c.write(fh, input)) == "wrote " + std::to_string(input.size()));
  return read_all(c, fh);
}

inline long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace llm_test
