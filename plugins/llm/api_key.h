// The device's API key, read once when the device is created.
//
// A key that is configured but absent (file missing or empty, variable
// unset, credential missing) does not stop the device: it starts, and
// every call answers EACCES with `missing_reason` as GET_ERROR's message
// (inference.md §6). A key file that group or others may read, or that
// exists but cannot be read, is a configuration error: the device is
// refused (bentos::error::invalid_argument) with a message that names the
// file, never its content.
//
// Value type; built on the host's thread at create, read by any thread.
// The key is never logged, never part of an error or a reply.
#pragma once

#include "settings.h"

#include <optional>
#include <string>

namespace bentos::llm {

struct ApiKey {
  std::optional<std::string> key;  // the secret, trimmed of surrounding whitespace
  std::string missing_reason;      // why there is none, when one is needed
};

// Reads the key `source` names. `needs_key`: a device without any key
// source needs one (Anthropic) or sends none (an OpenAI-compatible local
// server).
ApiKey load_api_key(const KeySource& source, bool needs_key);

}  // namespace bentos::llm
