#include "request_parts.h"

#include <variant>

namespace bentos::llm {

std::optional<std::string> system_prompt(const inference::request& r) {
  if (r.config.system) return r.config.system;
  std::optional<std::string> out;
  for (const inference::message& m : r.messages) {
    if (m.role != inference::role::system) continue;
    for (const inference::part& p : m.content) {
      const auto* t = std::get_if<inference::text_part>(&p);
      if (!t) continue;
      if (out) {
        *out += "\n\n";
        *out += t->text;
      } else {
        out = t->text;
      }
    }
  }
  return out;
}

std::string plain_text(const inference::message& m) {
  std::string out;
  for (const inference::part& p : m.content) {
    if (const auto* t = std::get_if<inference::text_part>(&p)) out += t->text;
  }
  return out;
}

bool has_images(const inference::message& m) {
  for (const inference::part& p : m.content) {
    if (std::holds_alternative<inference::image_part>(p)) return true;
  }
  return false;
}

}  // namespace bentos::llm
