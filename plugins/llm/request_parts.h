// Request building shared by both APIs: the system prompt rule of
// inference.md §8 and the text of a message.
//
// Pure functions: any thread.
#pragma once

#include <bentos/inference/provider.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bentos::llm {

// The system prompt of a call: the config's `system` when set, else the
// text parts of every system-role message joined with a blank line;
// nullopt when there is none.
std::optional<std::string> system_prompt(const inference::request& r);

// The text parts of a message, concatenated (thinking left out).
std::string plain_text(const inference::message& m);

bool has_images(const inference::message& m);

}  // namespace bentos::llm
