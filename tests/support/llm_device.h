// The llm plugin in integration tests: where the build put it, whether
// the tests that need it (and the mock provider's python3) can run here,
// and the manifest entry of an llm device that talks to a MockLlm.
//
// Free functions; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bentos::test {

// <build>/plugins/llm.so or <build>/plugins/llm/llm.so; "" when not built.
std::string llm_plugin_path();

// Why the llm tests cannot run here ("" when they can): the llm plugin is
// not built, or python3 (for the mock provider) is not in PATH.
std::string llm_unavailable_reason();

// A manifest device entry (JSON text, for DaemonRunner's array):
// {"name": NAME, "plugin": <llm_plugin_path()>, "config": {"provider":
// PROVIDER, "model": "m", "base_url": BASE_URL} with `extra` merged in}.
std::string llm_device_json(const std::string& name, const std::string& base_url,
                            const nlohmann::json& extra = nlohmann::json::object(),
                            const std::string& provider = "openai");

}  // namespace bentos::test

// Ends the test case with "SKIPPED: <reason>" in its output when the llm
// tests cannot run (include doctest first).
#define SKIP_WITHOUT_LLM()                                              \
  do {                                                                  \
    const std::string why_ = bentos::test::llm_unavailable_reason();    \
    if (!why_.empty()) {                                                \
      MESSAGE("SKIPPED: " << why_);                                     \
      return;                                                           \
    }                                                                   \
  } while (0)
