// One provider call: its attempts (the first and its retries), each one
// HTTP transfer on the device's engine, and their output into the sink.
//
// Ownership: a StreamedCall is shared by the transfer handlers of its
// current attempt (engine thread) and by the CallHandle the driver holds
// (host callback threads). The handlers hold the sink until the last
// attempt completes; then the call releases it and its concurrency slot.
//
// Threads: launch() runs on the starting host thread for the first attempt
// and on the engine thread for retries; everything named on_* runs on the
// engine thread; cancel() on any thread and never waits for the network
// or the engine (the abort is queued; the engine closes the connection in
// its next loop turn, and late handler calls see `cancelled_` and drop
// their output).
#pragma once

#include "provider_core.h"
#include "sse_parser.h"
#include "wire.h"

#include <bentos/inference/provider.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace bentos::llm {

class StreamedCall : public std::enable_shared_from_this<StreamedCall> {
 public:
  // Takes one of core->active_calls (the caller counted it) and gives it
  // back when the call is over.
  StreamedCall(std::shared_ptr<ProviderCore> core, HttpRequest request, std::shared_ptr<inference::sink> out);

  // The first attempt. False when the device is closing.
  bool begin();
  void cancel() noexcept;

 private:
  void launch(std::chrono::milliseconds delay);  // with mutex_ held
  void on_response(const HttpResponse& response);
  void on_body(std::string_view bytes);
  void on_complete(const HttpCompletion& completion);
  void abandon_transfer();
  // The error this attempt ended with, or nullopt when it succeeded.
  std::optional<inference::provider_error> outcome(const HttpCompletion& completion);
  bool retry_after_failure(const inference::provider_error& error);
  void over();  // no more attempts: release the sink and the slot

  const std::shared_ptr<ProviderCore> core_;
  const HttpRequest request_;  // every attempt sends the same bytes

  std::mutex mutex_;  // guards cancelled_ (writes), transfer_ and retries_
  std::atomic<bool> cancelled_{false};
  TransferId transfer_ = 0;
  int retries_ = 0;

  // Engine thread only (and launch, before the transfer runs).
  std::shared_ptr<inference::sink> out_;
  long status_ = 0;
  std::optional<std::chrono::milliseconds> retry_after_;
  std::string error_body_;
  std::optional<SseParser> parser_;
  std::unique_ptr<StreamDecoder> decoder_;
  std::optional<inference::provider_error> stream_failure_;
  bool done_ = false;        // the stream's end marker arrived
  bool abandoned_ = false;   // the sink wants no more output
  bool delivered_ = false;   // a chunk went to the sink (no retry after)
  bool over_ = false;
};

// What the driver holds for one call (provider.hpp's `call`). Destroying
// it cancels the call when still running; neither blocks.
class CallHandle final : public inference::call {
 public:
  explicit CallHandle(std::shared_ptr<StreamedCall> c) : call_(std::move(c)) {}
  ~CallHandle() override { call_->cancel(); }
  void cancel() noexcept override { call_->cancel(); }

 private:
  std::shared_ptr<StreamedCall> call_;
};

}  // namespace bentos::llm
