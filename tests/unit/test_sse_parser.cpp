// SseParser: the event-stream grammar (line ends, fields, comments, data
// joining, dispatch rules) and that any split of the input, down to every
// single byte boundary, gives the same events.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sse_parser.h"

using bentos::llm::SseEvent;
using bentos::llm::SseParser;

namespace {

std::vector<SseEvent> parse_whole(std::string_view text) {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser.feed(text, out));
  return out;
}

std::vector<SseEvent> parse_pieces(const std::vector<std::string_view>& pieces) {
  SseParser parser;
  std::vector<SseEvent> out;
  for (auto piece : pieces) REQUIRE(parser.feed(piece, out));
  return out;
}

SseEvent ev(std::string type, std::string data) { return SseEvent{std::move(type), std::move(data)}; }

// A stream with every feature, and the events it must give.
const std::string kStream =
    "\xEF\xBB\xBF"  // a BOM, skipped
    ": a comment\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    "id: 7\n"
    "retry: 1000\n"
    "data:first\n"
    "data:  two spaces\n"
    "data\n"  // no colon: the field is "data", the value empty
    "\n"
    "event: ping\r"
    "data: {}\r"
    "\r"
    "event: only-a-type\n"  // no data: not dispatched, and the type is reset
    "\n"
    "data: after\r\n"
    "unknown: field\r\n"
    "event:\r\n"  // an empty type means "message"
    "\r\n"
    "data: [DONE]\n"
    "\n"
    "data: unfinished, never dispatched\n";

const std::vector<SseEvent> kEvents = {
    ev("message_start", "{\"type\":\"message_start\"}"),
    ev("message", "first\n two spaces\n"),
    ev("ping", "{}"),
    ev("message", "after"),
    ev("message", "[DONE]"),
};

}  // namespace

TEST_CASE("SseParser: fields, comments, line ends and dispatch") {
  CHECK(parse_whole(kStream) == kEvents);
}

TEST_CASE("SseParser: every split into two pieces gives the same events") {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    CAPTURE(cut);
    std::string_view s = kStream;
    CHECK(parse_pieces({s.substr(0, cut), s.substr(cut)}) == kEvents);
  }
}

TEST_CASE("SseParser: every split into three pieces gives the same events") {
  std::string_view s = kStream;
  for (size_t a = 0; a <= s.size(); ++a) {
    for (size_t b = a; b <= s.size(); ++b) {
      const auto got = parse_pieces({s.substr(0, a), s.substr(a, b - a), s.substr(b)});
      if (got != kEvents) {
        CAPTURE(a);
        CAPTURE(b);
        FAIL("split changed the events");
      }
    }
  }
}

TEST_CASE("SseParser: byte by byte") {
  SseParser parser;
  std::vector<SseEvent> out;
  for (char c : kStream) REQUIRE(parser.feed(std::string_view(&c, 1), out));
  CHECK(out == kEvents);
}

TEST_CASE("SseParser: a CR at the end of one piece and the LF at the start of the next are one line end") {
  // Were the LF a line end of its own, the blank line would dispatch
  // "a" early and split one event into two.
  CHECK(parse_pieces({"data: a\r", "\ndata: b\r", "\n\r", "\n"}) == std::vector<SseEvent>{ev("message", "a\nb")});
  // A lone CR followed by a CR is two line ends.
  CHECK(parse_pieces({"data: x\r", "\r"}) == std::vector<SseEvent>{ev("message", "x")});
}

TEST_CASE("SseParser: an empty data line is an event with empty data") {
  CHECK(parse_whole("data:\n\n") == std::vector<SseEvent>{ev("message", "")});
  CHECK(parse_whole("data\n\n") == std::vector<SseEvent>{ev("message", "")});
  CHECK(parse_whole("data:\ndata:\n\n") == std::vector<SseEvent>{ev("message", "\n")});
}

TEST_CASE("SseParser: blank lines alone and comments alone give nothing") {
  CHECK(parse_whole("\n\r\n\r\r\n: keep-alive\n\n:\n\n").empty());
}

TEST_CASE("SseParser: a BOM only at the very start; bytes that look like its start are kept") {
  CHECK(parse_pieces({"\xEF", "\xBB", "\xBF", "data: a\n\n"}) == std::vector<SseEvent>{ev("message", "a")});
  // Not a BOM: "\xEF" then 'd' is the first line's text, an unknown field.
  CHECK(parse_pieces({"\xEF", "data: a\n\n"}).empty());
  // A second BOM is part of the line.
  CHECK(parse_whole("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n").empty());
}

TEST_CASE("SseParser: UTF-8 split inside a character is joined again") {
  const std::string text = "data: gr\xC3\xBC\xC3\x9F" "e\n\n";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CAPTURE(cut);
    CHECK(parse_pieces({std::string_view(text).substr(0, cut), std::string_view(text).substr(cut)}) ==
          std::vector<SseEvent>{ev("message", "gr\xC3\xBC\xC3\x9F" "e")});
  }
}

TEST_CASE("SseParser: a line or event beyond the limit fails the stream for good") {
  SseParser parser(16);
  std::vector<SseEvent> out;
  CHECK(parser.feed("data: 0123456789\n\n", out));  // 16 bytes of line: at the limit
  CHECK(out.size() == 1);
  CHECK_FALSE(parser.feed("data: 0123456789a", out));  // 17 bytes, no line end yet
  CHECK(parser.failed());
  CHECK_FALSE(parser.feed("\n\ndata: x\n\n", out));
  CHECK(out.size() == 1);

  // Many short data lines add up to one too large event.
  SseParser joined(16);
  out.clear();
  CHECK(joined.feed("data: 01234\ndata: 56789\n", out));
  CHECK_FALSE(joined.feed("data: abcde\n", out));
  CHECK(out.empty());
}

TEST_CASE("SseParser: Anthropic and OpenAI streams as sent on the wire") {
  const std::string anthropic =
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n\n"
      "event: ping\ndata: {\"type\": \"ping\"}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const auto a = parse_whole(anthropic);
  REQUIRE(a.size() == 4);
  CHECK(a[1].type == "content_block_delta");
  CHECK(a[3] == ev("message_stop", "{\"type\":\"message_stop\"}"));

  const std::string openai = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n: ping\n\ndata: [DONE]\n\n";
  const auto o = parse_whole(openai);
  REQUIRE(o.size() == 2);
  CHECK(o[0].type == "message");
  CHECK(o[1].data == "[DONE]");
}
