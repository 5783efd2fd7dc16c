#include "anthropic_wire.h"

#include "provider_errors.h"
#include "request_parts.h"

#include <bentos/inference/json.hpp>

#include <map>
#include <variant>

namespace bentos::llm {

namespace {

using inference::json;

json image_block(const inference::image_part& img) {
  json source = json::object();
  if (img.source == inference::image_source::base64) {
    source["type"] = "base64";
    source["media_type"] = img.mime_type;
    source["data"] = img.data;
  } else {
    source["type"] = "url";
    source["url"] = img.data;
  }
  return json{{"type", "image"}, {"source", std::move(source)}};
}

// A message's parts as content blocks; redacted thinking is dropped (it
// cannot be sent back without the provider's own framing).
json part_blocks(const inference::message& m) {
  json blocks = json::array();
  for (const inference::part& p : m.content) {
    if (const auto* t = std::get_if<inference::text_part>(&p)) {
      blocks.push_back(json{{"type", "text"}, {"text", t->text}});
    } else if (const auto* th = std::get_if<inference::thinking_part>(&p)) {
      blocks.push_back(json{{"type", "thinking"}, {"thinking", th->text}, {"signature", th->signature.value_or("")}});
    } else if (const auto* img = std::get_if<inference::image_part>(&p)) {
      blocks.push_back(image_block(*img));
    }
  }
  return blocks;
}

json message_json(const inference::message& m) {
  json blocks = json::array();
  if (m.role == inference::role::function_result && m.function_call_id) {
    json inner = part_blocks(m);
    blocks.push_back(json{{"type", "tool_result"}, {"tool_use_id", *m.function_call_id}, {"content", std::move(inner)}});
  } else {
    blocks = part_blocks(m);
  }
  if (m.role == inference::role::assistant) {
    for (const inference::function_call& c : m.function_calls) {
      blocks.push_back(json{{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", c.arguments}});
    }
  }
  if (blocks.empty()) blocks.push_back(json{{"type", "text"}, {"text", ""}});
  const char* role = m.role == inference::role::assistant ? "assistant" : "user";
  return json{{"role", role}, {"content", std::move(blocks)}};
}

json tool_choice_json(const inference::tool_choice& c) {
  switch (c.kind) {
    case inference::tool_choice::mode::any: return json{{"type", "any"}};
    case inference::tool_choice::mode::tool: return json{{"type", "tool"}, {"name", c.name}};
    default: return json{{"type", "auto"}};
  }
}

inference::stop_reason stop_reason_of(std::string_view s) {
  if (s == "max_tokens") return inference::stop_reason::max_tokens;
  if (s == "stop_sequence") return inference::stop_reason::stop_sequence;
  if (s == "tool_use") return inference::stop_reason::tool_use;
  if (s == "refusal") return inference::stop_reason::content_filter;
  return inference::stop_reason::end_turn;  // end_turn, pause_turn, anything new
}

std::optional<int64_t> count(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// One stream's state: the content blocks seen so far (tool call ids by
// block index) and the metadata being gathered.
class AnthropicDecoder final : public StreamDecoder {
 public:
  explicit AnthropicDecoder(std::string model) { meta_.model = std::move(model); }

  void decode(const SseEvent& event, DecodedEvent& out) override {
    json v = json::parse(event.data, nullptr, false);
    if (v.is_discarded() || !v.is_object()) return;  // not ours to judge: skip
    const std::string type = v.value("type", event.type);
    if (type == "message_start") {
      start(v.value("message", json::object()));
    } else if (type == "content_block_start") {
      block_start(v.value("index", -1), v.value("content_block", json::object()), out);
    } else if (type == "content_block_delta") {
      block_delta(v.value("index", -1), v.value("delta", json::object()), out);
    } else if (type == "message_delta") {
      message_delta(v);
    } else if (type == "message_stop") {
      out.done = true;
    } else if (type == "error") {
      out.error = stream_error(error_fields(v), false);
    }
    // ping, content_block_stop and unknown events carry nothing for us.
  }

  inference::metadata metadata() const override { return meta_; }
  bool answered() const override { return stopped_; }

 private:
  void start(const json& message) {
    if (auto it = message.find("model"); it != message.end() && it->is_string()) meta_.model = it->get<std::string>();
    auto u = message.find("usage");
    if (u == message.end() || !u->is_object()) return;
    inference::usage usage;
    usage.input_tokens = count(*u, "input_tokens").value_or(0);
    usage.output_tokens = count(*u, "output_tokens").value_or(0);
    usage.cache_read_tokens = count(*u, "cache_read_input_tokens");
    usage.cache_write_tokens = count(*u, "cache_creation_input_tokens");
    meta_.usage = usage;
  }

  void block_start(int index, const json& block, DecodedEvent& out) {
    const std::string type = block.value("type", "");
    if (type == "tool_use") {
      std::string id = block.value("id", "");
      tool_ids_[index] = id;
      out.chunks.push_back(inference::tool_call_start{id, block.value("name", "")});
    } else if (type == "redacted_thinking") {
      out.chunks.push_back(inference::redacted_thinking_delta{block.value("data", "")});
    } else if (type == "text") {
      if (std::string text = block.value("text", ""); !text.empty()) out.chunks.push_back(inference::text_delta{text});
    } else if (type == "thinking") {
      if (std::string text = block.value("thinking", ""); !text.empty()) {
        out.chunks.push_back(inference::thinking_delta{text});
      }
    }
  }

  void block_delta(int index, const json& delta, DecodedEvent& out) {
    const std::string type = delta.value("type", "");
    if (type == "text_delta") {
      out.chunks.push_back(inference::text_delta{delta.value("text", "")});
    } else if (type == "thinking_delta") {
      out.chunks.push_back(inference::thinking_delta{delta.value("thinking", "")});
    } else if (type == "input_json_delta") {
      std::string piece = delta.value("partial_json", "");
      if (!piece.empty()) out.chunks.push_back(inference::tool_call_delta{tool_ids_[index], std::move(piece)});
    }
    // signature_delta: the contract's chunks have no place for it.
  }

  void message_delta(const json& v) {
    if (auto d = v.find("delta"); d != v.end() && d->is_object()) {
      if (auto r = d->find("stop_reason"); r != d->end() && r->is_string()) {
        meta_.stop_reason = stop_reason_of(r->get<std::string>());
        stopped_ = true;
      }
    }
    if (auto u = v.find("usage"); u != v.end() && u->is_object()) {
      inference::usage usage = meta_.usage.value_or(inference::usage{});
      if (auto n = count(*u, "output_tokens")) usage.output_tokens = *n;
      if (auto n = count(*u, "input_tokens")) usage.input_tokens = *n;
      meta_.usage = usage;
    }
  }

  inference::metadata meta_;
  std::map<int, std::string> tool_ids_;
  bool stopped_ = false;  // a message_delta gave the stop reason
};

}  // namespace

json AnthropicWire::body(const inference::request& r) const {
  const inference::inference_config& c = r.config;
  json b = json::object();
  b["model"] = settings_.model;
  b["max_tokens"] = c.max_tokens.value_or(settings_.default_max_tokens);
  if (auto system = system_prompt(r)) b["system"] = *system;
  json messages = json::array();
  for (const inference::message& m : r.messages) {
    if (m.role != inference::role::system) messages.push_back(message_json(m));
  }
  b["messages"] = std::move(messages);
  b["stream"] = true;
  if (c.temperature) b["temperature"] = *c.temperature;
  if (c.top_p) b["top_p"] = *c.top_p;
  if (c.stop) b["stop_sequences"] = *c.stop;
  if (c.tools) {
    json tools = json::array();
    for (const inference::tool& t : *c.tools) tools.push_back(inference::to_json(t));
    b["tools"] = std::move(tools);
  }
  if (c.tool_choice && c.tool_choice->kind != inference::tool_choice::mode::none) {
    b["tool_choice"] = tool_choice_json(*c.tool_choice);
  }
  if (c.thinking_budget) b["thinking"] = json{{"type", "enabled"}, {"budget_tokens", *c.thinking_budget}};
  if (c.extra) {
    for (const auto& [key, value] : c.extra->items()) b[key] = value;
  }
  b["stream"] = true;  // extra may not turn streaming off: the decoder needs it
  return b;
}

HttpRequest AnthropicWire::build(const inference::request& r) const {
  HttpRequest h;
  h.url = settings_.base_url + "/v1/messages";
  h.headers = {"content-type: application/json", "accept: text/event-stream", "anthropic-version: 2023-06-01"};
  if (key_) h.headers.push_back("x-api-key: " + *key_);
  h.body = inference::dump(body(r));
  h.connect_timeout_ms = settings_.connect_timeout_ms;
  h.idle_timeout_ms = settings_.idle_timeout_ms;
  return h;
}

std::unique_ptr<StreamDecoder> AnthropicWire::decoder() const {
  return std::make_unique<AnthropicDecoder>(settings_.model);
}

inference::provider_error AnthropicWire::error_of(long status, std::string_view body) const {
  return http_error(status, error_fields(body), false);
}

}  // namespace bentos::llm
