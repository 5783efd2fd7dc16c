#include "patterns/configured_stream.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include "patterns/pattern.h"

namespace bentos::patterns {

using wire::Reply;

namespace {

// A plugin's failure code as the positive errno the wire carries. The
// plugin ABI uses negative errnos and end() takes positive ones; accept
// both rather than sending a negative value to the client. INT32_MIN has
// no positive counterpart and is a plugin bug: EIO.
int32_t positive_errno(int32_t code) {
  if (code == std::numeric_limits<int32_t>::min()) return EIO;
  return code < 0 ? -code : code;
}

P4Step answered(Reply reply) {
  P4Step step;
  step.reply = std::move(reply);
  return step;
}

P4Step stale_step() {
  P4Step step;
  step.stale = true;
  return step;
}

}  // namespace

const char* p4_state_name(P4State state) {
  switch (state) {
    case P4State::open: return "OPEN";
    case P4State::configured: return "CONFIGURED";
    case P4State::processing: return "PROCESSING";
    case P4State::streaming: return "STREAMING";
    case P4State::draining: return "DRAINING";
    case P4State::complete: return "COMPLETE";
  }
  return "?";
}

bool is_framework_ioctl(uint32_t cmd) { return ((cmd >> 8) & 0xFFu) == kP4IoctlType; }

ConfiguredStreamMachine::ConfiguredStreamMachine(bool nonblocking, uint64_t max_request_bytes)
    : nonblocking_(nonblocking), max_request_bytes_(max_request_bytes) {}

P4Step ConfiguredStreamMachine::write(std::string_view data) {
  // A stream owns the session until it completes: its input is closed.
  if (state_ == P4State::processing || state_ == P4State::streaming || state_ == P4State::draining) {
    return answered(Reply::error(EBUSY));
  }
  // records_bytes_ never exceeds the bound, so the subtraction is safe. A
  // refused write changes nothing (state and stored error included).
  if (data.size() > max_request_bytes_ - records_bytes_) return answered(Reply::error(EFBIG));
  if (state_ == P4State::complete) error_ = 0;  // a new cycle starts clean
  records_.emplace_back(data);
  records_bytes_ += data.size();
  state_ = P4State::configured;
  return answered(Reply::written(data.size()));
}

P4Step ConfiguredStreamMachine::flush() {
  if (state_ == P4State::configured) {
    return submit(/*by_flush=*/true);  // process_started answers this flush
  }
  return answered(Reply::empty());
}

P4Step ConfiguredStreamMachine::read(uint64_t size, ReadToken token) {
  P4Step step;
  switch (state_) {
    case P4State::open:
      step.reply = Reply::error(EAGAIN);  // nothing submitted, nothing to wait for
      return step;
    case P4State::configured:
      step = submit(/*by_flush=*/false);
      break;  // then park, below
    case P4State::processing:
      break;  // park, below
    case P4State::streaming:
    case P4State::draining:
      if (!output_.empty()) {
        step.reply = deliver_head(size);
        return step;
      }
      if (ended_) {
        // The last record was read earlier; this read sees the end.
        state_ = P4State::complete;
        step.reply = finished_reply();
        return step;
      }
      break;  // empty and still streaming: park, below
    case P4State::complete:
      step.reply = finished_reply();  // sticky until a write
      return step;
  }
  if (!nonblocking_) {
    parked_.push_back(ParkedRead{token, size});
  } else if (step.submit) {
    // §1.7: a non-blocking read that submits waits for process() to
    // return, so a submit that fails at once answers its errno; a submit
    // that starts answers EAGAIN then, unless a record came first.
    parked_.push_back(ParkedRead{token, size});
    nonblocking_submit_ = token;
  } else {
    step.reply = Reply::error(EAGAIN);
  }
  return step;
}

P4Step ConfiguredStreamMachine::process_started(uint64_t cycle, int32_t rc) {
  if (cycle == 0 || cycle != awaiting_start_) return stale_step();
  awaiting_start_ = 0;
  P4Step step;
  if (flush_triggered_) step.reply = rc < 0 ? Reply::error(positive_errno(rc)) : Reply::empty();
  // DROP/RESET/end_session came first: the flush still gets its one
  // answer, but the cancelled cycle has nothing left to change.
  if (cycle != cycle_) {
    step.stale = true;
    return step;
  }
  if (rc < 0) {
    // [fix] the SDK stays in PROCESSING for ever; the host gives the
    // session back so the client can reconfigure and retry. The records
    // were consumed by the failed submit and are not restored.
    cancel_cycle();
    state_ = P4State::configured;
    answer_all_parked(Reply::error(positive_errno(rc)), step.answers);
  } else if (nonblocking_submit_) {
    // The stream started and no record has served the non-blocking read
    // that submitted it: it would block, so it answers EAGAIN now.
    for (auto it = parked_.begin(); it != parked_.end(); ++it) {
      if (it->token != *nonblocking_submit_) continue;
      step.answers.push_back(ParkedAnswer{it->token, Reply::error(EAGAIN)});
      parked_.erase(it);
      break;
    }
  }
  nonblocking_submit_.reset();
  return step;
}

P4Step ConfiguredStreamMachine::yield(uint64_t cycle, std::string_view record) {
  if (!accepting(cycle)) return stale_step();
  P4Step step;
  // [fix] a zero-length record would read as EOF; it is dropped and does
  // not count as the stream's first record either.
  if (record.empty()) return step;
  output_.emplace_back(record);
  output_bytes_ += record.size();
  if (state_ == P4State::processing) state_ = P4State::streaming;
  serve_parked(step.answers);
  return step;
}

P4Step ConfiguredStreamMachine::end(uint64_t cycle, int32_t error) {
  // ended_ makes a second end stale, which is what keeps on_drain to once
  // per cycle.
  if (!accepting(cycle)) return stale_step();
  P4Step step;
  ended_ = true;
  error_ = positive_errno(error);
  step.drain = true;
  if (output_.empty()) {
    state_ = P4State::complete;
    answer_all_parked(finished_reply(), step.answers);
  } else {
    state_ = P4State::draining;
    serve_parked(step.answers);
  }
  return step;
}

P4Step ConfiguredStreamMachine::framework_ioctl(uint32_t cmd) {
  if (!is_framework_ioctl(cmd)) return answered(Reply::error(EINVAL));
  P4Step step;
  switch (static_cast<P4Ioctl>(cmd & 0xFFu)) {
    case P4Ioctl::get_state:
      step.reply = Reply::ioctl_result(static_cast<int32_t>(state_));
      return step;
    case P4Ioctl::drain:
      // An acknowledgement only: on_drain belongs to the stream's end.
      if (state_ == P4State::open || state_ == P4State::configured) {
        step.reply = Reply::error(EINVAL);
      } else {
        step.reply = Reply::ioctl_result(0);
      }
      return step;
    case P4Ioctl::drop:
      if (state_ != P4State::processing && state_ != P4State::streaming && state_ != P4State::draining) {
        step.reply = Reply::error(EINVAL);
        return step;
      }
      // The config lives in the session layer and is untouched; the
      // records went to process() and are not restored.
      cancel_cycle();
      state_ = P4State::configured;
      step.cancel = true;
      answer_all_parked(Reply::bytes({}), step.answers);  // [fix] EOF
      step.reply = Reply::ioctl_result(0);
      return step;
    case P4Ioctl::reset:
      // As DROP in the states DROP accepts (PROCESSING, STREAMING,
      // DRAINING): the plugin hears on_cancel, even for a stream that has
      // ended but still has records queued (§6 RESET).
      step.cancel = cycle_active();
      cancel_cycle();
      records_.clear();
      records_bytes_ = 0;
      state_ = P4State::open;
      step.reset_config = true;
      answer_all_parked(Reply::bytes({}), step.answers);  // [fix] EOF
      step.reply = Reply::ioctl_result(0);
      return step;
    case P4Ioctl::get_error:
      if (state_ == P4State::complete) {
        step.reply = Reply::ioctl_result(error_);
      } else {
        step.reply = Reply::error(EINVAL);
      }
      return step;
  }
  step.reply = Reply::error(EINVAL);  // any other nr of type 0xBE
  return step;
}

bool ConfiguredStreamMachine::config_writable() const {
  return state_ == P4State::open || state_ == P4State::configured;
}

void ConfiguredStreamMachine::config_stored() {
  if (state_ == P4State::open) state_ = P4State::configured;
}

uint32_t ConfiguredStreamMachine::poll() const {
  switch (state_) {
    case P4State::open:
    case P4State::configured: return kPollOut;
    case P4State::processing: return 0;
    case P4State::streaming:
    case P4State::draining: return output_.empty() ? 0 : kPollIn;
    case P4State::complete: return kPollIn;  // [fix] a read answers at once
  }
  return 0;
}

P4Step ConfiguredStreamMachine::end_session(bool answer_parked) {
  P4Step step;
  step.cancel = stream_in_flight();
  cancel_cycle();
  records_.clear();
  records_bytes_ = 0;
  state_ = P4State::open;
  if (answer_parked) {
    answer_all_parked(Reply::error(EIO), step.answers);  // [fix] release
  } else {
    parked_.clear();  // disconnect: nobody is left to answer
  }
  return step;
}

P4Step ConfiguredStreamMachine::submit(bool by_flush) {
  P4Step step;
  step.submit = true;
  step.records = std::move(records_);
  records_.clear();
  records_bytes_ = 0;
  output_.clear();
  head_offset_ = 0;
  output_bytes_ = 0;
  error_ = 0;
  ended_ = false;
  cycle_ = next_cycle_++;
  awaiting_start_ = cycle_;
  flush_triggered_ = by_flush;
  nonblocking_submit_.reset();
  step.cycle = cycle_;
  state_ = P4State::processing;
  return step;
}

void ConfiguredStreamMachine::cancel_cycle() {
  cycle_ = 0;  // every later yield/end of the old cycle is stale
  ended_ = false;
  output_.clear();
  head_offset_ = 0;
  output_bytes_ = 0;
  error_ = 0;
}

bool ConfiguredStreamMachine::accepting(uint64_t cycle) const {
  return cycle != 0 && cycle == cycle_ && !ended_;
}

void ConfiguredStreamMachine::serve_parked(ParkedAnswers& answers) {
  while (!parked_.empty() && !output_.empty()) {
    const ParkedRead read = parked_.front();
    parked_.pop_front();
    answers.push_back(ParkedAnswer{read.token, deliver_head(read.size)});
  }
  // Reads still waiting on an ended, empty stream see its end.
  if (!parked_.empty() && ended_ && output_.empty()) {
    state_ = P4State::complete;
    answer_all_parked(finished_reply(), answers);
  }
}

Reply ConfiguredStreamMachine::deliver_head(uint64_t size) {
  // One record per read, never merged; a record longer than `size` is
  // split and its rest stays at the head for the next read.
  const std::string& head = output_.front();
  const size_t remaining = head.size() - head_offset_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, size));
  Reply reply = Reply::bytes(head.substr(head_offset_, n));
  head_offset_ += n;
  output_bytes_ -= n;
  if (head_offset_ == head.size()) {
    output_.pop_front();
    head_offset_ = 0;
  }
  return reply;
}

Reply ConfiguredStreamMachine::finished_reply() const {
  return error_ != 0 ? Reply::error(error_) : Reply::bytes({});
}

void ConfiguredStreamMachine::answer_all_parked(const Reply& reply, ParkedAnswers& answers) {
  for (const ParkedRead& read : parked_) answers.push_back(ParkedAnswer{read.token, reply});
  parked_.clear();
}

}  // namespace bentos::patterns
