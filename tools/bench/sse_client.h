// The llm-stream scenario's baseline: a minimal streaming HTTP/1.1 + SSE
// client over a plain TCP socket. It sends one OpenAI Chat Completions
// request to the mock provider and hands out each chunk's
// `choices[0].delta.content` as it arrives: what the llm plugin's transport
// does for one stream, without curl, the plugin's thread or the host. The
// floor a chunk's delivery cannot go below on this machine.
//
// Only what the mock sends is understood (a 200 with a chunked body, one
// `data:` line per event); anything else is an error, not a guess.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace bentos::bench {

// The bytes of a response -> content texts. Pure; feed it in any pieces.
// Owned by its SseStream (or a test); one thread.
class SseDecoder {
 public:
  // Appends each non-empty content delta to `texts`. False on a malformed
  // or non-200 response (error() says why).
  bool feed(const char* data, size_t len, std::vector<std::string>& texts);
  // True once `data: [DONE]` or the chunked body's last chunk arrived.
  bool done() const { return done_; }
  const std::string& error() const { return error_; }

 private:
  enum class Stage { head, chunk_size, chunk_data, chunk_end, finished };
  bool head();
  bool body(std::vector<std::string>& texts);
  bool line(const std::string& text, std::vector<std::string>& texts);
  bool fail(std::string why);

  Stage stage_ = Stage::head;
  // Received bytes: in_[pos_, end) not yet consumed. The consumed prefix
  // is dropped once per feed, not per event: a 16 KiB read holds dozens
  // of events, and erasing each from the front would be quadratic.
  std::string in_;
  size_t pos_ = 0;
  size_t chunk_left_ = 0;
  std::string lines_;    // body bytes not yet ending in '\n'
  bool done_ = false;
  std::string error_;
};

// One streaming request on its own connection. Non-blocking after the
// request is sent, so one thread polls many (fd()). Owned by the scenario;
// one thread.
class SseStream {
 public:
  // Connects to 127.0.0.1:port and sends POST /v1/chat/completions with
  // `body`; nullptr with `error` set on failure.
  static std::unique_ptr<SseStream> open(int port, const std::string& body, std::string& error);
  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  int fd() const { return fd_; }
  // Reads what the socket has; appends content deltas to `texts`. False on
  // an error or a connection closed before the stream ended.
  bool receive(std::vector<std::string>& texts, std::string& error);
  bool done() const { return decoder_.done(); }

 private:
  explicit SseStream(int fd) : fd_(fd) {}
  int fd_;
  SseDecoder decoder_;
};

}  // namespace bentos::bench
