#include "sse_parser.h"

namespace bentos::llm {

namespace {
constexpr char kBom[] = "\xEF\xBB\xBF";
}

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) return false;
  std::size_t i = 0;
  // The BOM may arrive split over several feeds; bytes that turn out not
  // to be one are the start of the first line.
  while (at_start_ && i < bytes.size()) {
    if (bytes[i] != kBom[bom_seen_]) {
      line_.append(kBom, bom_seen_);
      at_start_ = false;
      break;
    }
    ++i;
    if (++bom_seen_ == 3) at_start_ = false;
  }
  while (i < bytes.size()) {
    const char c = bytes[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {  // the LF of a CRLF split from its CR
        ++i;
        continue;
      }
    }
    // Copy the run up to the next line end in one go, not byte by byte.
    const std::size_t end = bytes.find_first_of("\r\n", i);
    const std::size_t stop = end == std::string_view::npos ? bytes.size() : end;
    line_.append(bytes.substr(i, stop - i));
    if (line_.size() + pending_.data.size() > max_bytes_) {
      failed_ = true;
      return false;
    }
    if (end == std::string_view::npos) break;
    after_cr_ = bytes[end] == '\r';
    i = end + 1;
    line(out);
  }
  return true;
}

void SseParser::line(std::vector<SseEvent>& out) {
  std::string_view text = line_;
  if (text.empty()) {
    if (has_data_) {
      if (pending_.type.empty()) pending_.type = "message";
      out.push_back(std::move(pending_));
    }
    pending_ = SseEvent{};
    has_data_ = false;
  } else if (text.front() != ':') {  // ':' starts a comment
    const std::size_t colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = text.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
      pending_.type.assign(value);
    } else if (field == "data") {
      if (has_data_) pending_.data.push_back('\n');
      pending_.data.append(value);
      has_data_ = true;
    }
    // "id", "retry" and unknown fields: ignored.
  }
  line_.clear();
}

}  // namespace bentos::llm
