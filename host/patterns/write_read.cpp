#include "patterns/write_read.h"

#include <algorithm>
#include <cerrno>

#include "patterns/pattern.h"

namespace bentos::patterns {

using wire::Reply;

const char* write_read_state_name(WriteReadMachine::State state) {
  switch (state) {
    case WriteReadMachine::State::idle: return "IDLE";
    case WriteReadMachine::State::accumulating: return "ACCUMULATING";
    case WriteReadMachine::State::processing: return "PROCESSING";
    case WriteReadMachine::State::response_ready: return "RESPONSE_READY";
  }
  return "?";
}

Reply WriteReadMachine::write(std::string_view data) {
  if (state_ == State::processing || state_ == State::response_ready) return Reply::error(EBUSY);
  if (data.size() > max_request_bytes_ - std::min<uint64_t>(input_.size(), max_request_bytes_)) {
    return Reply::error(EFBIG);  // [fix] bounded request; nothing appended
  }
  input_.append(data);
  state_ = State::accumulating;
  eof_window_ = false;  // a write ends the EOF window
  return Reply::written(data.size());
}

WriteReadStep WriteReadMachine::flush() {
  if (state_ == State::accumulating) return submit(Trigger::flush, 0);
  WriteReadStep step;
  step.reply = Reply::empty();
  return step;
}

WriteReadStep WriteReadMachine::read(uint64_t size) {
  WriteReadStep step;
  switch (state_) {
    case State::accumulating:
      return submit(Trigger::read, size);
    case State::response_ready:
      step.reply = deliver(size);
      return step;
    case State::processing:
      step.reply = Reply::error(EAGAIN);
      return step;
    case State::idle:
      if (eof_window_) {
        eof_window_ = false;
        step.reply = Reply::bytes({});
      } else {
        step.reply = Reply::error(EAGAIN);
      }
      return step;
  }
  step.reply = Reply::error(EIO);
  return step;
}

void WriteReadMachine::recycle(std::string&& request_buffer) {
  if (!input_.empty() || request_buffer.capacity() <= input_.capacity()) return;
  request_buffer.clear();
  input_.swap(request_buffer);
}

uint32_t WriteReadMachine::poll() const {
  switch (state_) {
    case State::idle:
    case State::accumulating: return kPollOut;
    case State::processing: return 0;
    case State::response_ready: return kPollIn;
  }
  return 0;
}

WriteReadStep WriteReadMachine::submit(Trigger trigger, uint64_t read_size) {
  WriteReadStep step;
  step.submit = true;
  step.request = std::move(input_);
  input_.clear();
  state_ = State::processing;
  trigger_ = trigger;
  trigger_size_ = read_size;
  return step;
}

Reply WriteReadMachine::deliver(uint64_t size) {
  const size_t remaining = response_.size() - delivered_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, size));
  const bool finished = n == remaining;
  // A read that takes the whole response (the common case) takes the
  // buffer itself rather than a copy.
  Reply reply = finished && delivered_ == 0 ? Reply::bytes(std::move(response_))
                                            : Reply::bytes(response_.substr(delivered_, n));
  delivered_ += n;
  if (finished) {
    response_.clear();
    delivered_ = 0;
    state_ = State::idle;
    eof_window_ = true;
  }
  return reply;
}

Reply WriteReadMachine::complete(Completion answer) {
  if (state_ != State::processing) return Reply::error(EIO);  // no submit awaits an answer
  if (answer.kind != Completion::Kind::bytes) {
    state_ = State::idle;
    if (answer.kind == Completion::Kind::error && answer.err > 0) return Reply::error(answer.err);
    return Reply::error(EIO);
  }
  response_ = std::move(answer.data);
  delivered_ = 0;
  state_ = State::response_ready;
  if (trigger_ == Trigger::flush) return Reply::empty();
  return deliver(trigger_size_);
}

}  // namespace bentos::patterns
