// What differs between model APIs, behind one interface: how a request is
// written, how its SSE stream is read, and how an error answer is read.
// HttpProvider (http_provider.h) does everything else (the engine,
// retries, limits, cancellation) the same way for every API.
//
// A Wire is owned by the provider, immutable after construction and used
// from any thread (build and error_of run on host threads and on the
// engine thread). A StreamDecoder belongs to one attempt of one call and
// is used only on the engine thread.
#pragma once

#include "http_engine.h"
#include "sse_parser.h"

#include <bentos/inference/provider.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace bentos::llm {

// What one SSE event meant.
struct DecodedEvent {
  std::vector<inference::chunk> chunks;       // output, in order
  std::optional<inference::provider_error> error;  // an error event: the call fails
  bool done = false;                          // the stream's end marker
};

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  virtual void decode(const SseEvent& event, DecodedEvent& out) = 0;
  // The call's metadata once the stream is done (model, stop reason, usage).
  virtual inference::metadata metadata() const = 0;
  // True when the stream so far is a whole answer even without its end
  // marker (some compatible servers end the body after the stop reason).
  virtual bool answered() const = 0;
};

class Wire {
 public:
  virtual ~Wire() = default;
  // The HTTP request for one call (url, headers with the key, JSON body).
  // Throws bentos::error::invalid_argument for a conversation the API
  // cannot express.
  virtual HttpRequest build(const inference::request& r) const = 0;
  virtual std::unique_ptr<StreamDecoder> decoder() const = 0;
  // An HTTP error answer (status >= 300) and its body, classified (§6).
  virtual inference::provider_error error_of(long status, std::string_view body) const = 0;
};

}  // namespace bentos::llm
