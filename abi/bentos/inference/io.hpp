/*
 * bentos/inference/io.hpp - part of the inference subsystem (bentos/inference.hpp).
 * A cycle's input records -> the conversation (inference.md §4), and one
 * output chunk -> at most one output record (§5), for both formats.
 * Pure functions: any thread.
 */
#pragma once

#include "bentos/driver/configured_stream.hpp"
#include "bentos/driver/errors.hpp"
#include "bentos/inference/json.hpp"
#include "bentos/inference/types.hpp"
#include "bentos/inference/utf8.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bentos::inference {

// unstructured: the records concatenated, strict UTF-8, become one user
// message with one text/plain part (empty input: empty text).
// structured: the concatenation parsed as a JSON array is the message list;
// otherwise each record must be one JSON message object. A conversation
// without any message is refused too: no provider accepts one.
// Every failure throws bentos::error::invalid_argument (EINVAL).
inline std::vector<message> decode_input(const record_list& records, format fmt) {
  std::string joined;
  for (std::string_view r : records) joined += r;
  if (fmt == format::unstructured) {
    if (!valid_utf8(joined)) throw error::invalid_argument("inference: the input is not valid UTF-8");
    return {message{role::user, {text_part{"text/plain", std::move(joined)}}, {}, std::nullopt}};
  }
  std::vector<message> out;
  json whole = json::parse(joined, nullptr, false);
  if (!whole.is_discarded() && whole.is_array()) {
    for (const json& m : whole) out.push_back(message_from_json(m));
  } else {
    for (std::string_view r : records) out.push_back(message_from_json(parse_json(r)));
  }
  if (out.empty()) throw error::invalid_argument("inference: the conversation has no message");
  return out;
}

// The record a chunk becomes, or nullopt for none. structured: its compact
// JSON. unstructured: a text_delta's text; nothing for every other chunk
// (thinking stays out of the answer text; structured output carries it).
inline std::optional<std::string> encode_output(const chunk& c, format fmt) {
  if (fmt == format::structured) return encode(c);
  // An empty text would be a zero-length record, which is never delivered.
  if (const auto* t = std::get_if<text_delta>(&c); t && !t->text.empty()) return t->text;
  return std::nullopt;
}

}  // namespace bentos::inference
