// An incremental parser for Server-Sent Events (the WHATWG "text/event-stream"
// format, as both the Anthropic and the OpenAI streaming APIs send it).
//
// Bytes go in as they arrive from the network, split anywhere (inside a
// line, between a CR and its LF, inside a UTF-8 sequence); complete events
// come out. Lines end with CRLF, LF or CR. "event:" sets the type, "data:"
// lines are joined with "\n", a line starting with ':' is a comment, "id:"
// and "retry:" are ignored (the providers do not use reconnection), and a
// blank line dispatches the event. An event without data is not
// dispatched, and an unfinished event at the end of the stream is dropped
// (the caller decides what a truncated stream means).
//
// Owned by one transfer; not thread-safe (the engine thread feeds it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::llm {

struct SseEvent {
  std::string type = "message";  // the "event:" field, else "message"
  std::string data;              // "data:" lines joined with '\n'

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  // A line or an event longer than `max_bytes` fails the stream, so a
  // broken or hostile server cannot make us buffer without bound.
  explicit SseParser(std::size_t max_bytes = 16u << 20) : max_bytes_(max_bytes) {}

  // Parses `bytes`, appending every event they complete to `out`. Returns
  // false (now and for every later call, with nothing appended) once the
  // size limit was exceeded.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);

  bool failed() const { return failed_; }

 private:
  void line(std::vector<SseEvent>& out);

  std::size_t max_bytes_;
  std::string line_;       // the current line so far, without its end
  SseEvent pending_;       // the event being built
  bool has_data_ = false;  // a data: line was seen (data may be empty)
  bool after_cr_ = false;  // the last byte was a CR: a following LF ends nothing
  bool at_start_ = true;   // a UTF-8 BOM is skipped only at the very start
  std::size_t bom_seen_ = 0;  // BOM bytes matched so far at the start
  bool failed_ = false;
};

}  // namespace bentos::llm
