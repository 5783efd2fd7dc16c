// llm: language models as P4 configured-stream devices (/dev/llm/...), per
// the contract in the project's inference.md. One device per manifest
// entry, each with its own provider (Anthropic Messages or OpenAI Chat
// Completions, the latter also for local llama.cpp / Ollama / vLLM
// servers) and its own HTTP engine thread; everything P4 and inference
// (config ioctls, queries, input and output formats, last_metadata and
// last_error, cancellation) is bentos::inference::driver's.
//
// Manifest config (see settings.h and docs/writing-a-driver.md):
//   provider "anthropic" | "openai", model (required), base_url,
//   api_key_file | api_key_credential | api_key_env, default_max_tokens,
//   max_retries, connect_timeout_ms, idle_timeout_ms,
//   max_concurrent_calls, and GET_INFO overrides (max_context_tokens, ...).
//
// Threads: the driver's callbacks run on the host's loop thread and never
// wait for the network; each device's HTTP engine thread runs every
// transfer of that device.

#include <bentos/inference.hpp>

#include "http_provider.h"

namespace {

// One device instance; owned by the host (through the adapter) from
// create to destroy.
class llm_driver : public bentos::inference::driver {
 public:
  llm_driver(const bentos::device_config& c, bentos::host_handle h) : driver(h, bentos::llm::make_provider(c, h)) {}
};

}  // namespace

BENTOS_CONFIGURED_STREAM_DRIVER(llm_driver, "llm", "1.0.0", "language models: Anthropic and OpenAI-compatible APIs");
