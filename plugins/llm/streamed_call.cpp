#include "streamed_call.h"

#include "provider_errors.h"

#include <bentos/inference/errors.hpp>
#include <bentos/inference/names.hpp>

#include <random>
#include <vector>

namespace bentos::llm {

namespace {

// A provider's error body is read for its message only: a little is enough.
constexpr size_t max_error_body = 64u << 10;

double jitter() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.5, 1.0)(rng);
}

}  // namespace

StreamedCall::StreamedCall(std::shared_ptr<ProviderCore> core, HttpRequest request, std::shared_ptr<inference::sink> out)
    : core_(std::move(core)), request_(std::move(request)), out_(std::move(out)) {}

bool StreamedCall::begin() {
  std::lock_guard lock(mutex_);
  launch(std::chrono::milliseconds(0));
  return transfer_ != 0;
}

void StreamedCall::launch(std::chrono::milliseconds delay) {
  status_ = 0;
  retry_after_.reset();
  error_body_.clear();
  parser_.reset();
  decoder_.reset();
  stream_failure_.reset();
  done_ = false;
  HttpRequest r = request_;
  r.start_delay = delay;
  // The handlers keep this call (and so the sink) alive until on_complete.
  auto self = shared_from_this();
  HttpHandler h;
  h.on_response = [self](const HttpResponse& response) { self->on_response(response); };
  h.on_body = [self](std::string_view bytes) { self->on_body(bytes); };
  h.on_complete = [self](const HttpCompletion& completion) { self->on_complete(completion); };
  TransferId id = 0;
  transfer_ = core_->start(std::move(r), std::move(h), id) ? id : 0;
}

void StreamedCall::cancel() noexcept {
  TransferId id = 0;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_.exchange(true)) return;
    id = transfer_;
  }
  if (id != 0) core_->cancel_soon(id);
}

void StreamedCall::on_response(const HttpResponse& response) {
  status_ = response.status;
  if (status_ >= 200 && status_ < 300) {
    parser_.emplace();
    decoder_ = core_->wire->decoder();
  } else {
    retry_after_ = response.retry_after();
  }
}

void StreamedCall::abandon_transfer() {
  std::lock_guard lock(mutex_);
  core_->cancel_from_handler(transfer_);
}

void StreamedCall::on_body(std::string_view bytes) {
  if (cancelled_.load() || abandoned_ || stream_failure_) return;
  if (!decoder_) {
    const size_t room = max_error_body - std::min(max_error_body, error_body_.size());
    error_body_.append(bytes.substr(0, room));
    return;
  }
  std::vector<SseEvent> events;
  if (!parser_->feed(bytes, events)) {
    stream_failure_ = inference::provider_error{inference::error_kind::unknown,
                                                "the provider sent an oversized stream event", std::nullopt, std::nullopt};
    abandon_transfer();
    return;
  }
  for (const SseEvent& e : events) {
    DecodedEvent d;
    decoder_->decode(e, d);
    for (const inference::chunk& c : d.chunks) {
      delivered_ = true;
      if (cancelled_.load() || !out_->chunk(c)) {
        // Nobody reads on: stop paying for tokens.
        abandoned_ = true;
        abandon_transfer();
        return;
      }
    }
    if (d.error) {
      stream_failure_ = std::move(d.error);
      abandon_transfer();
      return;
    }
    if (d.done) done_ = true;
  }
}

std::optional<inference::provider_error> StreamedCall::outcome(const HttpCompletion& completion) {
  const std::string& endpoint = core_->settings.base_url;
  if (stream_failure_) return stream_failure_;
  if (done_) return std::nullopt;  // the end marker came: a late transport error does not matter
  if (!completion.ok()) return transport_error(completion, endpoint, request_.idle_timeout_ms);
  if (status_ >= 300 || status_ < 200) return core_->wire->error_of(status_, error_body_);
  if (decoder_ && decoder_->answered()) return std::nullopt;
  return inference::provider_error{inference::error_kind::network_error,
                                   "the stream from " + endpoint + " ended before the answer was complete",
                                   std::nullopt, std::nullopt};
}

bool StreamedCall::retry_after_failure(const inference::provider_error& error) {
  if (!inference::retryable(error.kind) || delivered_ || out_->output_started()) return false;
  std::lock_guard lock(mutex_);
  if (cancelled_.load() || retries_ >= core_->settings.max_retries) return false;
  std::optional<std::chrono::milliseconds> delay = retry_delay(core_->retry, retries_, jitter(), retry_after_);
  if (!delay) return false;
  ++retries_;
  core_->host.log(bentos::log_level::info,
                  std::string(inference::name(error.kind)) + " (" + error.message + "); retry " +
                      std::to_string(retries_) + " of " + std::to_string(core_->settings.max_retries) + " in " +
                      std::to_string(delay->count()) + " ms");
  launch(*delay);
  return transfer_ != 0;
}

void StreamedCall::on_complete(const HttpCompletion& completion) {
  if (over_) return;
  if (cancelled_.load() || abandoned_) {
    over();
    return;
  }
  std::optional<inference::provider_error> error = outcome(completion);
  if (!error) {
    out_->finish(decoder_->metadata());
    over();
    return;
  }
  error->message = redact(error->message, core_->key.key);
  if (error->provider_code) error->provider_code = redact(*error->provider_code, core_->key.key);
  // A cancelled transfer that we did not abort ourselves (after an error
  // event) was stopped by the engine's shutdown: nothing to retry then.
  const bool engine_stopped = completion.error == HttpError::cancelled && !stream_failure_;
  if (!engine_stopped && retry_after_failure(*error)) return;
  out_->fail(*error);
  over();
}

void StreamedCall::over() {
  over_ = true;
  out_.reset();
  decoder_.reset();
  core_->active_calls.fetch_sub(1);
}

}  // namespace bentos::llm
