/*
 * bentos/inference/cycle.hpp - part of the inference subsystem (bentos/inference.hpp).
 * bentos::inference::cycle, the sink of one P4 cycle: it turns the
 * provider's chunks into output records (io.hpp), and its finish/fail
 * into the session's outcomes and the cycle's end.
 *
 * Back-pressure: the host refuses a record (-EAGAIN) while the session's
 * unread output is over max_buffered_bytes. A refused record waits here,
 * in order, and is retried before every later one and when the host says
 * the reader has drained (writable(), from the driver's P4 on_writable,
 * ABI 1.1); a call that is over with records still waiting ends the cycle
 * only once they are all delivered. A reader that lets more than
 * max_pending_bytes pile up here gets ENOBUFS after the records that did
 * fit, and the call is aborted: waiting instead would hold the provider's
 * shared thread, and buffering without bound would let one slow reader
 * take the daemon's memory.
 */
#pragma once

#include "bentos/driver/configured_stream.hpp"
#include "bentos/driver/host.hpp"
#include "bentos/inference/errors.hpp"
#include "bentos/inference/io.hpp"
#include "bentos/inference/outcomes.hpp"
#include "bentos/inference/provider.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace bentos::inference {

// Owned jointly by the driver's session state (to cancel it) and by the
// provider (to feed it). Any thread: a mutex serialises the provider's
// calls with cancel() from a callback thread.
class cycle final : public sink {
 public:
  static constexpr size_t max_pending_bytes = size_t(8) << 20;

  cycle(record_stream out, format output_format, std::shared_ptr<session_outcomes> outcomes, uint64_t generation,
        host_handle host)
      : out_(std::move(out)),
        format_(output_format),
        outcomes_(std::move(outcomes)),
        generation_(generation),
        host_(host) {}

  bool chunk(const inference::chunk& c) override {
    if (std::holds_alternative<complete>(c)) return !over();  // finish() writes it
    std::optional<std::string> record = encode_output(c, format_);
    std::lock_guard lock(mutex_);
    if (over_ || out_.cancelled()) return false;
    if (!record) return true;
    if (put(std::move(*record))) return true;
    over_ = true;
    return false;
  }

  void finish(const metadata& m) override {
    std::optional<std::string> record = encode_output(complete{m}, format_);
    std::lock_guard lock(mutex_);
    if (over_ || out_.cancelled()) return;
    over_ = true;
    if (record && !put(std::move(*record))) return;
    outcomes_->set_metadata(generation_, m);
    end_after_pending(0);
  }

  void fail(const provider_error& e) override {
    std::lock_guard lock(mutex_);
    if (over_ || out_.cancelled()) return;
    over_ = true;
    flush();
    outcomes_->set_error(generation_, e);
    end_after_pending(errno_of(e));
  }

  bool output_started() const override { return started_.load(); }

  // The host drained the session's output (on_writable): deliver what
  // waits, and end the cycle if the call is over and nothing waits now.
  void writable() {
    std::lock_guard lock(mutex_);
    if (out_.cancelled() || !flush()) return;
    if (deferred_end_ && pending_.empty()) {
      out_.end(*deferred_end_);
      deferred_end_.reset();
    }
  }

  // DROP, RESET or release: ignore whatever the provider still sends and
  // let the host forget the stream now.
  void cancel() {
    std::lock_guard lock(mutex_);
    over_ = true;
    pending_.clear();
    out_.end(ECANCELED);
  }

  // process() failed after this cycle was made: the adapter disarmed the
  // stream; make sure nothing is recorded either.
  void disarm() {
    std::lock_guard lock(mutex_);
    over_ = true;
  }

 private:
  bool over() {
    std::lock_guard lock(mutex_);
    return over_;
  }

  // Yields what waits, oldest first. False when the stream is gone
  // (cancelled or ended); true otherwise, even if records still wait.
  bool flush() {
    while (!pending_.empty()) {
      int32_t rc = out_.yield(pending_.front());
      if (rc == -EAGAIN) return true;
      if (rc < 0) return gone();
      started_.store(true);
      pending_bytes_ -= pending_.front().size();
      pending_.pop_front();
    }
    return true;
  }

  // One record, after those that wait. False when the cycle cannot go on
  // (already ended here when that is our doing).
  bool put(std::string record) {
    if (!flush()) return false;
    if (pending_.empty()) {
      int32_t rc = out_.yield(record);
      if (rc == 0) {
        started_.store(true);
        return true;
      }
      if (rc != -EAGAIN) return gone();
    }
    pending_bytes_ += record.size();
    pending_.push_back(std::move(record));
    if (pending_bytes_ <= max_pending_bytes) return true;
    host_.log(log_level::warn, "inference: the reader is too far behind; ending the cycle with ENOBUFS");
    pending_.clear();
    out_.end(ENOBUFS);
    return false;
  }

  bool gone() {
    pending_.clear();
    out_.end(ECANCELED);  // -ESTALE when already over; harmless
    return false;
  }

  // The call is over: end now, or after what waits (writable()).
  void end_after_pending(int errno_value) {
    if (!flush()) return;
    if (!pending_.empty()) {
      deferred_end_ = errno_value;
      return;
    }
    out_.end(errno_value);
  }

  std::mutex mutex_;
  record_stream out_;
  const format format_;
  const std::shared_ptr<session_outcomes> outcomes_;
  const uint64_t generation_;
  const host_handle host_;
  std::deque<std::string> pending_;
  size_t pending_bytes_ = 0;
  std::optional<int> deferred_end_;  // the call is over; end once pending_ is empty
  bool over_ = false;
  std::atomic<bool> started_{false};
};

}  // namespace bentos::inference
