#include "openai_wire.h"

#include "provider_errors.h"
#include "request_parts.h"

#include <bentos/inference/json.hpp>

#include <map>
#include <variant>

namespace bentos::llm {

namespace {

using inference::json;

// Text only: a plain string (what every compatible server reads); with
// images: the array form with image_url parts (base64 as a data: URL).
json content_json(const inference::message& m) {
  if (!has_images(m)) return plain_text(m);
  json parts = json::array();
  for (const inference::part& p : m.content) {
    if (const auto* t = std::get_if<inference::text_part>(&p)) {
      parts.push_back(json{{"type", "text"}, {"text", t->text}});
    } else if (const auto* img = std::get_if<inference::image_part>(&p)) {
      std::string url = img->source == inference::image_source::base64
                            ? "data:" + img->mime_type + ";base64," + img->data
                            : img->data;
      parts.push_back(json{{"type", "image_url"}, {"image_url", json{{"url", std::move(url)}}}});
    }
  }
  return parts;
}

json message_json(const inference::message& m) {
  json o = json::object();
  if (m.role == inference::role::function_result && m.function_call_id) {
    o["role"] = "tool";
    o["tool_call_id"] = *m.function_call_id;
    o["content"] = plain_text(m);
    return o;
  }
  if (m.role != inference::role::assistant) {
    o["role"] = "user";
    o["content"] = content_json(m);
    return o;
  }
  o["role"] = "assistant";
  std::string text = plain_text(m);
  // The API wants null content beside tool calls when there is no text.
  o["content"] = text.empty() && !m.function_calls.empty() ? json(nullptr) : json(text);
  if (!m.function_calls.empty()) {
    json calls = json::array();
    for (const inference::function_call& c : m.function_calls) {
      calls.push_back(json{{"id", c.id},
                           {"type", "function"},
                           {"function", json{{"name", c.name}, {"arguments", inference::dump(c.arguments)}}}});
    }
    o["tool_calls"] = std::move(calls);
  }
  return o;
}

json tool_choice_json(const inference::tool_choice& c) {
  switch (c.kind) {
    case inference::tool_choice::mode::any: return "required";
    case inference::tool_choice::mode::none: return "none";
    case inference::tool_choice::mode::tool:
      return json{{"type", "function"}, {"function", json{{"name", c.name}}}};
    default: return "auto";
  }
}

inference::stop_reason stop_reason_of(std::string_view s) {
  if (s == "length") return inference::stop_reason::max_tokens;
  if (s == "tool_calls" || s == "function_call") return inference::stop_reason::tool_use;
  if (s == "content_filter") return inference::stop_reason::content_filter;
  return inference::stop_reason::end_turn;  // "stop" and anything new
}

std::optional<int64_t> count(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string text_member(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One stream's state: tool calls by their index in delta.tool_calls and
// the metadata being gathered.
class OpenAiDecoder final : public StreamDecoder {
 public:
  explicit OpenAiDecoder(std::string model) { meta_.model = std::move(model); }

  void decode(const SseEvent& event, DecodedEvent& out) override {
    if (event.data == "[DONE]") {
      out.done = true;
      return;
    }
    json v = json::parse(event.data, nullptr, false);
    if (v.is_discarded() || !v.is_object()) return;
    if (v.contains("error")) {
      out.error = stream_error(error_fields(v), true);
      return;
    }
    if (std::string model = text_member(v, "model"); !model.empty()) meta_.model = model;
    if (auto u = v.find("usage"); u != v.end() && u->is_object()) usage(*u);
    auto choices = v.find("choices");
    if (choices == v.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) return;
    const json& choice = (*choices)[0];
    if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) delta(*d, out);
    if (std::string finish = text_member(choice, "finish_reason"); !finish.empty()) {
      meta_.stop_reason = stop_reason_of(finish);
      finished_ = true;
    }
  }

  inference::metadata metadata() const override { return meta_; }
  bool answered() const override { return finished_; }

 private:
  void delta(const json& d, DecodedEvent& out) {
    // reasoning_content: llama.cpp, DeepSeek, vLLM; reasoning: Ollama, newer vLLM.
    for (const char* key : {"reasoning_content", "reasoning"}) {
      if (std::string t = text_member(d, key); !t.empty()) out.chunks.push_back(inference::thinking_delta{t});
    }
    if (std::string t = text_member(d, "content"); !t.empty()) out.chunks.push_back(inference::text_delta{t});
    auto calls = d.find("tool_calls");
    if (calls == d.end() || !calls->is_array()) return;
    for (const json& tc : *calls) {
      if (!tc.is_object()) continue;
      const int index = tc.value("index", 0);
      const json fn = tc.value("function", json::object());
      auto known = tool_ids_.find(index);
      if (known == tool_ids_.end()) {
        std::string id = text_member(tc, "id");
        if (id.empty()) id = "call_" + std::to_string(index);  // some local servers send none
        known = tool_ids_.emplace(index, id).first;
        out.chunks.push_back(inference::tool_call_start{id, text_member(fn, "name")});
      }
      if (std::string args = text_member(fn, "arguments"); !args.empty()) {
        out.chunks.push_back(inference::tool_call_delta{known->second, std::move(args)});
      }
    }
  }

  void usage(const json& u) {
    inference::usage usage;
    usage.input_tokens = count(u, "prompt_tokens").value_or(0);
    usage.output_tokens = count(u, "completion_tokens").value_or(0);
    if (auto p = u.find("prompt_tokens_details"); p != u.end() && p->is_object()) {
      usage.cache_read_tokens = count(*p, "cached_tokens");
    }
    if (auto c = u.find("completion_tokens_details"); c != u.end() && c->is_object()) {
      usage.reasoning_tokens = count(*c, "reasoning_tokens");
    }
    meta_.usage = usage;
  }

  inference::metadata meta_;
  std::map<int, std::string> tool_ids_;
  bool finished_ = false;
};

}  // namespace

json OpenAiWire::body(const inference::request& r) const {
  const inference::inference_config& c = r.config;
  json b = json::object();
  b["model"] = settings_.model;
  json messages = json::array();
  if (auto system = system_prompt(r)) messages.push_back(json{{"role", "system"}, {"content", *system}});
  for (const inference::message& m : r.messages) {
    if (m.role != inference::role::system) messages.push_back(message_json(m));
  }
  b["messages"] = std::move(messages);
  b["max_tokens"] = c.max_tokens.value_or(settings_.default_max_tokens);
  b["stream"] = true;
  b["stream_options"] = json{{"include_usage", true}};
  if (c.temperature) b["temperature"] = *c.temperature;
  if (c.top_p) b["top_p"] = *c.top_p;
  if (c.stop) b["stop"] = *c.stop;
  if (c.tools) {
    json tools = json::array();
    for (const inference::tool& t : *c.tools) {
      tools.push_back(json{{"type", "function"},
                           {"function", json{{"name", t.name}, {"description", t.description}, {"parameters", t.input_schema}}}});
    }
    b["tools"] = std::move(tools);
  }
  if (c.tool_choice) b["tool_choice"] = tool_choice_json(*c.tool_choice);
  // thinking_budget has no Chat Completions form: not sent.
  if (c.extra) {
    for (const auto& [key, value] : c.extra->items()) b[key] = value;
  }
  b["stream"] = true;
  return b;
}

HttpRequest OpenAiWire::build(const inference::request& r) const {
  HttpRequest h;
  h.url = settings_.base_url + "/v1/chat/completions";
  h.headers = {"Content-Type: application/json", "Accept: text/event-stream"};
  if (key_) h.headers.push_back("Authorization: Bearer " + *key_);
  h.body = inference::dump(body(r));
  h.connect_timeout_ms = settings_.connect_timeout_ms;
  h.idle_timeout_ms = settings_.idle_timeout_ms;
  return h;
}

std::unique_ptr<StreamDecoder> OpenAiWire::decoder() const { return std::make_unique<OpenAiDecoder>(settings_.model); }

inference::provider_error OpenAiWire::error_of(long status, std::string_view body) const {
  return http_error(status, error_fields(body), true);
}

}  // namespace bentos::llm
